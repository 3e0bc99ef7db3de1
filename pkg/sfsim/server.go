package sfsim

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a simulated org. The zero value is usable: every
// empty field takes the default named in its comment.
type Options struct {
	// ClientID and ClientSecret identify the connected app that the OAuth
	// token endpoint accepts. Default to "sfsim-client" and
	// "sfsim-secret".
	ClientID     string
	ClientSecret string
	// Username, Password and SecurityToken are the credentials of the
	// integration user for the password flows, which expect the password
	// followed by the security token. Default to
	// "integration@sfsap.example", "sfsim-password" and no token.
	Username      string
	Password      string
	SecurityToken string
	// JWTCertificate is the connected app's certificate. When set, the
	// token endpoint accepts the JWT bearer flow (GrantTypeJWT) with
	// assertions signed by the certificate's RSA key.
	JWTCertificate *x509.Certificate
	// JWTAudiences are further aud values a JWT assertion may name, such
	// as https://login.salesforce.com. The server's URL is always
	// accepted.
	JWTAudiences []string
	// JWTMaxLifetime is the latest exp a JWT assertion may have, from
	// now. Defaults to 3 minutes, the limit Salesforce is reported to
	// apply.
	JWTMaxLifetime time.Duration
	// UserID is the integration user's id: tokens of every flow belong to
	// this user, so it becomes the commitUser of writes made through the
	// REST API. Defaults to DefaultIntegrationUserID.
	UserID string
	// APIVersions lists the API versions served, such as "60.0". Empty
	// means every version of the form NN.N.
	APIVersions []string
	// TokenLifetime is how long a session stays valid after its last
	// use, like a Salesforce session timeout. Defaults to 2 hours.
	TokenLifetime time.Duration
	// DailyAPILimit is the number of data API calls allowed before the
	// simulator returns REQUEST_LIMIT_EXCEEDED. Defaults to 100000. Usage
	// never resets by itself, so tests call SetAPIUsage to reset it.
	DailyAPILimit int
	// QueryBatchSize is the number of records in one page of a query
	// result. Defaults to 2000, the Salesforce maximum.
	QueryBatchSize int
	// CustomFields adds Account fields to the standard ones and to those
	// sfsap uses by default (see account.DefaultFields), for tests that
	// configure other custom field names.
	CustomFields []string
	// BaseURL is the URL clients reach the server under, returned as
	// instance_url. Defaults to the listener's http://127.0.0.1:port
	// address, or to the Host of each request when the server runs
	// through Handler instead of Start.
	BaseURL string
	// Logger receives the simulator's own errors. Defaults to discarding
	// them.
	Logger *slog.Logger
	// Latency is added to every data API request, as the time Salesforce
	// takes to serve it. Login and CometD requests are not delayed.
	// Defaults to 0. SetLatency changes it while the server runs.
	Latency time.Duration
}

// DefaultIntegrationUserID is the user that tokens are issued to when
// Options.UserID is empty.
const DefaultIntegrationUserID = "005Hx00000IntUsIAJ"

// ErrInvalidSession reports a missing, unknown or expired access token.
var ErrInvalidSession = errors.New("sfsim: session expired or invalid")

func (o Options) withDefaults() Options {
	set := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	set(&o.ClientID, "sfsim-client")
	set(&o.ClientSecret, "sfsim-secret")
	set(&o.Username, "integration@sfsap.example")
	set(&o.Password, "sfsim-password")
	set(&o.UserID, DefaultIntegrationUserID)
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = 2 * time.Hour
	}
	if o.DailyAPILimit <= 0 {
		o.DailyAPILimit = 100_000
	}
	if o.JWTMaxLifetime <= 0 {
		o.JWTMaxLifetime = 3 * time.Minute
	}
	if o.QueryBatchSize <= 0 {
		o.QueryBatchSize = 2000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	return o
}

// Server is a simulated Salesforce org that serves the login endpoints and
// the instance on one host, so instance_url is the server's own URL.
type Server struct {
	opts   Options
	store  *Store
	mux    *http.ServeMux
	faults *Faults

	mu       sync.Mutex
	httpSrv  *http.Server
	url      string
	sessions map[string]*session
	grants   map[string]GrantFunc
	calls    map[string]int
	apiUsed  int
	cursors  map[string]*queryCursor
	cursorN  int64
	fieldSet *fieldCache
	latency  atomic.Int64
}

// New returns a server over an empty Store. Call Start to listen, or
// serve Handler yourself.
func New(opts Options) *Server {
	s := &Server{
		opts:     opts.withDefaults(),
		store:    NewStore(),
		mux:      http.NewServeMux(),
		faults:   &Faults{},
		sessions: map[string]*session{},
		calls:    map[string]int{},
		cursors:  map[string]*queryCursor{},
	}
	s.latency.Store(int64(s.opts.Latency))
	s.grants = map[string]GrantFunc{
		"client_credentials": s.clientCredentialsGrant,
		"password":           s.passwordGrant,
	}
	if s.opts.JWTCertificate != nil {
		s.grants[GrantTypeJWT] = s.jwtGrant
	}
	s.mux.HandleFunc("POST /services/oauth2/token", s.handleToken)
	s.mux.HandleFunc("GET /services/oauth2/userinfo", s.handleUserInfo)
	s.mux.HandleFunc("POST /services/Soap/u/{version}", s.handleSOAPLogin)
	s.mux.HandleFunc("/services/data/", s.handleData)
	return s
}

// Store returns the simulated org's data.
func (s *Server) Store() *Store { return s.store }

// Faults returns the fault injection rules applied to incoming requests.
func (s *Server) Faults() *Faults { return s.faults }

// Handle mounts an extra handler, such as the CometD endpoint, on the
// server's mux, with http.ServeMux pattern syntax. Call it before Start.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
}

// Handler returns the server's HTTP handler: request counting and fault
// injection around every mounted endpoint.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// Start listens on addr, 127.0.0.1:0 when empty, and serves in the
// background until Close.
func (s *Server) Start(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("starting Salesforce simulator on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
	}
	s.mu.Lock()
	s.httpSrv = srv
	s.url = "http://" + ln.Addr().String()
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.opts.Logger.Error("Salesforce simulator stopped serving", "error", err)
		}
	}()
	return nil
}

// URL returns the server's base URL, such as http://127.0.0.1:41234, or
// Options.BaseURL when set. It is empty before Start unless BaseURL is set.
func (s *Server) URL() string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Close stops the server and drops open connections, including held
// long polls.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.httpSrv
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// instanceURL returns the URL that tokens name as instance_url.
func (s *Server) instanceURL(r *http.Request) string {
	if u := s.URL(); u != "" {
		return u
	}
	return "http://" + r.Host
}

// Names of request kinds in Calls.
const (
	CallToken           = "POST oauth2/token"
	CallUserInfo        = "GET oauth2/userinfo"
	CallSOAPLogin       = "POST soap/login"
	CallQuery           = "GET query"
	CallQueryMore       = "GET query/next"
	CallGetAccount      = "GET sobjects/Account/{id}"
	CallCreateAccount   = "POST sobjects/Account"
	CallUpdateAccount   = "PATCH sobjects/Account/{id}"
	CallDeleteAccount   = "DELETE sobjects/Account/{id}"
	CallCompositeUpdate = "PATCH composite/sobjects"
)

// Calls returns how many requests of each kind the server received,
// keyed by method and path kind (the Call constants). Other paths are
// counted under the method and their first path segment, such as
// "POST cometd".
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// ResetCalls sets every request counter back to zero.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}

// APIUsage returns the data API calls counted so far and the daily limit.
func (s *Server) APIUsage() (used, limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiUsed, s.opts.DailyAPILimit
}

// SetAPIUsage sets the number of data API calls counted so far, for
// tests of the daily limit.
func (s *Server) SetAPIUsage(used int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiUsed = used
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls[callKind(r.Method, r.URL.Path)]++
	s.mu.Unlock()

	// Data API requests meet their faults after authentication, in
	// handleData, so that only valid sessions see injected errors.
	if !strings.HasPrefix(r.URL.Path, dataPrefix) {
		if f, ok := s.faults.take(r.Method, r.URL.Path, ""); ok {
			if !s.applyFault(w, r, f, endpointFormat(r.URL.Path), s.mux.ServeHTTP) {
				return
			}
		}
	}
	s.mux.ServeHTTP(w, r)
}

const dataPrefix = "/services/data/"

func callKind(method, path string) string {
	switch {
	case path == "/services/oauth2/token":
		return CallToken
	case path == "/services/oauth2/userinfo":
		return CallUserInfo
	case strings.HasPrefix(path, "/services/Soap/u/"):
		return CallSOAPLogin
	case strings.HasPrefix(path, dataPrefix):
		_, rest, _ := strings.Cut(strings.TrimPrefix(path, dataPrefix), "/")
		return method + " " + dataKind(rest)
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return method + " " + first
}

// dataKind names the resource of a data API path relative to the version.
func dataKind(rel string) string {
	parts := strings.Split(strings.TrimSuffix(rel, "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "query":
		return "query"
	case len(parts) == 2 && parts[0] == "query":
		return "query/next"
	case len(parts) == 2 && parts[0] == "sobjects":
		return "sobjects/" + parts[1]
	case len(parts) == 3 && parts[0] == "sobjects":
		return "sobjects/" + parts[1] + "/{id}"
	}
	return strings.Join(parts, "/")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeAPIError writes a REST error array with one element. A nil fields
// slice leaves the key out, and an empty one is written as [].
func writeAPIError(w http.ResponseWriter, status int, code, message string, fields []string) {
	e := map[string]any{"message": message, "errorCode": code}
	if fields != nil {
		e["fields"] = fields
	}
	writeJSON(w, status, []any{e})
}

func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(io.LimitReader(r, 32<<20))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}
