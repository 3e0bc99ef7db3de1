package cometd_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/cometd"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// recordingHandler keeps every log record and passes it on to the test
// log.
type recordingHandler struct {
	mu      *sync.Mutex
	records *[]slog.Record
	next    slog.Handler
}

func recordLogs(t *testing.T) (*slog.Logger, func(level slog.Level, text string) int) {
	h := recordingHandler{mu: &sync.Mutex{}, records: &[]slog.Record{}, next: testLogger(t).Handler()}
	count := func(level slog.Level, text string) int {
		h.mu.Lock()
		defer h.mu.Unlock()
		n := 0
		for _, r := range *h.records {
			if r.Level == level && strings.Contains(r.Message, text) {
				n++
			}
		}
		return n
	}
	return slog.New(h), count
}

func (h recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h recordingHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	*h.records = append(*h.records, r.Clone())
	h.mu.Unlock()
	return h.next.Handle(ctx, r)
}

func (h recordingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.next = h.next.WithAttrs(attrs)
	return h
}

func (h recordingHandler) WithGroup(name string) slog.Handler {
	h.next = h.next.WithGroup(name)
	return h
}

func TestWatchdogReportsStallOnce(t *testing.T) {
	t.Parallel()
	org := startSim(t)
	org.setTokens() // every handshake is denied
	log, count := recordLogs(t)
	var mu sync.Mutex
	var changes []bool
	c := newClient(t, org, &tokenSource{}, func(cfg *cometd.Config) {
		cfg.Logger = log
		cfg.Watchdog = 200 * time.Millisecond
		cfg.StallChanged = func(stalled bool) {
			mu.Lock()
			changes = append(changes, stalled)
			mu.Unlock()
		}
	})
	sub := subscribe(t, c, -2, nil)

	// Several windows pass, with a handshake retry in each.
	deadline := time.Now().Add(eventWait)
	for len(org.recorded("/meta/handshake")) < 10 || count(slog.LevelError, "watchdog") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("handshakes = %d, watchdog errors = %d, want 10 or more and 1", len(org.recorded("/meta/handshake")), count(slog.LevelError, "watchdog"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(600 * time.Millisecond)
	if n := count(slog.LevelError, "watchdog"); n != 1 {
		t.Fatalf("watchdog errors = %d, want 1 for one outage", n)
	}

	org.setTokens("token-1", "token-2")
	if _, err := org.store.Create(map[string]any{"Name": "Larchfield Tools Ltd"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	sub.next(t)
	if n := count(slog.LevelInfo, "restored"); n != 1 {
		t.Errorf("restored messages = %d, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) != 2 || !changes[0] || changes[1] {
		t.Errorf("StallChanged calls = %v, want [true false]", changes)
	}
}

func TestSubscribeRecoversFromExpiredClient(t *testing.T) {
	t.Parallel()
	// The server drops a client that takes longer than ClientExpiry to
	// come back for the next connect, as Salesforce does after 40 s.
	org := startSimWith(t, sfsim.CometDOptions{ConnectTimeout: 2 * time.Second, ClientExpiry: 300 * time.Millisecond})
	c := newClient(t, org, &tokenSource{}, nil)
	slow := make(chan struct{})
	var once sync.Once
	sub := subscribe(t, c, -2, func(_ context.Context, ev cometd.Event) error {
		once.Do(func() { <-slow })
		return nil
	})
	for i := range 3 {
		if _, err := org.store.Create(map[string]any{"Name": "Account " + string(rune('A'+i))}, sfsim.WriteOptions{}); err != nil {
			t.Fatalf("Create() error = %v", err)
		}
	}
	// The handler blocks on the first event well past the expiry.
	time.Sleep(time.Second)
	close(slow)

	var got []int64
	for range 3 {
		got = append(got, sub.next(t).ReplayID)
	}
	var want []int64
	for _, ev := range org.store.EventsAfter(0, 0) {
		want = append(want, ev.ReplayID)
	}
	if len(got) != len(want) {
		t.Fatalf("received %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("received %v, want %v, each once and in order", got, want)
		}
	}
	select {
	case extra := <-sub.events:
		t.Errorf("received event %d again", extra.ReplayID)
	case <-time.After(500 * time.Millisecond):
	}
	if n := len(org.recorded("/meta/handshake")); n < 2 {
		t.Errorf("handshakes = %d, want a new one after the server expired the client", n)
	}
}
