package cometd

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/sfsim"
)

func TestBackoffDelays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		base, max time.Duration
		attempt   int
		wantCap   time.Duration
	}{
		{"first", time.Second, time.Minute, 0, time.Second},
		{"doubles", time.Second, time.Minute, 3, 8 * time.Second},
		{"reaches cap", time.Second, time.Minute, 6, time.Minute},
		{"stays capped", time.Second, time.Minute, 1000, time.Minute},
		{"huge cap", time.Second, math.MaxInt64, 200, math.MaxInt64},
	}
	for _, tt := range tests {
		c := &Client{cfg: Config{RetryBaseDelay: tt.base, RetryMaxDelay: tt.max}}
		for range 50 {
			got := c.backoff(tt.attempt)
			if got > tt.wantCap || got < tt.wantCap/2 {
				t.Fatalf("%s: backoff(%d) = %s, want between %s and %s", tt.name, tt.attempt, got, tt.wantCap/2, tt.wantCap)
			}
		}
	}
}

// TestHandshakeBackoffCapped lets the simulator deny several handshakes
// and checks the delays the client asks for, without waiting for them.
func TestHandshakeBackoffCapped(t *testing.T) {
	t.Parallel()
	store := sfsim.NewStore()
	faults := &sfsim.CometDFaults{}
	const denials = 7
	for range denials {
		faults.InjectHandshakeDenied()
	}
	mux := http.NewServeMux()
	mux.Handle("/cometd/", sfsim.NewCometD(store, sfsim.CometDOptions{Faults: faults}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	var rejected int
	c, err := New(Config{
		BaseURL:        srv.URL,
		TokenSource:    func(context.Context) (string, error) { return "token", nil },
		TokenRejected:  func(string) { rejected++ },
		RetryBaseDelay: time.Second,
		RetryMaxDelay:  8 * time.Second,
	})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	var mu sync.Mutex
	var delays []time.Duration
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		delays = append(delays, d)
		return ctx.Err()
	}
	if _, err := store.Create(map[string]any{"Name": "Larchfield Tools Ltd"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Create() error = %v", err)
	}

	// The handler stops Subscribe once the first event arrives, which
	// needs a successful handshake.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err = c.Subscribe(ctx, -2, func(context.Context, Event) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe() = %v, want context.Canceled", err)
	}

	mu.Lock()
	defer mu.Unlock()
	caps := []time.Duration{1, 2, 4, 8, 8, 8, 8}
	if len(delays) != denials {
		t.Fatalf("backoff delays = %v, want %d of them", delays, denials)
	}
	for i, d := range delays {
		maxDelay := caps[i] * time.Second
		if d > maxDelay || d < maxDelay/2 {
			t.Errorf("delay %d = %s, want between %s and %s", i, d, maxDelay/2, maxDelay)
		}
	}
	if rejected != denials {
		t.Errorf("TokenRejected calls = %d, want %d", rejected, denials)
	}
}
