package notifier

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/tracing"
	"github.com/sfsap/sfsap/schemas"
	"github.com/sfsap/sfsap/test/natstest"
)

type bundle struct {
	nats  *natstest.Bundle
	teams *hook
	slack *hook
}

// setup starts NATS, a Teams and a Slack hook, and a notifier configured
// by tweak, and stops them when the test ends.
func setup(t *testing.T, tweak func(*Config)) *bundle {
	t.Helper()
	b := &bundle{nats: natstest.Start(t, bus.Topology{}), teams: &hook{}, slack: &hook{}}
	cfg := Config{
		Backoff: 50 * time.Millisecond, MaxBackoff: 2 * time.Second, MaxAttempts: 3, Concurrency: 1,
		Teams: Webhook{WebhookURL: startHook(t, b.teams)},
		Slack: Webhook{WebhookURL: startHook(t, b.slack)},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := New(context.Background(), cfg, b.nats.JS, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return b
}

func (b *bundle) publish(t *testing.T, ctx context.Context, r msg.Result) {
	t.Helper()
	if _, err := bus.Publish(ctx, b.nats.JS, bus.ResultSubject(r.Outcome, r.AccountID), r, "", nil); err != nil {
		t.Fatalf("publishing result: %v", err)
	}
}

// waitFor polls cond until it holds, failing the test after 30s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func syncedResult() msg.Result {
	r := failedResult()
	r.Outcome, r.SAPCustomer, r.Reason = msg.OutcomeSynced, "0000100001", ""
	return r
}

// deadLetters returns the dead letters stored under sfsap.dlq.notifier.
func (b *bundle) deadLetters(t *testing.T) []msg.DeadLetter {
	t.Helper()
	ctx := context.Background()
	cons, err := b.nats.JS.OrderedConsumer(ctx, bus.StreamDLQ, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"sfsap.dlq.notifier.>"}})
	if err != nil {
		t.Fatalf("reading dead letters: %v", err)
	}
	batch, err := cons.FetchNoWait(100)
	if err != nil {
		t.Fatalf("fetching dead letters: %v", err)
	}
	var out []msg.DeadLetter
	for m := range batch.Messages() {
		if err := schemas.Validate(m.Data()); err != nil {
			t.Errorf("dead letter on %s breaks its schema: %v", m.Subject(), err)
		}
		var dl msg.DeadLetter
		if err := json.Unmarshal(m.Data(), &dl); err != nil {
			t.Fatalf("decoding dead letter: %v", err)
		}
		out = append(out, dl)
	}
	return out
}

func TestNotifierSendsFailuresOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.publish(t, context.Background(), syncedResult())
	b.publish(t, context.Background(), failedResult())

	waitFor(t, "the failure on Teams and Slack", func() bool { return b.teams.requests() >= 1 && b.slack.requests() >= 1 })
	// The synced outcome came first, so it would have arrived by now.
	if n := b.teams.requests(); n != 1 {
		t.Errorf("Teams received %d messages, want 1 (the failure only)", n)
	}
	if n := b.slack.requests(); n != 1 {
		t.Errorf("Slack received %d messages, want 1 (the failure only)", n)
	}
}

func TestNotifierSendsAllOutcomes(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Notify = NotifyAll })
	b.publish(t, context.Background(), syncedResult())
	b.publish(t, context.Background(), failedResult())
	waitFor(t, "both outcomes on Teams", func() bool { return b.teams.requests() >= 2 })
	if n := b.teams.requests(); n != 2 {
		t.Errorf("Teams received %d messages, want 2", n)
	}
}

func TestNotifierSinkNotifyOverride(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Slack.Notify = NotifyAll })
	b.publish(t, context.Background(), syncedResult())
	b.publish(t, context.Background(), failedResult())
	waitFor(t, "both outcomes on Slack", func() bool { return b.slack.requests() >= 2 && b.teams.requests() >= 1 })
	if n := b.teams.requests(); n != 1 {
		t.Errorf("Teams received %d messages, want 1 (failures only)", n)
	}
}

func TestNotifierRetriesTransientFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Slack = Webhook{} })
	b.teams.reply("", http.StatusServiceUnavailable, http.StatusInternalServerError)
	b.publish(t, context.Background(), failedResult())

	waitFor(t, "the third attempt", func() bool { return b.teams.requests() >= 3 })
	if dls := b.deadLetters(t); len(dls) != 0 {
		t.Errorf("dead letters = %+v, want none after the third attempt succeeded", dls)
	}
	if !json.Valid(b.teams.body(2)) {
		t.Errorf("third request body is not JSON: %s", b.teams.body(2))
	}
}

func TestNotifierHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Slack = Webhook{} })
	b.teams.reply("1", http.StatusTooManyRequests)
	b.publish(t, context.Background(), failedResult())

	waitFor(t, "the second attempt", func() bool { return b.teams.requests() >= 2 })
	b.teams.mu.Lock()
	gap := b.teams.times[1].Sub(b.teams.times[0])
	b.teams.mu.Unlock()
	// A lower bound only: JetStream never redelivers before the delay.
	if gap < 900*time.Millisecond {
		t.Errorf("second attempt came %s after the 429, want at least the 1s of Retry-After", gap)
	}
}

func TestNotifierDeadLettersAfterLastAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.teams.reply("", 500, 500, 500, 500, 500, 500)
	b.publish(t, context.Background(), failedResult())

	waitFor(t, "a dead letter", func() bool { return len(b.deadLetters(t)) > 0 })
	if n := b.teams.requests(); n != 3 {
		t.Errorf("Teams received %d attempts, want MaxAttempts = 3", n)
	}
	if n := b.slack.requests(); n != 1 {
		t.Errorf("Slack received %d messages, want 1: a failing Teams must not hold it back or repeat it", n)
	}
	dls := b.deadLetters(t)
	if len(dls) != 1 {
		t.Fatalf("dead letters = %d, want 1", len(dls))
	}
	dl := dls[0]
	if dl.Stage != Stage || dl.Code != "teams" || dl.AccountID != testAccount || dl.Attempts != 3 {
		t.Errorf("dead letter stage/code/account/attempts = %s/%s/%s/%d, want notifier/teams/%s/3", dl.Stage, dl.Code, dl.AccountID, dl.Attempts, testAccount)
	}
	if dl.Subject != bus.ResultSubject(msg.OutcomeFailed, testAccount) {
		t.Errorf("dead letter subject = %q, want the result's subject for a replay", dl.Subject)
	}
}

func TestNotifierPermanentFailureNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Slack = Webhook{} })
	b.teams.reply("", http.StatusNotFound, http.StatusNotFound)
	b.publish(t, context.Background(), failedResult())

	waitFor(t, "a dead letter", func() bool { return len(b.deadLetters(t)) > 0 })
	if n := b.teams.requests(); n != 1 {
		t.Errorf("Teams received %d attempts, want 1 for a 404", n)
	}
	if dl := b.deadLetters(t)[0]; dl.Attempts != 1 {
		t.Errorf("dead letter attempts = %d, want 1", dl.Attempts)
	}
}

func TestNotifierPropagatesTrace(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Slack = Webhook{} })
	ctx, span := tracing.StartRoot(context.Background(), "test result")
	defer span.End()
	b.publish(t, ctx, failedResult())

	waitFor(t, "the notification", func() bool { return b.teams.requests() >= 1 })
	b.teams.mu.Lock()
	header := b.teams.headers[0]
	b.teams.mu.Unlock()
	got := tracing.TraceIDFromHeader(map[string][]string{"traceparent": {header.Get("Traceparent")}})
	if want := tracing.TraceID(ctx); got != want {
		t.Errorf("webhook request trace id = %q, want the result's %q", got, want)
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	s := &Service{cfg: Config{Backoff: time.Second, MaxBackoff: 10 * time.Second}}
	tests := []struct {
		attempt    uint64
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 0, time.Second},
		{2, 0, 2 * time.Second},
		{3, 0, 4 * time.Second},
		{5, 0, 10 * time.Second},
		{60, 0, 10 * time.Second},
		{1, 3 * time.Second, 3 * time.Second},
		{1, time.Hour, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := s.retryDelay(tt.attempt, tt.retryAfter); got != tt.want {
			t.Errorf("retryDelay(%d, %s) = %s, want %s", tt.attempt, tt.retryAfter, got, tt.want)
		}
	}
}

func TestNewWithoutSinkFails(t *testing.T) {
	t.Parallel()
	n := natstest.Start(t, bus.Topology{})
	if _, err := New(context.Background(), Config{}, n.JS, nil); err == nil {
		t.Fatal("New(no sink) succeeded, want an error naming the settings")
	}
}
