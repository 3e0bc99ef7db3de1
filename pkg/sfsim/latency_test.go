package sfsim

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestLatencyDelaysDataRequests(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{Latency: time.Minute})
	// Login is not delayed, or this call would wait a minute.
	tok := login(t, s)

	client := &http.Client{Timeout: 200 * time.Millisecond}
	req, err := http.NewRequest(http.MethodGet, s.URL()+"/services/data/v60.0/limits", nil)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET limits with a one-minute latency = %d, want a client timeout", resp.StatusCode)
	}
	var netErr interface{ Timeout() bool }
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Fatalf("GET limits error = %v, want a timeout", err)
	}

	s.SetLatency(0)
	if got := s.Latency(); got != 0 {
		t.Fatalf("Latency() after SetLatency(0) = %v, want 0", got)
	}
	if r := call(t, s, http.MethodGet, "limits", tok, nil); r.status != http.StatusOK {
		t.Fatalf("GET limits without latency = %d, want 200", r.status)
	}
}

func TestSetLatencyClampsNegative(t *testing.T) {
	t.Parallel()
	s := New(Options{Latency: time.Second})
	if got := s.Latency(); got != time.Second {
		t.Fatalf("Latency() from Options = %v, want 1s", got)
	}
	s.SetLatency(-time.Second)
	if got := s.Latency(); got != 0 {
		t.Fatalf("Latency() after SetLatency(-1s) = %v, want 0", got)
	}
}
