package odata

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"

	"github.com/sfsap/sfsap/pkg/sap"
)

// Header values of SAP Gateway's CSRF protection.
const (
	csrfHeader   = "x-csrf-token"
	csrfFetch    = "Fetch"
	csrfRequired = "Required"
)

// csrfSession is a CSRF token together with the cookies SAP set when it
// issued the token. SAP binds the token to the security session that the
// cookies name, so a token sent without its cookies is rejected.
type csrfSession struct {
	token string
	http  *http.Client
}

// session returns the current CSRF session, fetching one when there is
// none.
func (a *Adapter) session(ctx context.Context) (*csrfSession, error) {
	a.mu.Lock()
	s := a.current
	a.mu.Unlock()
	if s != nil {
		return s, nil
	}
	return a.renewSession(ctx, nil)
}

// renewSession fetches a new CSRF session to replace stale, the session
// SAP just rejected, or nil when there is none yet. When another create
// already replaced stale, it returns that newer session without a fetch,
// so concurrent creates share one fetch.
func (a *Adapter) renewSession(ctx context.Context, stale *csrfSession) (*csrfSession, error) {
	a.fetchMu.Lock()
	defer a.fetchMu.Unlock()

	a.mu.Lock()
	current := a.current
	a.mu.Unlock()
	if current != nil && current != stale {
		return current, nil
	}

	s, err := a.fetchToken(ctx)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.current = s
	a.mu.Unlock()
	return s, nil
}

// dropSession discards s, so the next create fetches a new token.
func (a *Adapter) dropSession(s *csrfSession) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.current == s {
		a.current = nil
	}
}

// fetchToken sends GET to the service root with "x-csrf-token: Fetch" and
// returns the token with a fresh cookie jar that holds the cookies of the
// response. A failed fetch changes nothing in SAP, so its errors are
// never Kind Unknown.
func (a *Adapter) fetchToken(ctx context.Context) (*csrfSession, error) {
	const op = "CSRF token fetch"
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, &sap.Error{Kind: sap.Transient, Op: op, Err: fmt.Errorf("creating cookie jar: %w", err)}
	}
	hc := a.newHTTPClient(jar)

	resp, err := a.do(ctx, hc, op, http.MethodGet, a.serviceURL("/", ""), nil, map[string]string{csrfHeader: csrfFetch})
	if err != nil {
		return nil, sap.ReadError(op, err)
	}
	if resp.status != http.StatusOK {
		return nil, sap.ReadError(op, a.statusError(op, resp))
	}

	// A system with CSRF protection switched off sends no token. POSTs
	// then go without one, and SAP accepts them.
	token := strings.TrimSpace(resp.header.Get(csrfHeader))
	return &csrfSession{token: token, http: hc}, nil
}

// csrfRejected reports whether resp is SAP's response to a missing, expired
// or wrong CSRF token, or to a token sent without its cookies.
func csrfRejected(resp *response) bool {
	return resp.status == http.StatusForbidden && strings.EqualFold(strings.TrimSpace(resp.header.Get(csrfHeader)), csrfRequired)
}
