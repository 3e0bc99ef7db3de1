package notifier

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/msg"
)

// hook is an incoming webhook on loopback. It records request bodies and
// replies with the next queued status, or with 200 when none is queued.
type hook struct {
	mu       sync.Mutex
	bodies   [][]byte
	headers  []http.Header
	times    []time.Time
	statuses []int
	// retryAfter is sent with 429 and 503 replies.
	retryAfter string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, body)
	h.headers = append(h.headers, r.Header.Clone())
	h.times = append(h.times, time.Now())
	status := http.StatusOK
	if len(h.statuses) > 0 {
		status, h.statuses = h.statuses[0], h.statuses[1:]
	}
	retryAfter := h.retryAfter
	h.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want a JSON POST", http.StatusBadRequest)
		return
	}
	if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte("1"))
}

// reply queues statuses for the next requests, with retryAfter on 429
// and 503 replies.
func (h *hook) reply(retryAfter string, statuses ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.retryAfter = retryAfter
	h.statuses = append(h.statuses, statuses...)
}

func (h *hook) requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func (h *hook) body(i int) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bodies[i]
}

func startHook(t *testing.T, h *hook) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	// The path stands for the credential a real webhook URL carries.
	return srv.URL + "/webhook/secret-path-token"
}

func TestTeamsAdaptiveCard(t *testing.T) {
	t.Parallel()
	h := &hook{}
	sink := newTeams(startHook(t, h), "https://example.my.salesforce.com/lightning/r/Account/{id}/view", http.DefaultClient)
	if err := sink.send(context.Background(), failedResult()); err != nil {
		t.Fatalf("send: %v", err)
	}

	var got struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string  `json:"contentType"`
			ContentURL  *string `json:"contentUrl"`
			Content     struct {
				Schema  string `json:"$schema"`
				Type    string `json:"type"`
				Version string `json:"version"`
				Body    []struct {
					Type  string `json:"type"`
					Text  string `json:"text"`
					Color string `json:"color"`
					Facts []struct {
						Title string `json:"title"`
						Value string `json:"value"`
					} `json:"facts"`
				} `json:"body"`
				Actions []struct {
					Type string `json:"type"`
					URL  string `json:"url"`
				} `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(h.body(0), &got); err != nil {
		t.Fatalf("decoding Teams body: %v\n%s", err, h.body(0))
	}
	if got.Type != "message" {
		t.Errorf("type = %q, want message", got.Type)
	}
	if len(got.Attachments) != 1 {
		t.Fatalf("attachments = %d, want 1", len(got.Attachments))
	}
	a := got.Attachments[0]
	if a.ContentType != "application/vnd.microsoft.card.adaptive" {
		t.Errorf("contentType = %q, want application/vnd.microsoft.card.adaptive", a.ContentType)
	}
	if a.ContentURL != nil {
		t.Errorf("contentUrl = %q, want null", *a.ContentURL)
	}
	card := a.Content
	if card.Type != "AdaptiveCard" || card.Version != "1.4" || card.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" {
		t.Errorf("card type/version/schema = %q/%q/%q, want AdaptiveCard/1.4/adaptive-card.json", card.Type, card.Version, card.Schema)
	}
	if len(card.Body) != 3 {
		t.Fatalf("card body has %d elements, want title, summary and facts", len(card.Body))
	}
	if card.Body[0].Text != "SAP sync failed: Brennerei Alpenglück GmbH" || card.Body[0].Color != "Attention" {
		t.Errorf("title block = %q in %q, want the failure title in Attention", card.Body[0].Text, card.Body[0].Color)
	}
	if card.Body[1].Text != "Billing country is empty: set it on the Account" {
		t.Errorf("summary block = %q, want the reason", card.Body[1].Text)
	}
	if card.Body[2].Type != "FactSet" || len(card.Body[2].Facts) == 0 || card.Body[2].Facts[0].Value != testAccount {
		t.Errorf("facts = %+v, want a FactSet starting with the account id", card.Body[2])
	}
	wantURL := "https://example.my.salesforce.com/lightning/r/Account/" + testAccount + "/view"
	if len(card.Actions) != 1 || card.Actions[0].Type != "Action.OpenUrl" || card.Actions[0].URL != wantURL {
		t.Errorf("actions = %+v, want one Action.OpenUrl to %s", card.Actions, wantURL)
	}
}

func TestSlackBlocks(t *testing.T) {
	t.Parallel()
	h := &hook{}
	sink := newSlack(startHook(t, h), "", http.DefaultClient)
	r := failedResult()
	r.Reason = "Postal code <5067> & region are invalid"
	r.AccountName = strings.Repeat("Long name ", 30)
	if err := sink.send(context.Background(), r); err != nil {
		t.Fatalf("send: %v", err)
	}

	var got struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Fields []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"fields"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(h.body(0), &got); err != nil {
		t.Fatalf("decoding Slack body: %v\n%s", err, h.body(0))
	}
	if got.Text == "" {
		t.Error("text is empty, want a fallback for notifications")
	}
	if len(got.Blocks) != 3 {
		t.Fatalf("blocks = %d, want header, summary and fields", len(got.Blocks))
	}
	header := got.Blocks[0]
	if header.Type != "header" || header.Text == nil || header.Text.Type != "plain_text" {
		t.Fatalf("first block = %+v, want a plain_text header", header)
	}
	if n := len([]rune(header.Text.Text)); n > slackHeaderMax {
		t.Errorf("header text has %d characters, want at most %d", n, slackHeaderMax)
	}
	summary := got.Blocks[1]
	if summary.Text == nil || summary.Text.Text != "Postal code &lt;5067&gt; &amp; region are invalid" {
		t.Errorf("summary = %+v, want the reason with &, < and > escaped", summary.Text)
	}
	fields := got.Blocks[2].Fields
	if len(fields) == 0 || len(fields) > slackFieldCount {
		t.Fatalf("fields = %d, want 1 to %d", len(fields), slackFieldCount)
	}
	if fields[0].Type != "mrkdwn" || fields[0].Text != "*Account*\n"+testAccount {
		t.Errorf("first field = %+v, want the account id in mrkdwn", fields[0])
	}
}

func TestWebhookStatusClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status         int
		retryAfter     string
		wantPermanent  bool
		wantRetryAfter time.Duration
	}{
		{http.StatusBadRequest, "", true, 0},
		{http.StatusForbidden, "", true, 0},
		{http.StatusNotFound, "", true, 0},
		{http.StatusRequestTimeout, "", false, 0},
		{http.StatusTooManyRequests, "7", false, 7 * time.Second},
		{http.StatusInternalServerError, "", false, 0},
		{http.StatusServiceUnavailable, "2", false, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			h := &hook{statuses: []int{tt.status}, retryAfter: tt.retryAfter}
			url := startHook(t, h)
			err := newSlack(url, "", http.DefaultClient).send(context.Background(), failedResult())
			se, ok := err.(*SendError)
			if !ok {
				t.Fatalf("send error = %v (%T), want *SendError", err, err)
			}
			if se.Status != tt.status {
				t.Errorf("Status = %d, want %d", se.Status, tt.status)
			}
			if se.Permanent != tt.wantPermanent {
				t.Errorf("Permanent = %v, want %v", se.Permanent, tt.wantPermanent)
			}
			if se.RetryAfter != tt.wantRetryAfter {
				t.Errorf("RetryAfter = %s, want %s", se.RetryAfter, tt.wantRetryAfter)
			}
			if strings.Contains(err.Error(), "secret-path-token") {
				t.Errorf("error %q contains the webhook URL", err)
			}
		})
	}
}

func TestWebhookConnectionErrorHidesURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/webhook/secret-path-token"
	srv.Close()

	err := newTeams(url, "", http.DefaultClient).send(context.Background(), failedResult())
	if err == nil || IsPermanent(err) {
		t.Fatalf("send to a closed server = %v, want a transient error", err)
	}
	if strings.Contains(err.Error(), "secret-path-token") {
		t.Errorf("error %q contains the webhook URL", err)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"30", 30 * time.Second},
		{"-5", 0},
		{"soon", 0},
		{"Sun, 01 Mar 2026 12:01:30 GMT", 90 * time.Second},
		{"Sun, 01 Mar 2026 11:59:00 GMT", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.header, got, tt.want)
		}
	}
}

func TestRenderOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		outcome, wantTitle string
		wantFailure        bool
	}{
		{msg.OutcomeSynced, "SAP customer created: Brennerei Alpenglück GmbH", false},
		{msg.OutcomeAdopted, "Existing SAP customer linked: Brennerei Alpenglück GmbH", false},
		{msg.OutcomeFailed, "SAP sync failed: Brennerei Alpenglück GmbH", true},
		{msg.OutcomeWritebackFailed, "SAP number not written to Salesforce: Brennerei Alpenglück GmbH", true},
	}
	for _, tt := range tests {
		r := failedResult()
		r.Outcome = tt.outcome
		r.SAPCustomer = "0000100001"
		v := render(r, "")
		if v.Title != tt.wantTitle {
			t.Errorf("render(%s).Title = %q, want %q", tt.outcome, v.Title, tt.wantTitle)
		}
		if v.Failure != tt.wantFailure {
			t.Errorf("render(%s).Failure = %v, want %v", tt.outcome, v.Failure, tt.wantFailure)
		}
		if got := wants(NotifyFailures, tt.outcome); got != tt.wantFailure {
			t.Errorf("wants(failures, %s) = %v, want %v", tt.outcome, got, tt.wantFailure)
		}
		if !wants(NotifyAll, tt.outcome) {
			t.Errorf("wants(all, %s) = false, want true", tt.outcome)
		}
	}
}
