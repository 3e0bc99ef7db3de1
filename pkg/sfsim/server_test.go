package sfsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testVersion = "60.0"

func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	if err := s.Start(""); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// login returns an access token from the client credentials flow.
func login(t *testing.T, s *Server) string {
	t.Helper()
	status, body := postForm(t, s, "/services/oauth2/token", url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {s.opts.ClientID},
		"client_secret": {s.opts.ClientSecret},
	})
	if status != http.StatusOK {
		t.Fatalf("token request = %d %s, want 200", status, body)
	}
	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatalf("decoding token response %s: %v", body, err)
	}
	return tok.AccessToken
}

func postForm(t *testing.T, s *Server, path string, form url.Values) (int, []byte) {
	t.Helper()
	resp, err := http.PostForm(s.URL()+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response to POST %s: %v", path, err)
	}
	return resp.StatusCode, body
}

// response is a data API response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call sends a data API request. A path without a leading slash is taken
// relative to /services/data/v60.0/, and body is encoded as JSON unless it is
// a string.
func call(t *testing.T, s *Server, method, path, token string, body any, header ...string) response {
	t.Helper()
	r, err := send(s, method, path, token, body, header...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return r
}

// send is call for goroutines other than the test's own, which must not
// call t.Fatalf.
func send(s *Server, method, path, token string, body any, header ...string) (response, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/services/data/v" + testVersion + "/" + path
	}
	var reader io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		reader = strings.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return response{}, fmt.Errorf("encoding body: %w", err)
		}
		reader = bytes.NewReader(enc)
	}

	req, err := http.NewRequest(method, s.URL()+path, reader)
	if err != nil {
		return response{}, fmt.Errorf("building %s %s: %w", method, path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("reading response to %s %s: %w", method, path, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: got}, nil
}

// errorArray decodes a REST error array.
func errorArray(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("decoding error array %s: %v", body, err)
	}
	return out
}

// wantError checks that a response is a one-element error array with the
// given status and code.
func wantError(t *testing.T, r response, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d (%s), want %d", r.status, r.body, status)
	}
	errs := errorArray(t, r.body)
	if len(errs) != 1 {
		t.Fatalf("error array = %s, want one element", r.body)
	}
	if errs[0]["errorCode"] != code {
		t.Fatalf("errorCode = %v, want %s (body %s)", errs[0]["errorCode"], code, r.body)
	}
	return errs[0]
}

func TestServerURLAndCalls(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL() = %q, want a loopback address", s.URL())
	}
	tok := login(t, s)
	call(t, s, http.MethodGet, "query?q="+url.QueryEscape("SELECT Id FROM Account"), tok, nil)
	call(t, s, http.MethodGet, "query?q="+url.QueryEscape("SELECT Id FROM Account"), tok, nil)
	call(t, s, http.MethodPatch, "sobjects/Account/001Hx00000ABcDeIAL", tok, map[string]any{"Name": "x"})

	want := map[string]int{CallToken: 1, CallQuery: 2, CallUpdateAccount: 1}
	if diff := cmp.Diff(want, s.Calls()); diff != "" {
		t.Fatalf("Calls() mismatch (-want +got):\n%s", diff)
	}
	s.ResetCalls()
	if got := s.Calls(); len(got) != 0 {
		t.Fatalf("Calls() after ResetCalls = %v, want empty", got)
	}
}

func TestHandleMountsExtraHandler(t *testing.T) {
	t.Parallel()
	s := New(Options{})
	s.Handle("/cometd/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := s.CheckToken(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, user)
	}))
	if err := s.Start(""); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Close)

	tok := login(t, s)
	r := call(t, s, http.MethodPost, "/cometd/60.0", tok, nil)
	if r.status != http.StatusOK || string(r.body) != DefaultIntegrationUserID {
		t.Fatalf("POST /cometd/60.0 = %d %q, want 200 %q", r.status, r.body, DefaultIntegrationUserID)
	}
	r = call(t, s, http.MethodPost, "/cometd/60.0", "bogus", nil)
	if r.status != http.StatusUnauthorized {
		t.Fatalf("POST /cometd/60.0 with bad token = %d, want 401", r.status)
	}
	if got := s.Calls()["POST cometd"]; got != 2 {
		t.Fatalf(`Calls()["POST cometd"] = %d, want 2`, got)
	}
}
