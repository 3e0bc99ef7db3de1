package sfsim

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFaultTimesAndAccount(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	target := seed(t, s, map[string]any{"Name": "Target"})
	other := seed(t, s, map[string]any{"Name": "Other"})
	s.Faults().Add(Fault{
		Method:     http.MethodPatch,
		PathPrefix: "sobjects/Account",
		AccountID:  target[:15],
		Times:      2,
		ErrorCode:  "UNABLE_TO_LOCK_ROW",
		Message:    "unable to obtain exclusive access to this record or 1 records: " + target,
	})

	body := map[string]any{"SAP_ID__c": "0000104711"}
	if r := call(t, s, http.MethodPatch, "sobjects/Account/"+other, tok, body); r.status != http.StatusNoContent {
		t.Fatalf("PATCH of another Account = %d (%s), want 204", r.status, r.body)
	}
	if r := call(t, s, http.MethodGet, "sobjects/Account/"+target, tok, nil); r.status != http.StatusOK {
		t.Fatalf("GET of the target = %d (%s), want 200: the fault is for PATCH only", r.status, r.body)
	}
	for i := range 2 {
		r := call(t, s, http.MethodPatch, "sobjects/Account/"+target, tok, body)
		e := wantError(t, r, http.StatusBadRequest, "UNABLE_TO_LOCK_ROW")
		if !strings.HasPrefix(e["message"].(string), "unable to obtain exclusive access") {
			t.Fatalf("PATCH %d message = %v, want the lock message", i+1, e["message"])
		}
		if r.header.Get("Sforce-Limit-Info") == "" {
			t.Fatalf("PATCH %d: injected error has no Sforce-Limit-Info header", i+1)
		}
	}
	if rec, _ := s.Store().Get(target); rec["SAP_ID__c"] != nil {
		t.Fatalf("failed PATCHes wrote the record: %v", rec)
	}
	if r := call(t, s, http.MethodPatch, "sobjects/Account/"+target, tok, body); r.status != http.StatusNoContent {
		t.Fatalf("third PATCH = %d (%s), want 204 after the fault is used up", r.status, r.body)
	}
	if n := s.Faults().Len(); n != 0 {
		t.Fatalf("Faults().Len() = %d, want 0", n)
	}
}

func TestFaultUntilClear(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	s.Faults().Add(Fault{PathPrefix: "query", Status: http.StatusServiceUnavailable, ErrorCode: "SERVER_UNAVAILABLE", Message: "Server unavailable"})
	for range 3 {
		wantError(t, query(t, s, tok, "SELECT Id FROM Account"), http.StatusServiceUnavailable, "SERVER_UNAVAILABLE")
	}
	s.Faults().Clear()
	if r := query(t, s, tok, "SELECT Id FROM Account"); r.status != http.StatusOK {
		t.Fatalf("query after Clear = %d, want 200", r.status)
	}
}

func TestFaultAfterWrite(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	id := seed(t, s, map[string]any{"Name": "Acme"})
	s.Faults().Add(Fault{Method: http.MethodPatch, AccountID: id, Times: 1, Status: http.StatusInternalServerError, ErrorCode: "UNKNOWN_EXCEPTION", AfterWrite: true})

	wantError(t, call(t, s, http.MethodPatch, "sobjects/Account/"+id, tok, map[string]any{"SAP_ID__c": "1"}), http.StatusInternalServerError, "UNKNOWN_EXCEPTION")
	if rec, _ := s.Store().Get(id); rec["SAP_ID__c"] != "1" {
		t.Fatalf("record after an AfterWrite fault = %v, want SAP_ID__c 1 written", rec)
	}
}

func TestFaultDrop(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	id := seed(t, s, map[string]any{"Name": "Acme"})
	s.Faults().Add(Fault{Method: http.MethodPatch, Times: 1, Drop: true, AfterWrite: true})

	req, err := http.NewRequest(http.MethodPatch, s.URL()+"/services/data/v60.0/sobjects/Account/"+id, strings.NewReader(`{"SAP_ID__c":"2"}`))
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("PATCH with a Drop fault = %d, want a connection error", resp.StatusCode)
	}
	if rec, _ := s.Store().Get(id); rec["SAP_ID__c"] != "2" {
		t.Fatalf("record after a dropped write = %v, want SAP_ID__c 2 written", rec)
	}
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	s.Faults().Add(Fault{PathPrefix: "limits", Times: 1, Delay: time.Minute})

	client := &http.Client{Timeout: 200 * time.Millisecond}
	req, err := http.NewRequest(http.MethodGet, s.URL()+"/services/data/v60.0/limits", nil)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET limits with a one-minute delay = %d, want a client timeout", resp.StatusCode)
	}
	var netErr interface{ Timeout() bool }
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("GET limits error = %v, want a timeout", err)
	}
	if r := call(t, s, http.MethodGet, "limits", tok, nil); r.status != http.StatusOK {
		t.Fatalf("GET limits after the delay fault = %d, want 200", r.status)
	}
}

func TestFaultOnLoginEndpoints(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	s.Faults().Add(Fault{PathPrefix: "/services/oauth2/token", Times: 1, Status: http.StatusServiceUnavailable, ErrorCode: "temporarily_unavailable", Message: "try later"})
	s.Faults().Add(Fault{PathPrefix: "/services/Soap/", Times: 1, Status: http.StatusInternalServerError, ErrorCode: "sf:REQUEST_LIMIT_EXCEEDED", Message: "REQUEST_LIMIT_EXCEEDED: too many logins"})

	status, body := postForm(t, s, "/services/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), `"error":"temporarily_unavailable"`) {
		t.Fatalf("token with fault = %d %s, want 503 with an OAuth error body", status, body)
	}
	status, body = soapLogin(t, s, "integration@sfsap.example", "sfsim-password")
	if status != http.StatusInternalServerError || !strings.Contains(string(body), "<faultcode>sf:REQUEST_LIMIT_EXCEEDED</faultcode>") {
		t.Fatalf("SOAP login with fault = %d %s, want 500 with a SOAP fault", status, body)
	}
	if status, _ := soapLogin(t, s, "integration@sfsap.example", "sfsim-password"); status != http.StatusOK {
		t.Fatalf("SOAP login after the fault = %d, want 200", status)
	}
}

func TestFaultInvalidSession(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{})
	tok := login(t, s)
	s.Faults().Add(Fault{Times: 1, Status: http.StatusUnauthorized, ErrorCode: "INVALID_SESSION_ID", Message: "Session expired or invalid"})
	wantError(t, call(t, s, http.MethodGet, "limits", tok, nil), http.StatusUnauthorized, "INVALID_SESSION_ID")
	if r := call(t, s, http.MethodGet, "limits", tok, nil); r.status != http.StatusOK {
		t.Fatalf("GET limits after the fault = %d, want 200", r.status)
	}
}
