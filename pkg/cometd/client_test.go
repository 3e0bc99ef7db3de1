package cometd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/cdc"
	"github.com/sfsap/sfsap/pkg/cometd"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// eventWait bounds how long a test waits for an event before it fails
// instead of hanging. It is a guard, not a latency requirement.
const eventWait = 30 * time.Second

// simOrg is a simulated org with its CometD endpoint on 127.0.0.1 and a
// record of the Bayeux requests it received.
type simOrg struct {
	url    string
	store  *sfsim.Store
	faults *sfsim.CometDFaults

	mu       sync.Mutex
	tokens   map[string]bool
	requests []recordedRequest
}

// recordedRequest is one Bayeux message as the server received it.
type recordedRequest struct {
	channel string
	// replay is the subscribe message's replay id for the channel.
	replay    json.Number
	hasCookie bool
}

func startSim(t *testing.T) *simOrg {
	t.Helper()
	return startSimWith(t, sfsim.CometDOptions{ConnectTimeout: 2 * time.Second})
}

// startSimWith starts a simulated org with the given CometD options; it
// sets Authorize and Faults itself.
func startSimWith(t *testing.T, opts sfsim.CometDOptions) *simOrg {
	t.Helper()
	org := &simOrg{
		store:  sfsim.NewStore(),
		faults: &sfsim.CometDFaults{},
		tokens: map[string]bool{"token-1": true},
	}
	opts.Authorize = org.authorize
	opts.Faults = org.faults
	handler := sfsim.NewCometD(org.store, opts)
	mux := http.NewServeMux()
	mux.Handle("/cometd/", org.record(handler))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	org.url = srv.URL
	return org
}

func (o *simOrg) authorize(r *http.Request) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	token, ok := bytes.CutPrefix([]byte(r.Header.Get("Authorization")), []byte("Bearer "))
	if !ok || !o.tokens[string(token)] {
		return errors.New("invalid token")
	}
	return nil
}

func (o *simOrg) setTokens(tokens ...string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.tokens)
	for _, token := range tokens {
		o.tokens[token] = true
	}
}

// record wraps next so that every Bayeux message is recorded.
func (o *simOrg) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var msgs []struct {
			Channel      string `json:"channel"`
			Subscription string `json:"subscription"`
			Ext          struct {
				Replay map[string]json.Number `json:"replay"`
			} `json:"ext"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		_ = dec.Decode(&msgs)
		_, cookieErr := r.Cookie("BAYEUX_BROWSER")
		o.mu.Lock()
		for _, m := range msgs {
			o.requests = append(o.requests, recordedRequest{
				channel:   m.Channel,
				replay:    m.Ext.Replay[m.Subscription],
				hasCookie: cookieErr == nil,
			})
		}
		o.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (o *simOrg) recorded(channel string) []recordedRequest {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []recordedRequest
	for _, r := range o.requests {
		if channel == "" || r.channel == channel {
			out = append(out, r)
		}
	}
	return out
}

// tokenSource hands out token-1 until it is rejected, then token-2.
type tokenSource struct {
	mu       sync.Mutex
	current  string
	calls    int
	rejected []string
}

func (s *tokenSource) Token(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.current == "" {
		s.current = "token-1"
	}
	return s.current, nil
}

func (s *tokenSource) Rejected(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected = append(s.rejected, token)
	s.current = "token-2"
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

func newClient(t *testing.T, org *simOrg, tokens *tokenSource, mutate func(*cometd.Config)) *cometd.Client {
	t.Helper()
	cfg := cometd.Config{
		BaseURL:        org.url,
		TokenSource:    tokens.Token,
		TokenRejected:  tokens.Rejected,
		Logger:         testLogger(t),
		RetryBaseDelay: 10 * time.Millisecond,
		RetryMaxDelay:  50 * time.Millisecond,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := cometd.New(cfg)
	if err != nil {
		t.Fatalf("cometd.New() error = %v", err)
	}
	return c
}

// subscriber runs Subscribe in the background and collects the events
// its handler accepted.
type subscriber struct {
	events chan cometd.Event
	done   chan error
}

func subscribe(t *testing.T, c *cometd.Client, replayFrom int64, handler func(context.Context, cometd.Event) error) *subscriber {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	s := &subscriber{events: make(chan cometd.Event, 100), done: make(chan error, 1)}
	go func() {
		s.done <- c.Subscribe(ctx, replayFrom, func(ctx context.Context, ev cometd.Event) error {
			if handler != nil {
				if err := handler(ctx, ev); err != nil {
					return err
				}
			}
			s.events <- ev
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-s.done; !errors.Is(err, context.Canceled) {
			t.Errorf("Subscribe() after cancel = %v, want context.Canceled", err)
		}
	})
	return s
}

func (s *subscriber) next(t *testing.T) cometd.Event {
	t.Helper()
	select {
	case ev := <-s.events:
		return ev
	case err := <-s.done:
		t.Fatalf("Subscribe() returned %v while waiting for an event", err)
	case <-time.After(eventWait):
		t.Fatalf("no event within %s", eventWait)
	}
	return cometd.Event{}
}

// decode returns the single account change of an event.
func decode(t *testing.T, ev cometd.Event) msg.AccountChange {
	t.Helper()
	changes, err := cdc.DecodeCometD(ev.Data)
	if err != nil {
		t.Fatalf("cdc.DecodeCometD(event %d) error = %v", ev.ReplayID, err)
	}
	if len(changes) != 1 {
		t.Fatalf("event %d holds %d changes, want 1", ev.ReplayID, len(changes))
	}
	return changes[0]
}

func TestSubscribeCreateAndUpdate(t *testing.T) {
	t.Parallel()
	org := startSim(t)
	c := newClient(t, org, &tokenSource{}, nil)
	sub := subscribe(t, c, -2, nil)

	id, err := org.store.Create(map[string]any{"Name": "Larchfield Tools Ltd", "Type": "Prospect", "BillingCity": "Eastbrook"}, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	if err := org.store.Update(id, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	want := org.store.EventsAfter(0, 0)

	create := sub.next(t)
	update := sub.next(t)
	if create.ReplayID != want[0].ReplayID || update.ReplayID != want[1].ReplayID {
		t.Fatalf("replay ids = %d, %d, want %d, %d", create.ReplayID, update.ReplayID, want[0].ReplayID, want[1].ReplayID)
	}
	if create.Channel != cometd.DefaultChannel {
		t.Errorf("event channel = %q, want %q", create.Channel, cometd.DefaultChannel)
	}

	created := decode(t, create)
	if created.ChangeType != msg.ChangeCreate || created.AccountID != id {
		t.Errorf("first change = %s of %s, want CREATE of %s", created.ChangeType, created.AccountID, id)
	}
	if created.Fields["BillingAddress.City"] != "Eastbrook" {
		t.Errorf("CREATE Fields[BillingAddress.City] = %v, want Eastbrook", created.Fields["BillingAddress.City"])
	}
	updated := decode(t, update)
	if updated.ChangeType != msg.ChangeUpdate || updated.Fields["Type"] != "Customer" {
		t.Errorf("second change = %s with Type %v, want UPDATE with Type Customer", updated.ChangeType, updated.Fields["Type"])
	}
	if diff := cmp.Diff([]string{"LastModifiedDate", "Type"}, updated.ChangedFields); diff != "" {
		t.Errorf("UPDATE ChangedFields mismatch (-want +got):\n%s", diff)
	}
}

func TestSubscribeAfterUnknownClient(t *testing.T) {
	t.Parallel()
	org := startSim(t)
	c := newClient(t, org, &tokenSource{}, nil)
	sub := subscribe(t, c, -2, nil)

	id, err := org.store.Create(map[string]any{"Name": "Larchfield Tools Ltd"}, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	first := sub.next(t)

	org.faults.InjectUnknownClient()
	if err := org.store.Update(id, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	second := sub.next(t)
	if err := org.store.Update(id, map[string]any{"Phone": "+44 20 7946 0000"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	third := sub.next(t)

	var want []int64
	for _, ev := range org.store.EventsAfter(0, 0) {
		want = append(want, ev.ReplayID)
	}
	got := []int64{first.ReplayID, second.ReplayID, third.ReplayID}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replay ids received mismatch (-want +got):\n%s", diff)
	}
	select {
	case extra := <-sub.events:
		t.Errorf("received event %d again after the last one", extra.ReplayID)
	default:
	}

	if n := len(org.recorded("/meta/handshake")); n != 2 {
		t.Errorf("handshakes = %d, want 2", n)
	}
	subs := org.recorded("/meta/subscribe")
	if len(subs) != 2 {
		t.Fatalf("subscribes = %d, want 2", len(subs))
	}
	if subs[0].replay != "-2" {
		t.Errorf("first subscribe replay id = %s, want -2", subs[0].replay)
	}
	if want := json.Number(itoa(first.ReplayID)); subs[1].replay != want {
		t.Errorf("resubscribe replay id = %s, want %s (the last accepted event)", subs[1].replay, want)
	}
}

func TestSubscribeReplayInvalid(t *testing.T) {
	t.Parallel()
	org := startSim(t)
	if _, err := org.store.Create(map[string]any{"Name": "Larchfield Tools Ltd"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	purged := org.store.LatestReplayID()
	org.store.Purge(time.Now().Add(time.Hour))

	tests := []struct {
		name     string
		replayID int64
	}{
		{"purged", purged},
		{"never issued", purged + 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, org, &tokenSource{}, nil)
			err := c.Subscribe(t.Context(), tt.replayID, func(context.Context, cometd.Event) error { return nil })

			var replayErr *cometd.ReplayInvalidError
			if !errors.As(err, &replayErr) {
				t.Fatalf("Subscribe(%d) = %v, want a *ReplayInvalidError", tt.replayID, err)
			}
			if replayErr.ReplayID != tt.replayID {
				t.Errorf("ReplayInvalidError.ReplayID = %d, want %d", replayErr.ReplayID, tt.replayID)
			}
			if replayErr.Channel != cometd.DefaultChannel {
				t.Errorf("ReplayInvalidError.Channel = %q, want %q", replayErr.Channel, cometd.DefaultChannel)
			}
		})
	}
}

func TestSubscribeSendsCookies(t *testing.T) {
	t.Parallel()
	org := startSim(t)
	// A client without a jar must still keep the cookie.
	c := newClient(t, org, &tokenSource{}, func(cfg *cometd.Config) {
		cfg.HTTPClient = &http.Client{}
	})
	sub := subscribe(t, c, -2, nil)

	if _, err := org.store.Create(map[string]any{"Name": "Larchfield Tools Ltd"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	sub.next(t)

	requests := org.recorded("")
	if len(requests) < 3 {
		t.Fatalf("server received %d messages, want handshake, subscribe and connect", len(requests))
	}
	if requests[0].channel != "/meta/handshake" || requests[0].hasCookie {
		t.Errorf("first message = %+v, want a handshake without cookie", requests[0])
	}
	for i, r := range requests[1:] {
		if !r.hasCookie {
			t.Errorf("message %d (%s) has no BAYEUX_BROWSER cookie", i+1, r.channel)
		}
	}
}

func TestSubscribeRenewsRejectedToken(t *testing.T) {
	t.Parallel()
	org := startSim(t)
	tokens := &tokenSource{}
	c := newClient(t, org, tokens, nil)
	sub := subscribe(t, c, -2, nil)

	id, err := org.store.Create(map[string]any{"Name": "Larchfield Tools Ltd"}, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	first := sub.next(t)

	// Revoke token-1: the next connect gets 401, and the client must
	// hand it back, get token-2 and handshake again.
	org.setTokens("token-2")
	if err := org.store.Update(id, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	second := sub.next(t)
	if err := org.store.Update(id, map[string]any{"Type": "Customer - Direct"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	third := sub.next(t)

	var want []int64
	for _, ev := range org.store.EventsAfter(0, 0) {
		want = append(want, ev.ReplayID)
	}
	if diff := cmp.Diff(want, []int64{first.ReplayID, second.ReplayID, third.ReplayID}); diff != "" {
		t.Errorf("replay ids received mismatch (-want +got):\n%s", diff)
	}
	tokens.mu.Lock()
	defer tokens.mu.Unlock()
	if diff := cmp.Diff([]string{"token-1"}, tokens.rejected); diff != "" {
		t.Errorf("rejected tokens mismatch (-want +got):\n%s", diff)
	}
	if tokens.calls < 2 {
		t.Errorf("TokenSource calls = %d, want at least 2", tokens.calls)
	}
}

func TestSubscribeConnectUnauthorizedFault(t *testing.T) {
	t.Parallel()
	org := startSim(t)
	org.setTokens("token-1", "token-2")
	tokens := &tokenSource{}
	c := newClient(t, org, tokens, nil)
	sub := subscribe(t, c, -2, nil)

	id, err := org.store.Create(map[string]any{"Name": "Larchfield Tools Ltd"}, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Create() error = %v", err)
	}
	sub.next(t)
	org.faults.InjectConnectUnauthorized()
	if err := org.store.Update(id, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	sub.next(t)
	if err := org.store.Update(id, map[string]any{"Type": "Other"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	sub.next(t)

	// The held connect may deliver the update before the fault applies,
	// so the 401 is certain only by the third event.
	tokens.mu.Lock()
	defer tokens.mu.Unlock()
	if diff := cmp.Diff([]string{"token-1"}, tokens.rejected); diff != "" {
		t.Errorf("rejected tokens mismatch (-want +got):\n%s", diff)
	}
}

func TestSubscribeRetriesFailingHandler(t *testing.T) {
	t.Parallel()
	org := startSim(t)
	c := newClient(t, org, &tokenSource{}, nil)

	var mu sync.Mutex
	var calls []int64
	sub := subscribe(t, c, -2, func(_ context.Context, ev cometd.Event) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, ev.ReplayID)
		if len(calls) <= 2 {
			return errors.New("JetStream unavailable")
		}
		return nil
	})

	for _, name := range []string{"A", "B"} {
		if _, err := org.store.Create(map[string]any{"Name": name}, sfsim.WriteOptions{}); err != nil {
			t.Fatalf("Create(%s) error = %v", name, err)
		}
	}
	first := sub.next(t)
	second := sub.next(t)

	events := org.store.EventsAfter(0, 0)
	if first.ReplayID != events[0].ReplayID || second.ReplayID != events[1].ReplayID {
		t.Errorf("accepted replay ids = %d, %d, want %d, %d", first.ReplayID, second.ReplayID, events[0].ReplayID, events[1].ReplayID)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []int64{events[0].ReplayID, events[0].ReplayID, events[0].ReplayID, events[1].ReplayID}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("handler calls mismatch (-want +got):\n%s", diff)
	}
}

func TestSubscribeUnknownChannel(t *testing.T) {
	t.Parallel()
	org := startSim(t)
	c := newClient(t, org, &tokenSource{}, func(cfg *cometd.Config) {
		cfg.Channel = "/data/OpportunityChangeEvent"
	})

	err := c.Subscribe(t.Context(), -1, func(context.Context, cometd.Event) error { return nil })
	var bayeuxErr *cometd.Error
	if !errors.As(err, &bayeuxErr) {
		t.Fatalf("Subscribe(unknown channel) = %v, want a *cometd.Error", err)
	}
	if bayeuxErr.Code != 400 || bayeuxErr.Channel != "/meta/subscribe" {
		t.Errorf("Subscribe(unknown channel) error = %+v, want code 400 on /meta/subscribe", bayeuxErr)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	token := func(context.Context) (string, error) { return "t", nil }
	tests := []struct {
		name string
		cfg  cometd.Config
	}{
		{"no token source", cometd.Config{BaseURL: "http://127.0.0.1:1"}},
		{"no base URL", cometd.Config{TokenSource: token}},
		{"relative base URL", cometd.Config{BaseURL: "example.my.salesforce.com", TokenSource: token}},
		{"short HTTP timeout", cometd.Config{BaseURL: "http://127.0.0.1:1", TokenSource: token, HTTPClient: &http.Client{Timeout: time.Minute}}},
	}
	for _, tt := range tests {
		if c, err := cometd.New(tt.cfg); err == nil {
			t.Errorf("%s: New(%+v) = %v, want an error", tt.name, tt.cfg, c)
		}
	}
	if _, err := cometd.New(cometd.Config{BaseURL: "http://127.0.0.1:1", TokenSource: token, HTTPClient: &http.Client{Timeout: 3 * time.Minute}}); err != nil {
		t.Errorf("New(HTTP timeout 3m) error = %v, want nil", err)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
