package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	testSite   = "contoso.sharepoint.com,2C712604-1370-44E7-A1F5-426573FDA80A,2D2244C3-251A-49EA-93A8-39E1C3A060FE"
	testList   = "22e03ef3-6ef4-424d-a1d3-92a337807c30"
	testTenant = "contoso.onmicrosoft.com"
	testSecret = "graph-client-secret"
)

// graph is a Microsoft identity platform token endpoint and a Graph list
// items endpoint on loopback. It checks each request as Graph would.
type graph struct {
	mu sync.Mutex
	// tokenStatus, when set, replaces the token endpoint's reply.
	tokenStatus int
	// itemStatuses are replied to item requests in turn, then 201.
	itemStatuses []int
	// revoked tokens get 401, as an expired token would.
	revoked map[string]bool

	tokensIssued int
	items        []map[string]any
	itemTokens   []string
}

func (g *graph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case r.URL.Path == "/"+testTenant+"/oauth2/v2.0/token":
		g.token(w, r)
	case r.URL.Path == "/v1.0/sites/"+testSite+"/lists/"+testList+"/items":
		g.item(w, r)
	default:
		http.Error(w, `{"error":{"code":"itemNotFound"}}`, http.StatusNotFound)
	}
}

func (g *graph) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "want a form POST", http.StatusBadRequest)
		return
	}
	if g.tokenStatus != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(g.tokenStatus)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
		return
	}
	form := r.PostForm
	if form.Get("grant_type") != "client_credentials" || form.Get("client_id") != "app-id" ||
		form.Get("client_secret") != testSecret || form.Get("scope") != "https://graph.microsoft.com/.default" {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	g.tokensIssued++
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"token-%d"}`, g.tokensIssued)
}

func (g *graph) item(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !strings.HasPrefix(token, "token-") || g.revoked[token] {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":"InvalidAuthenticationToken"}}`)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want a JSON POST", http.StatusBadRequest)
		return
	}
	var body map[string]map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body) != 1 || body["fields"] == nil {
		http.Error(w, `{"error":{"code":"invalidRequest","message":"want {\"fields\":{...}}"}}`, http.StatusBadRequest)
		return
	}
	if len(g.itemStatuses) > 0 {
		status := g.itemStatuses[0]
		g.itemStatuses = g.itemStatuses[1:]
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "3")
		}
		w.WriteHeader(status)
		fmt.Fprint(w, `{"error":{"code":"activityLimitReached"}}`)
		return
	}
	g.items = append(g.items, body["fields"])
	g.itemTokens = append(g.itemTokens, token)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"id":"%d","fields":{}}`, len(g.items))
}

// startGraph returns a sink whose token and Graph URLs point at g.
func startGraph(t *testing.T, g *graph) *sharePointSink {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	cfg := SharePoint{
		SiteID: testSite, ListID: testList, TenantID: testTenant,
		ClientID: "app-id", ClientSecret: testSecret,
		TokenURL: srv.URL + "/" + testTenant + "/oauth2/v2.0/token",
		// The scope stays Graph's own, as Microsoft requires, while the
		// requests go to the local server.
		Scope:    "https://graph.microsoft.com/.default",
		GraphURL: srv.URL,
	}.withDefaults(NotifyFailures)
	return newSharePoint(cfg, "https://example.my.salesforce.com/lightning/r/Account/{id}/view", srv.Client())
}

func TestSharePointCreatesListItem(t *testing.T) {
	t.Parallel()
	g := &graph{}
	sink := startGraph(t, g)
	if err := sink.send(context.Background(), failedResult()); err != nil {
		t.Fatalf("send: %v", err)
	}
	if len(g.items) != 1 {
		t.Fatalf("list has %d items, want 1", len(g.items))
	}
	want := map[string]any{
		"Title":         "SAP sync failed: Brennerei Alpenglück GmbH",
		"AccountId":     testAccount,
		"AccountName":   "Brennerei Alpenglück GmbH",
		"Outcome":       "failed",
		"Reason":        "Billing country is empty: set it on the Account",
		"Stage":         "writeback",
		"CorrelationId": "corr-1",
		"CommittedAt":   "2026-03-01T09:30:00Z",
		"RecordedAt":    "2026-03-01T09:30:02Z",
		"AccountUrl":    "https://example.my.salesforce.com/lightning/r/Account/" + testAccount + "/view",
	}
	if diff := cmp.Diff(want, g.items[0]); diff != "" {
		t.Errorf("list item fields (-want +got):\n%s", diff)
	}
}

func TestSharePointColumnMapping(t *testing.T) {
	t.Parallel()
	g := &graph{}
	sink := startGraph(t, g)
	sink.cfg.Columns = map[string]string{"title": "Title", "account_id": "SalesforceId", "reason": "", "outcome": "Status"}
	if err := sink.send(context.Background(), failedResult()); err != nil {
		t.Fatalf("send: %v", err)
	}
	want := map[string]any{
		"Title":        "SAP sync failed: Brennerei Alpenglück GmbH",
		"SalesforceId": testAccount,
		"Status":       "failed",
	}
	if diff := cmp.Diff(want, g.items[0]); diff != "" {
		t.Errorf("list item fields (-want +got):\n%s", diff)
	}
}

func TestSharePointReusesToken(t *testing.T) {
	t.Parallel()
	g := &graph{}
	sink := startGraph(t, g)
	for i := range 3 {
		if err := sink.send(context.Background(), failedResult()); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if g.tokensIssued != 1 {
		t.Errorf("token requests = %d, want 1 for three items", g.tokensIssued)
	}
	if len(g.items) != 3 {
		t.Errorf("items = %d, want 3", len(g.items))
	}
}

func TestSharePointRenewsRejectedToken(t *testing.T) {
	t.Parallel()
	g := &graph{revoked: map[string]bool{"token-1": true}}
	sink := startGraph(t, g)
	if err := sink.send(context.Background(), failedResult()); err != nil {
		t.Fatalf("send: %v", err)
	}
	if g.tokensIssued != 2 {
		t.Errorf("token requests = %d, want 2 (one rejected, one fresh)", g.tokensIssued)
	}
	if diff := cmp.Diff([]string{"token-2"}, g.itemTokens); diff != "" {
		t.Errorf("tokens of stored items (-want +got):\n%s", diff)
	}
}

func TestSharePointFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		graph         *graph
		wantStatus    int
		wantPermanent bool
		wantText      string
	}{
		{"invalid client secret", &graph{tokenStatus: http.StatusUnauthorized}, http.StatusUnauthorized, true, "AADSTS7000215"},
		{"token endpoint down", &graph{tokenStatus: http.StatusServiceUnavailable}, http.StatusServiceUnavailable, false, "invalid_client"},
		{"throttled", &graph{itemStatuses: []int{http.StatusTooManyRequests}}, http.StatusTooManyRequests, false, "activityLimitReached"},
		{"unknown column", &graph{itemStatuses: []int{http.StatusBadRequest}}, http.StatusBadRequest, true, "Bad Request"},
		{"no permission", &graph{itemStatuses: []int{http.StatusForbidden}}, http.StatusForbidden, true, "Forbidden"},
		{"token rejected twice", &graph{revoked: map[string]bool{"token-1": true, "token-2": true}}, http.StatusUnauthorized, true, "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := startGraph(t, tt.graph).send(context.Background(), failedResult())
			se, ok := err.(*SendError)
			if !ok {
				t.Fatalf("send error = %v (%T), want *SendError", err, err)
			}
			if se.Status != tt.wantStatus {
				t.Errorf("Status = %d, want %d (error %v)", se.Status, tt.wantStatus, err)
			}
			if se.Permanent != tt.wantPermanent {
				t.Errorf("Permanent = %v, want %v (error %v)", se.Permanent, tt.wantPermanent, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q lacks %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error %q contains the client secret", err)
			}
		})
	}
}

func TestSharePointThrottleRetryAfter(t *testing.T) {
	t.Parallel()
	err := startGraph(t, &graph{itemStatuses: []int{http.StatusTooManyRequests}}).send(context.Background(), failedResult())
	if got := retryAfterOf(err); got.Seconds() != 3 {
		t.Fatalf("retryAfterOf(%v) = %s, want 3s from the Retry-After header", err, got)
	}
}
