package sapsim

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"sync"
)

// ODataServicePath is the root of the simulated OData V2 service
// API_BUSINESS_PARTNER.
const ODataServicePath = "/sap/opu/odata/sap/API_BUSINESS_PARTNER"

// Operations of the OData service, used as the function module name for
// SetLatency, InjectReturn, InjectFault and Calls.
const (
	// ODataCreate is the deep insert POST A_BusinessPartner.
	ODataCreate = "POST A_BusinessPartner"
	// ODataQuery is a read of A_BusinessPartner, with or without a key.
	ODataQuery = "GET A_BusinessPartner"
)

// ODataOptions configures the simulated OData service.
type ODataOptions struct {
	// MetadataFile is an EDMX file served on $metadata. Empty serves a
	// small built-in EDMX with the entity types sfsap writes.
	MetadataFile string
	// SingleUseTokens makes each CSRF token valid for one modifying
	// request. Defaults to false: a token stays valid for its session, as
	// SAP Basis 7.03/7.31 and later bind it to the security session.
	SingleUseTokens bool
}

// odataState holds the security sessions of the OData service, each with
// its CSRF token. The zero value is ready to use.
type odataState struct {
	mu       sync.Mutex
	sessions map[string]*csrfToken // by session cookie value
}

type csrfToken struct {
	value string
	used  bool
}

// csrfCookie returns the name of the security session cookie,
// SAP_SESSIONID_<SID>_<client>.
//
// NOTE: the cookie names are inferred from SAP blogs, not from captured
// traffic. Clients must send back every cookie they got, whatever its
// name.
func (s *Server) csrfCookie() string {
	return "SAP_SESSIONID_" + s.opts.SystemID + "_" + s.opts.Client
}

// ExpireODataSessions ends every OData security session, as SAP does when
// the security session times out. A POST with a token of an ended
// session then gets 403 with "x-csrf-token: Required".
func (s *Server) ExpireODataSessions() {
	s.odata.mu.Lock()
	defer s.odata.mu.Unlock()
	s.odata.sessions = nil
}

// ODataSessions returns the number of open OData security sessions, which
// is the number of token fetches that did not reuse a session.
func (s *Server) ODataSessions() int {
	s.odata.mu.Lock()
	defer s.odata.mu.Unlock()
	return len(s.odata.sessions)
}

// fetchToken handles a request with "x-csrf-token: Fetch". It returns the
// token of the request's session, or opens a session with a new token
// and sets its cookies.
func (s *Server) fetchToken(w http.ResponseWriter, r *http.Request) {
	s.odata.mu.Lock()
	defer s.odata.mu.Unlock()
	if s.odata.sessions == nil {
		s.odata.sessions = map[string]*csrfToken{}
	}

	id := ""
	if c, err := r.Cookie(s.csrfCookie()); err == nil {
		id = c.Value
	}
	tok, ok := s.odata.sessions[id]
	if !ok {
		id = randomHex(20)
		tok = &csrfToken{}
		s.odata.sessions[id] = tok
		http.SetCookie(w, &http.Cookie{Name: s.csrfCookie(), Value: id, Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "sap-usercontext", Value: "sap-client=" + s.opts.Client, Path: "/"})
	}
	if tok.value == "" || tok.used {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		tok.value, tok.used = base64.StdEncoding.EncodeToString(b), false
	}
	w.Header().Set("x-csrf-token", tok.value)
}

// checkToken reports whether r carries the CSRF token of the session its
// cookie names. With SingleUseTokens it uses the token up.
func (s *Server) checkToken(r *http.Request) bool {
	c, err := r.Cookie(s.csrfCookie())
	if err != nil {
		return false
	}
	s.odata.mu.Lock()
	defer s.odata.mu.Unlock()
	tok, ok := s.odata.sessions[c.Value]
	if !ok || tok.value == "" || tok.used {
		return false
	}
	got := r.Header.Get("x-csrf-token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(tok.value)) != 1 {
		return false
	}
	if s.opts.OData.SingleUseTokens {
		tok.used = true
	}
	return true
}

// serveOData serves the OData service below ODataServicePath.
func (s *Server) serveOData(w http.ResponseWriter, r *http.Request) {
	if status, ok := s.faults.takeHTTPStatus(); ok {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if !s.authorized(r) {
		s.writeUnauthorized(w)
		return
	}

	rel := strings.TrimPrefix(r.URL.Path, ODataServicePath)
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if strings.EqualFold(r.Header.Get("x-csrf-token"), "Fetch") {
			s.fetchToken(w, r)
		}
		s.serveODataRead(w, r, rel)
		return
	}

	if r.Method == http.MethodPost && rel == "/A_BusinessPartner" {
		s.mu.Lock()
		s.calls[ODataCreate]++
		s.mu.Unlock()
	}
	// Gateway checks the token of every modifying request before it
	// looks at the request itself.
	if !s.checkToken(r) {
		w.Header().Set("x-csrf-token", "Required")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("CSRF token validation failed"))
		return
	}
	if r.Method == http.MethodPost && rel == "/A_BusinessPartner" {
		s.serveODataCreate(w, r)
		return
	}
	s.writeODataError(w, http.StatusMethodNotAllowed,
		msgSim("021", "The simulator does not support &1 on &2", r.Method, rel))
}

// serveODataRead serves the service document, $metadata and reads of
// A_BusinessPartner.
func (s *Server) serveODataRead(w http.ResponseWriter, r *http.Request, rel string) {
	switch {
	case rel == "" || rel == "/":
		writeODataJSON(w, http.StatusOK, map[string]any{"d": map[string]any{"EntitySets": odataEntitySets}})
	case rel == "/$metadata":
		s.serveMetadata(w)
	case rel == "/A_BusinessPartner":
		s.serveODataQuery(w, r)
	case strings.HasPrefix(rel, "/A_BusinessPartner("):
		s.serveODataEntity(w, r, strings.TrimPrefix(rel, "/A_BusinessPartner"))
	default:
		s.writeODataError(w, http.StatusNotFound, msgSim("022", "Resource &1 not found", rel))
	}
}

// serveMetadata writes the EDMX of Options.OData.MetadataFile, or the
// built-in one.
func (s *Server) serveMetadata(w http.ResponseWriter) {
	data := []byte(builtinMetadata)
	if path := s.opts.OData.MetadataFile; path != "" {
		var err error
		data, err = os.ReadFile(path)
		if err != nil {
			s.log.Error("sapsim: reading OData metadata file", "path", path, "error", err)
			s.writeODataError(w, http.StatusInternalServerError, msgSim("023", "Metadata file &1 cannot be read", path))
			return
		}
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write(data)
}

// writeUnauthorized writes the 401 response of a failed Basic logon.
func (s *Server) writeUnauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="SAP NetWeaver Application Server [`+s.opts.SystemID+"/"+s.opts.Client+`]"`)
	http.Error(w, "Logon failed", http.StatusUnauthorized)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}
