package pubsub_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/pubsub"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// eventWait bounds how long a test waits for events before it fails
// instead of hanging. It is a guard, not a latency requirement.
const eventWait = 30 * time.Second

// simOrg is a simulated org on 127.0.0.1: the HTTP server with OAuth,
// REST and CometD, and the Pub/Sub endpoint, over the same store.
type simOrg struct {
	sf     *sfsim.Server
	ps     *sfsim.PubSub
	store  *sfsim.Store
	faults *sfsim.PubSubFaults
	tokens *tokenSource
}

func startOrg(t *testing.T, opts sfsim.PubSubOptions) *simOrg {
	t.Helper()
	sf := sfsim.New(sfsim.Options{})
	sf.Handle("/cometd/", sfsim.NewCometD(sf.Store(), sfsim.CometDOptions{
		Authorize: func(r *http.Request) error {
			_, err := sf.CheckToken(r)
			return err
		},
		ConnectTimeout: time.Second,
	}))
	if err := sf.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting Salesforce simulator: %v", err)
	}
	t.Cleanup(sf.Close)

	if opts.Faults == nil {
		opts.Faults = &sfsim.PubSubFaults{}
	}
	opts.Authorize = sf.AuthorizePubSub
	ps, err := sfsim.NewPubSub(sf.Store(), opts)
	if err != nil {
		t.Fatalf("NewPubSub: %v", err)
	}
	if err := ps.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting Pub/Sub simulator: %v", err)
	}
	t.Cleanup(ps.Close)
	return &simOrg{sf: sf, ps: ps, store: sf.Store(), faults: opts.Faults, tokens: &tokenSource{baseURL: sf.URL()}}
}

// client returns a Pub/Sub client for the org with short retry delays.
// modify, if set, changes the configuration first.
func (o *simOrg) client(t *testing.T, modify func(*pubsub.Config)) *pubsub.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	if _, err := o.tokens.Token(ctx); err != nil {
		t.Fatalf("getting a token: %v", err)
	}
	cfg := pubsub.Config{
		Addr:           o.ps.Addr(),
		CAPEM:          o.ps.CAPEM(),
		TokenSource:    o.tokens.Token,
		TokenRejected:  o.tokens.Rejected,
		InstanceURL:    o.sf.URL(),
		TenantID:       o.tokens.orgID(),
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  10 * time.Millisecond,
		Logger:         testLogger(t),
	}
	if modify != nil {
		modify(&cfg)
	}
	c, err := pubsub.New(cfg)
	if err != nil {
		t.Fatalf("pubsub.New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// tokenSource fetches client-credentials tokens from the simulator's
// OAuth endpoint and keeps one until it is rejected.
type tokenSource struct {
	baseURL string

	mu       sync.Mutex
	current  string
	id       string
	fetched  int
	rejected []string
}

func (s *tokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != "" {
		return s.current, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"sfsim-client"}, "client_secret": {"sfsim-secret"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.baseURL+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ID          string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		return "", fmt.Errorf("token response with status %s: %v", resp.Status, err)
	}
	s.current, s.id = body.AccessToken, body.ID
	s.fetched++
	return s.current, nil
}

func (s *tokenSource) Rejected(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected = append(s.rejected, token)
	if token == s.current {
		s.current = ""
	}
}

// orgID returns the org id from the identity URL of the last token,
// .../id/<org id>/<user id>.
func (s *tokenSource) orgID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := strings.Split(s.id, "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[len(parts)-2]
}

func (s *tokenSource) counts() (fetched, rejected int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetched, len(s.rejected)
}

// collector records the events a handler accepted.
type collector struct {
	mu     sync.Mutex
	events []pubsub.Event
	added  chan struct{}
}

func newCollector() *collector {
	return &collector{added: make(chan struct{}, 1)}
}

func (c *collector) handle(_ context.Context, ev pubsub.Event) error {
	c.mu.Lock()
	c.events = append(c.events, ev)
	c.mu.Unlock()
	select {
	case c.added <- struct{}{}:
	default:
	}
	return nil
}

// changes returns the accepted change events, without keepalives.
func (c *collector) changes() []pubsub.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []pubsub.Event
	for _, ev := range c.events {
		if !ev.Keepalive {
			out = append(out, ev)
		}
	}
	return out
}

func (c *collector) all() []pubsub.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]pubsub.Event(nil), c.events...)
}

// waitChanges waits until the collector holds n change events.
func (c *collector) waitChanges(t *testing.T, n int) []pubsub.Event {
	t.Helper()
	deadline := time.After(eventWait)
	for {
		if got := c.changes(); len(got) >= n {
			return got
		}
		select {
		case <-c.added:
		case <-deadline:
			t.Fatalf("received %d change events, want %d", len(c.changes()), n)
		}
	}
}

// subscribeInBackground runs Subscribe until the test ends and returns a
// channel that receives its result.
func subscribeInBackground(t *testing.T, c *pubsub.Client, replayID []byte, preset pubsub.ReplayPreset, handler func(context.Context, pubsub.Event) error) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- c.Subscribe(ctx, replayID, preset, handler)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	return done
}

// waitUntil polls cond until it holds, and fails the test after eventWait.
// Call it from the test's goroutine only.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !eventually(cond) {
		t.Fatalf("timed out waiting until %s", what)
	}
}

// eventually polls cond until it holds and reports whether it did within
// eventWait. Handlers use it, since they must not call t.Fatalf.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(eventWait)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
