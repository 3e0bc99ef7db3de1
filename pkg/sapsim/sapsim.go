// Package sapsim simulates the parts of an SAP ECC system that sfsap
// uses, over the real wire protocol. It serves the SOAP-RFC handler at
// /sap/bc/soap/rfc with Basic authentication. Behind it run the customer
// BAPIs, the transaction commit and rollback BAPIs, and the two Z function
// modules that sfsap's ECC adapter calls. Creates are checked as the BAPI
// checks them: required fields, lengths, country, region and postal code
// rules, and the reference customer per sales area. They are buffered
// until a commit.
//
// The same server also simulates S/4HANA's OData V2 service
// API_BUSINESS_PARTNER below ODataServicePath, with CSRF tokens, and a
// REST gateway below RESTServicesPath (see odata.go and restgw.go).
// Creates through every path land in one customer master.
//
// Tests drive faults through the Inject and Set methods and inspect the
// resulting customer master through Customers, CountByExternalRef and
// Calls.
package sapsim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// HandlerPath is the path of the SOAP-RFC handler.
const HandlerPath = "/sap/bc/soap/rfc"

// SessionCookie is the cookie that binds requests to a stateful ABAP
// session.
//
// NOTE: the name is unconfirmed. sap-contextid is the name commonly given
// for the cookie of SAP's stateful web service sessions.
const SessionCookie = "sap-contextid"

const maxRequestBytes = 8 << 20

// Options configures a Server. Zero fields take the defaults named in
// their comments.
type Options struct {
	// User and Password are the only credentials that Basic authentication
	// accepts. An empty User turns authentication off.
	User     string
	Password string
	// SystemID is the three-character system id. Defaults to "SIM".
	SystemID string
	// Client is the only SAP client that logons may name in sap-client.
	// Defaults to "100".
	Client string
	// AutoCommit makes BAPI_CUSTOMER_CREATEFROMDATA1 commit its own work,
	// as if the BAPI ran COMMIT WORK. Defaults to false: a create is kept
	// only when BAPI_TRANSACTION_COMMIT follows in the same session.
	AutoCommit bool
	// Stateful binds requests that carry the cookie SessionCookie to one
	// ABAP session, so that a commit applies to earlier creates. Defaults
	// to false: each request is its own session, which is what the
	// SOAP-RFC handler is believed to do.
	Stateful bool
	// SessionTimeout is how long a stateful session stays open without
	// requests. Its uncommitted work is then discarded. Defaults to 10
	// minutes.
	SessionTimeout time.Duration
	// ReferenceCustomers are the customers that creates copy from.
	// Defaults to DefaultReferenceCustomers().
	ReferenceCustomers []ReferenceCustomer
	// NumberRanges contains the internal number range of each account group.
	// An account group without a range cannot be used for creates.
	// Defaults to 0000100000..0000199999 for account group 0001.
	NumberRanges map[string]NumberRange
	// CreateFunction is the Z function module that creates, stores the
	// external reference and commits in one call. Defaults to
	// Z_SFSAP_CUSTOMER_CREATE.
	CreateFunction string
	// SetExternalRefFunction is the Z function module that stores the
	// external reference of a customer. Defaults to
	// Z_SFSAP_SET_EXTERNAL_REF.
	SetExternalRefFunction string
	// ExternalRefParam is the parameter of both Z modules that carries the
	// external reference. Defaults to EXTERNAL_REF.
	ExternalRefParam string
	// ExternalRefTable and ExternalRefField name the field that contains the
	// external reference for BAPI_CUSTOMER_FIND. Default to KNA1 and
	// ZZSFID.
	ExternalRefTable string
	ExternalRefField string
	// ResponseCharset is the charset of responses: "iso-8859-1" (or
	// "latin1") for a Latin-1 system, and utf-8 for any other value.
	// Defaults to utf-8.
	ResponseCharset string
	// OData configures the OData service.
	OData ODataOptions
	// Logger receives a line per call and per committed customer.
	// Defaults to discarding them.
	Logger *slog.Logger
}

// NumberRange is an internal number range of customer numbers.
type NumberRange struct {
	From int64
	To   int64
}

// SalesArea is a sales organisation, distribution channel and division.
type SalesArea struct {
	SalesOrg            string
	DistributionChannel string
	Division            string
}

// ReferenceCustomer is a customer that BAPI_CUSTOMER_CREATEFROMDATA1
// copies account group, company code and sales data from.
type ReferenceCustomer struct {
	Number       string
	Name         string
	AccountGroup string
	SalesAreas   []SalesArea
	CompanyCodes []string
}

// DefaultReferenceCustomers returns reference customer 0000099999 of
// account group 0001, extended to sales areas 1000/10/00 and 2000/10/00
// and company codes 1000 and 2000.
func DefaultReferenceCustomers() []ReferenceCustomer {
	return []ReferenceCustomer{{
		Number:       "0000099999",
		Name:         "Reference customer",
		AccountGroup: "0001",
		SalesAreas: []SalesArea{
			{SalesOrg: "1000", DistributionChannel: "10", Division: "00"},
			{SalesOrg: "2000", DistributionChannel: "10", Division: "00"},
		},
		CompanyCodes: []string{"1000", "2000"},
	}}
}

func (o Options) withDefaults() Options {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&o.SystemID, "SIM")
	def(&o.Client, "100")
	def(&o.CreateFunction, "Z_SFSAP_CUSTOMER_CREATE")
	def(&o.SetExternalRefFunction, "Z_SFSAP_SET_EXTERNAL_REF")
	def(&o.ExternalRefParam, "EXTERNAL_REF")
	def(&o.ExternalRefTable, "KNA1")
	def(&o.ExternalRefField, "ZZSFID")

	switch strings.ToLower(o.ResponseCharset) {
	case "iso-8859-1", "latin1":
		o.ResponseCharset = "iso-8859-1"
	default:
		o.ResponseCharset = "utf-8"
	}

	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 10 * time.Minute
	}
	if o.ReferenceCustomers == nil {
		o.ReferenceCustomers = DefaultReferenceCustomers()
	}
	if o.NumberRanges == nil {
		o.NumberRanges = map[string]NumberRange{"0001": {From: 100000, To: 199999}}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Server is the simulated SAP system. Create it with New. It is safe for
// concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger

	mu         sync.Mutex
	customers  []*Customer // committed creates, in order
	byNumber   map[string]*Customer
	references map[string]*ReferenceCustomer
	nextNumber map[string]int64
	sessions   map[string]*session
	calls      map[string]int
	faults     *faults
	odata      odataState

	listener  net.Listener
	http      *http.Server
	closing   chan struct{}
	closeOnce sync.Once
}

// New returns a Server with opts. It does not listen until Start. To serve
// it yourself, use Handler.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:       opts,
		log:        opts.Logger,
		byNumber:   map[string]*Customer{},
		references: map[string]*ReferenceCustomer{},
		nextNumber: map[string]int64{},
		sessions:   map[string]*session{},
		calls:      map[string]int{},
		faults:     newFaults(),
		closing:    make(chan struct{}),
	}
	for i := range opts.ReferenceCustomers {
		ref := opts.ReferenceCustomers[i]
		ref.Number = normalizeNumber(ref.Number)
		s.references[ref.Number] = &ref
	}
	for group, r := range opts.NumberRanges {
		s.nextNumber[group] = r.From
	}
	return s
}

// Start listens on addr, such as "127.0.0.1:0", and serves in the
// background until Close.
func (s *Server) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	s.listener = ln
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sapsim: serving stopped", "error", err)
		}
	}()
	return nil
}

// URL returns the base URL of a started server, such as
// "http://127.0.0.1:41234", without the handler path.
func (s *Server) URL() string {
	if s.listener == nil {
		return ""
	}
	return "http://" + s.listener.Addr().String()
}

// Handler returns the HTTP handler of the simulator.
func (s *Server) Handler() http.Handler { return s }

// Close stops the server, ends held responses and drops open connections.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	if s.http != nil {
		return s.http.Close()
	}
	return nil
}

// ServeHTTP serves the SOAP-RFC handler, the OData service and the REST
// gateway.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == ODataServicePath || strings.HasPrefix(r.URL.Path, ODataServicePath+"/"):
		s.serveOData(w, r)
		return
	case strings.HasPrefix(r.URL.Path, RESTServicesPath):
		s.serveREST(w, r)
		return
	}
	if r.URL.Path != HandlerPath && r.URL.Path != HandlerPath+"/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "SOAP-RFC requests must use POST", http.StatusMethodNotAllowed)
		return
	}
	if status, ok := s.faults.takeHTTPStatus(); ok {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Basic realm="SAP NetWeaver Application Server [%s/%s]"`, s.opts.SystemID, s.opts.Client))
		http.Error(w, "Logon failed", http.StatusUnauthorized)
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
	if err != nil {
		s.writeFault(w, "", "Client", fmt.Sprintf("reading request: %v", err), "")
		return
	}
	fm, params, err := parseRequest(body)
	if err != nil {
		s.writeFault(w, "", "Client", err.Error(), "")
		return
	}
	s.serveCall(w, r, fm, params)
}

func (s *Server) authorized(r *http.Request) bool {
	if client := r.URL.Query().Get("sap-client"); client != "" && client != s.opts.Client {
		return false
	}
	if s.opts.User == "" {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(s.opts.User)) == 1
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(s.opts.Password)) == 1
	return userOK && passOK
}

// serveCall runs one function module and writes its response, applying
// the injected faults for it.
func (s *Server) serveCall(w http.ResponseWriter, r *http.Request, fm string, params map[string]any) {
	s.mu.Lock()
	s.calls[fm]++
	s.mu.Unlock()

	if d := s.faults.latency(fm); d > 0 {
		// SAP goes on working when the client gives up, so only Close
		// cuts the wait short.
		select {
		case <-time.After(d):
		case <-s.closing:
			return
		}
	}
	if text, ok := s.faults.takeFault(fm); ok {
		s.writeFault(w, fm, "Server", text, "")
		return
	}

	s.mu.Lock()
	sess, cookie := s.session(r)
	fn := s.function(fm)
	if fn == nil {
		s.mu.Unlock()
		s.writeFault(w, fm, "Client", fmt.Sprintf("Function module %q not found", fm), "FU_NOT_FOUND")
		return
	}
	c := &call{s: s, fm: fm, session: sess, params: params}
	fields := fn(c)
	sess.lastUsed = time.Now()
	s.mu.Unlock()

	s.log.Debug("sapsim: call", "function", fm, "committed", c.committed)
	if cookie != nil {
		http.SetCookie(w, cookie)
	}
	if c.committed {
		if hold, ok := s.faults.takeTimeoutAfterCommit(); ok {
			s.holdOrDrop(w, r, hold)
		}
	}

	w.Header().Set("Content-Type", "text/xml; charset="+s.opts.ResponseCharset)
	_, _ = w.Write(encodeResponse(fm, fields, s.opts.ResponseCharset))
}

// holdOrDrop delays the response of a committed call. It drops the
// connection when hold is not positive. Otherwise it waits for hold and
// returns, so the response follows, unless the client or the server gives
// up first, which ends the handler without a response.
func (s *Server) holdOrDrop(w http.ResponseWriter, r *http.Request, hold time.Duration) {
	if hold <= 0 {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		panic(http.ErrAbortHandler)
	}
	select {
	case <-time.After(hold):
	case <-r.Context().Done():
		panic(http.ErrAbortHandler)
	case <-s.closing:
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) writeFault(w http.ResponseWriter, fm, code, text, exception string) {
	s.log.Info("sapsim: returning SOAP fault", "function", fm, "faultcode", code, "error", text)
	w.Header().Set("Content-Type", "text/xml; charset="+s.opts.ResponseCharset)
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write(encodeFault(fm, code, text, exception, s.opts.ResponseCharset))
}

// session is an ABAP session with its logical unit of work: creates and
// external references that wait for a commit.
type session struct {
	id       string
	created  []*Customer
	refs     map[string]string
	lastUsed time.Time
}

func (sess *session) rollback() {
	sess.created = nil
	sess.refs = nil
}

// session returns the session of r, and the cookie to set when a stateful
// session was opened or refreshed. s.mu must be held.
func (s *Server) session(r *http.Request) (*session, *http.Cookie) {
	if !s.opts.Stateful {
		return &session{}, nil
	}

	now := time.Now()
	for id, sess := range s.sessions {
		if now.Sub(sess.lastUsed) > s.opts.SessionTimeout {
			delete(s.sessions, id)
		}
	}

	var sess *session
	if c, err := r.Cookie(SessionCookie); err == nil {
		if id, err := url.QueryUnescape(c.Value); err == nil {
			sess = s.sessions[id]
		}
	}
	if sess == nil {
		sess = &session{id: s.newSessionID(), lastUsed: now}
		s.sessions[sess.id] = sess
	}
	cookie := &http.Cookie{
		Name:     SessionCookie,
		Value:    url.QueryEscape(sess.id),
		Path:     "/",
		HttpOnly: true,
	}
	return sess, cookie
}

// newSessionID returns an id in the shape of an ABAP session identifier,
// SID:ANON:<host>_<SID>_<instance>:<id>-NEW.
func (s *Server) newSessionID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s:ANON:sapsim_%s_00:%s-NEW", s.opts.SystemID, s.opts.SystemID, hex.EncodeToString(b))
}

// OpenSessions returns the number of stateful sessions that have not
// timed out.
func (s *Server) OpenSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sess := range s.sessions {
		if time.Since(sess.lastUsed) <= s.opts.SessionTimeout {
			n++
		}
	}
	return n
}
