package observe

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/tracing"
	"github.com/sfsap/sfsap/services/notifier"
	"github.com/sfsap/sfsap/test/observe/observetest"
)

// webhook records the JSON bodies and trace ids posted to it.
type webhook struct {
	mu     sync.Mutex
	bodies []map[string]any
	traces []string
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.bodies = append(w.bodies, body)
	w.traces = append(w.traces, tracing.TraceIDFromHeader(map[string][]string{"traceparent": {r.Header.Get("Traceparent")}}))
	w.mu.Unlock()
	_, _ = io.WriteString(rw, "ok")
}

func (w *webhook) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.bodies)
}

func TestNotifierReportsOutcomes(t *testing.T) {
	t.Parallel()
	teams, slack := &webhook{}, &webhook{}
	teamsSrv, slackSrv := httptest.NewServer(teams), httptest.NewServer(slack)
	t.Cleanup(teamsSrv.Close)
	t.Cleanup(slackSrv.Close)
	// The all-in-one pipeline runs the notifier because a sink is set.
	b := observetest.Start(t, func(c *config.Config) {
		c.Notifier.Backoff = 100 * time.Millisecond
		c.Notifier.Teams.WebhookURL = teamsSrv.URL
		c.Notifier.Slack = notifier.Webhook{WebhookURL: slackSrv.URL, Notify: notifier.NotifyAll}
	})
	if b.Pipeline.Notifier == nil {
		t.Fatal("pipeline has no notifier, want one for the configured webhooks")
	}

	ids := b.Convert(t, observetest.Accounts) // two accounts sync, one fails
	deadline := time.Now().Add(30 * time.Second)
	for teams.count() < 1 || slack.count() < len(ids) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: Teams has %d messages (want 1), Slack %d (want %d)", teams.count(), slack.count(), len(ids))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Give a wrongly sent success time to arrive before counting.
	time.Sleep(300 * time.Millisecond)

	if n := teams.count(); n != 1 {
		t.Errorf("Teams received %d messages, want 1: only the failure", n)
	}
	if n := slack.count(); n != len(ids) {
		t.Errorf("Slack received %d messages, want %d: every outcome", n, len(ids))
	}
	card, _ := json.Marshal(teams.bodies[0])
	if !strings.Contains(string(card), ids[2]) || !strings.Contains(string(card), "Billing Country") {
		t.Errorf("Teams card does not name the failed account %s and its reason:\n%s", ids[2], card)
	}
	if teams.traces[0] == "" {
		t.Errorf("Teams request has no traceparent, want the conversion's trace")
	}
}
