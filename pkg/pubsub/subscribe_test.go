package pubsub_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/sfsap/sfsap/pkg/pubsub"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

func createAccounts(t *testing.T, store *sfsim.Store, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		id, err := store.Create(map[string]any{"Name": fmt.Sprintf("Account %d", i), "Type": "Prospect"}, sfsim.WriteOptions{})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		ids[i] = id
	}
	return ids
}

// storeReplayIDs returns the encoded replay ids of the store's events.
func storeReplayIDs(store *sfsim.Store) [][]byte {
	var out [][]byte
	for _, ev := range store.EventsAfter(0, 0) {
		out = append(out, sfsim.EncodeReplayID(ev.ReplayID))
	}
	return out
}

func replayIDs(events []pubsub.Event) [][]byte {
	out := make([][]byte, len(events))
	for i, ev := range events {
		out[i] = ev.ReplayID
	}
	return out
}

func TestSubscribeDecodesChanges(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{})
	id, err := org.store.Create(map[string]any{
		"Name": "Larchfield Tools Ltd", "Type": "Prospect", "BillingCity": "Westbrook",
		"BillingCountry": "GB", "NumberOfEmployees": 42, "AnnualRevenue": 1.5e6, "Phone": "+44 20 7946 0000",
	}, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := org.store.Update(id, map[string]any{"Type": "Customer", "BillingCity": "Eastbrook", "Phone": nil}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Update: %v", err)
	}

	c := org.client(t, nil)
	got := newCollector()
	subscribeInBackground(t, c, nil, pubsub.ReplayEarliest, got.handle)
	events := got.waitChanges(t, 2)

	for i, ev := range events {
		if ev.DecodeErr != nil {
			t.Fatalf("event %d: DecodeErr = %v", i, ev.DecodeErr)
		}
		if ev.SchemaID != org.ps.SchemaID() {
			t.Errorf("event %d: SchemaID = %q, want %q", i, ev.SchemaID, org.ps.SchemaID())
		}
	}
	create, err := events[0].Change.AccountChanges()
	if err != nil {
		t.Fatalf("AccountChanges of the CREATE: %v", err)
	}
	wantFields := map[string]any{
		"Name": "Larchfield Tools Ltd", "Type": "Prospect", "BillingAddress.City": "Westbrook",
		"BillingAddress.Country": "GB", "NumberOfEmployees": float64(42), "AnnualRevenue": 1.5e6,
		"Phone": "+44 20 7946 0000", "CreatedById": sfsim.DefaultUserID, "LastModifiedById": sfsim.DefaultUserID,
	}
	for _, f := range []string{"CreatedDate", "LastModifiedDate"} {
		if _, ok := create[0].Fields[f].(string); !ok {
			t.Errorf("CREATE field %s = %#v, want a datetime string", f, create[0].Fields[f])
		}
		delete(create[0].Fields, f)
	}
	if diff := cmp.Diff(wantFields, create[0].Fields); diff != "" {
		t.Errorf("CREATE fields (-want +got):\n%s", diff)
	}

	update, err := events[1].Change.AccountChanges()
	if err != nil {
		t.Fatalf("AccountChanges of the UPDATE: %v", err)
	}
	if diff := cmp.Diff([]string{"BillingAddress.City", "LastModifiedDate", "Phone", "Type"}, update[0].ChangedFields); diff != "" {
		t.Errorf("UPDATE changed fields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Phone"}, update[0].NulledFields); diff != "" {
		t.Errorf("UPDATE nulled fields (-want +got):\n%s", diff)
	}
	if got := update[0].Fields["Type"]; got != "Customer" {
		t.Errorf("UPDATE Type = %v, want Customer", got)
	}
	if got := update[0].Fields["BillingAddress.City"]; got != "Eastbrook" {
		t.Errorf("UPDATE BillingAddress.City = %v, want Eastbrook", got)
	}
	if _, ok := update[0].Fields["Name"]; ok {
		t.Errorf("UPDATE carries unchanged field Name = %v, want it absent", update[0].Fields["Name"])
	}
	if got := org.ps.Stats().SchemaRequests; got != 1 {
		t.Errorf("GetSchema calls = %d, want 1 (cached per schema id)", got)
	}
}

func TestSubscribeReplayIDRoundTrip(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{})
	createAccounts(t, org.store, 4)
	c := org.client(t, nil)

	first := newCollector()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Subscribe(ctx, nil, pubsub.ReplayEarliest, first.handle) }()
	events := first.waitChanges(t, 4)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe after cancel = %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(storeReplayIDs(org.store), replayIDs(events)); diff != "" {
		t.Fatalf("replay ids differ from the ones the server sent (-want +got):\n%s", diff)
	}

	// Resume after the second event with its bytes as they were stored.
	stored := base64.StdEncoding.EncodeToString(events[1].ReplayID)
	resume, err := base64.StdEncoding.DecodeString(stored)
	if err != nil {
		t.Fatalf("decoding stored replay id: %v", err)
	}
	second := newCollector()
	subscribeInBackground(t, c, resume, pubsub.ReplayLatest, second.handle)
	resumed := second.waitChanges(t, 2)
	if diff := cmp.Diff(replayIDs(events[2:]), replayIDs(resumed)); diff != "" {
		t.Errorf("events after resuming (-want +got):\n%s", diff)
	}
	sent := org.ps.Stats().CustomReplayIDs
	if len(sent) != 1 || !bytes.Equal(sent[0], events[1].ReplayID) {
		t.Errorf("replay ids sent with CUSTOM = %x, want exactly [%x]", sent, events[1].ReplayID)
	}
}

func TestSubscribeRejectedReplayID(t *testing.T) {
	t.Parallel()
	// A checkpoint saved in a form Salesforce never sent, or saved more
	// than 72 hours ago.
	expired, err := base64.StdEncoding.DecodeString("AAAAAAAQ200AAA==")
	if err != nil {
		t.Fatalf("decoding replay id: %v", err)
	}
	tests := []struct {
		name     string
		replayID []byte
		setup    func(*simOrg) []byte
	}{
		{name: "saved checkpoint of another form", replayID: expired},
		{name: "decimal text", replayID: []byte("1002")},
		{name: "purged", setup: func(o *simOrg) []byte {
			old := o.store.EventsAfter(0, 1)[0].ReplayID
			o.store.Purge(time.Now().Add(time.Hour))
			return sfsim.EncodeReplayID(old)
		}},
		{name: "injected fault", setup: func(o *simOrg) []byte {
			o.faults.InjectReplayCorrupted()
			return sfsim.EncodeReplayID(o.store.LatestReplayID())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			org := startOrg(t, sfsim.PubSubOptions{})
			createAccounts(t, org.store, 3)
			replayID := tt.replayID
			if tt.setup != nil {
				replayID = tt.setup(org)
			}
			c := org.client(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), eventWait)
			defer cancel()

			calls := 0
			err := c.Subscribe(ctx, replayID, pubsub.ReplayLatest, func(context.Context, pubsub.Event) error {
				calls++
				return nil
			})
			invalid, ok := errors.AsType[*pubsub.ReplayInvalidError](err)
			if !ok {
				t.Fatalf("Subscribe(%x) = %v, want a *ReplayInvalidError", replayID, err)
			}
			if !bytes.Equal(invalid.ReplayID, replayID) {
				t.Errorf("ReplayInvalidError.ReplayID = %x, want %x", invalid.ReplayID, replayID)
			}
			if invalid.Err.Code != codes.InvalidArgument || invalid.Err.ErrorCode != pubsub.ErrorCodeReplayCorrupted {
				t.Errorf("ReplayInvalidError.Err = %v, want InvalidArgument with %s", invalid.Err, pubsub.ErrorCodeReplayCorrupted)
			}
			if calls != 0 {
				t.Errorf("handler called %d times, want 0", calls)
			}
			if got := org.ps.Stats().Streams; got != 1 {
				t.Errorf("streams opened = %d, want 1 (no retry)", got)
			}
		})
	}
}

// TestSubscribeSlowHandlerKeepsStream checks that a handler slower than
// the server keeps the stream open: the client asks for more events
// before its credits run out.
func TestSubscribeSlowHandlerKeepsStream(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{IdleTimeout: 5 * time.Second})
	createAccounts(t, org.store, 20)
	c := org.client(t, func(cfg *pubsub.Config) { cfg.BatchSize = 3 })

	got := newCollector()
	subscribeInBackground(t, c, nil, pubsub.ReplayEarliest, func(ctx context.Context, ev pubsub.Event) error {
		time.Sleep(5 * time.Millisecond)
		return got.handle(ctx, ev)
	})
	events := got.waitChanges(t, 20)

	if diff := cmp.Diff(storeReplayIDs(org.store), replayIDs(events)); diff != "" {
		t.Errorf("handled events (-want +got):\n%s", diff)
	}
	stats := org.ps.Stats()
	if stats.MaxNumRequested != 3 {
		t.Errorf("largest num_requested = %d, want 3", stats.MaxNumRequested)
	}
	if stats.Streams != 1 || stats.IdleCloses != 0 {
		t.Errorf("streams = %d, idle closes = %d; want 1 stream and no idle close", stats.Streams, stats.IdleCloses)
	}
}

// TestSubscribeReceivesWhileHandlerBlocked checks that receiving runs
// apart from handling: while the handler holds the first event, the client
// keeps requesting events until its buffer is full.
func TestSubscribeReceivesWhileHandlerBlocked(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{IdleTimeout: time.Minute})
	createAccounts(t, org.store, 10)
	c := org.client(t, func(cfg *pubsub.Config) {
		cfg.BatchSize = 3
		cfg.BufferSize = 6
	})

	got := newCollector()
	var calls atomic.Int32
	subscribeInBackground(t, c, nil, pubsub.ReplayEarliest, func(ctx context.Context, ev pubsub.Event) error {
		if !ev.Keepalive && calls.Add(1) == 1 {
			if !eventually(func() bool { return org.ps.Stats().Delivered >= 6 }) {
				t.Errorf("the server delivered %d events while the handler was blocked, want a full buffer of 6", org.ps.Stats().Delivered)
			}
		}
		return got.handle(ctx, ev)
	})
	events := got.waitChanges(t, 10)

	if diff := cmp.Diff(storeReplayIDs(org.store), replayIDs(events)); diff != "" {
		t.Errorf("handled events (-want +got):\n%s", diff)
	}
	if got := org.ps.Stats().Streams; got != 1 {
		t.Errorf("streams = %d, want 1", got)
	}
}

// TestSubscribeBlockedHandlerResumes checks a handler that blocks until
// the server closed the idle stream: the client handles what it buffered,
// subscribes again from the last handled event, and handles every event
// once.
func TestSubscribeBlockedHandlerResumes(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{IdleTimeout: 50 * time.Millisecond, KeepaliveInterval: 20 * time.Millisecond})
	createAccounts(t, org.store, 12)
	c := org.client(t, func(cfg *pubsub.Config) { cfg.BatchSize = 3 })

	got := newCollector()
	var calls atomic.Int32
	subscribeInBackground(t, c, nil, pubsub.ReplayEarliest, func(ctx context.Context, ev pubsub.Event) error {
		if !ev.Keepalive && calls.Add(1) == 3 {
			if !eventually(func() bool { return org.ps.Stats().IdleCloses > 0 }) {
				t.Errorf("the server did not close the idle stream while the handler was blocked")
			}
		}
		return got.handle(ctx, ev)
	})
	events := got.waitChanges(t, 12)

	if diff := cmp.Diff(storeReplayIDs(org.store), replayIDs(events)); diff != "" {
		t.Errorf("handled events (-want +got):\n%s", diff)
	}
	if got := org.ps.Stats().Streams; got < 2 {
		t.Errorf("streams = %d, want at least 2 (a new one after the idle close)", got)
	}
}

func TestSubscribeTokenExpiryResumes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		keepalive time.Duration
		expire    func(*simOrg)
	}{
		// The session ends and the server ends the stream at once.
		{"stream ended", time.Hour, func(o *simOrg) {
			o.sf.ExpireTokens()
			o.faults.InjectAuthExpired()
		}},
		// The session ends; the server notices at its next keepalive.
		{"noticed at keepalive", 20 * time.Millisecond, func(o *simOrg) { o.sf.ExpireTokens() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			org := startOrg(t, sfsim.PubSubOptions{KeepaliveInterval: tt.keepalive})
			createAccounts(t, org.store, 2)
			c := org.client(t, nil)

			got := newCollector()
			subscribeInBackground(t, c, nil, pubsub.ReplayEarliest, got.handle)
			got.waitChanges(t, 2)

			tt.expire(org)
			waitUntil(t, "the client reports the rejected token", func() bool {
				_, rejected := org.tokens.counts()
				return rejected > 0
			})
			createAccounts(t, org.store, 2)
			events := got.waitChanges(t, 4)

			if diff := cmp.Diff(storeReplayIDs(org.store), replayIDs(events)); diff != "" {
				t.Errorf("handled events (-want +got):\n%s", diff)
			}
			if fetched, _ := org.tokens.counts(); fetched != 2 {
				t.Errorf("tokens fetched = %d, want 2", fetched)
			}
		})
	}
}

func TestSubscribeUnavailableResumes(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{})
	createAccounts(t, org.store, 3)
	c := org.client(t, nil)

	got := newCollector()
	subscribeInBackground(t, c, nil, pubsub.ReplayEarliest, got.handle)
	got.waitChanges(t, 3)
	org.faults.InjectUnavailable()
	waitUntil(t, "the client opens a second stream", func() bool { return org.ps.Stats().Streams >= 2 })
	createAccounts(t, org.store, 3)
	events := got.waitChanges(t, 6)

	if diff := cmp.Diff(storeReplayIDs(org.store), replayIDs(events)); diff != "" {
		t.Errorf("handled events (-want +got):\n%s", diff)
	}
}

func TestSubscribeKeepalivePosition(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{KeepaliveInterval: 10 * time.Millisecond})
	createAccounts(t, org.store, 2)
	c := org.client(t, nil)

	got := newCollector()
	subscribeInBackground(t, c, nil, pubsub.ReplayLatest, got.handle)
	waitUntil(t, "several keepalives were sent", func() bool { return org.ps.Stats().Keepalives >= 3 })

	want := []pubsub.Event{{ReplayID: sfsim.EncodeReplayID(org.store.LatestReplayID()), Keepalive: true}}
	if diff := cmp.Diff(want, got.all()); diff != "" {
		t.Errorf("handled items (-want +got):\n%s", diff)
	}
}

func TestSubscribeRetriesFailingHandler(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{})
	createAccounts(t, org.store, 3)
	c := org.client(t, nil)

	got := newCollector()
	var mu sync.Mutex
	attempts := map[string]int{}
	subscribeInBackground(t, c, nil, pubsub.ReplayEarliest, func(ctx context.Context, ev pubsub.Event) error {
		mu.Lock()
		attempts[string(ev.ReplayID)]++
		n := attempts[string(ev.ReplayID)]
		mu.Unlock()
		if n <= 2 && bytes.Equal(ev.ReplayID, storeReplayIDs(org.store)[0]) {
			return errors.New("JetStream unavailable")
		}
		return got.handle(ctx, ev)
	})
	events := got.waitChanges(t, 3)

	if diff := cmp.Diff(storeReplayIDs(org.store), replayIDs(events)); diff != "" {
		t.Errorf("handled events (-want +got):\n%s", diff)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := attempts[string(storeReplayIDs(org.store)[0])]; got != 3 {
		t.Errorf("handler calls for the first event = %d, want 3", got)
	}
}

func TestSubscribeUnknownTopic(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{})
	c := org.client(t, func(cfg *pubsub.Config) { cfg.TopicName = "/data/NoSuchEvent" })
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()

	err := c.Subscribe(ctx, nil, pubsub.ReplayLatest, func(context.Context, pubsub.Event) error { return nil })
	e, ok := errors.AsType[*pubsub.Error](err)
	if !ok || e.Code != codes.NotFound {
		t.Fatalf("Subscribe to an unknown topic = %v, want an *Error with NotFound", err)
	}
	if e.RPCID == "" {
		t.Errorf("Error.RPCID is empty, want the rpc-id trailer")
	}
}

func TestGetTopicAndSchema(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.PubSubOptions{})
	org.sf.ExpireTokens() // The client must get past one rejected token.
	c := org.client(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()

	info, err := c.GetTopic(ctx, pubsub.DefaultTopic)
	if err != nil {
		t.Fatalf("GetTopic: %v", err)
	}
	want := pubsub.TopicInfo{Name: pubsub.DefaultTopic, TenantGUID: org.tokens.orgID(), CanSubscribe: true, SchemaID: org.ps.SchemaID()}
	if diff := cmp.Diff(want, info); diff != "" {
		t.Errorf("GetTopic (-want +got):\n%s", diff)
	}
	for range 2 {
		s, err := c.Schema(ctx, info.SchemaID)
		if err != nil {
			t.Fatalf("Schema(%s): %v", info.SchemaID, err)
		}
		if s.JSON != org.ps.SchemaJSON() {
			t.Fatalf("Schema(%s).JSON differs from the server's schema", info.SchemaID)
		}
	}
	if got := org.ps.Stats().SchemaRequests; got != 1 {
		t.Errorf("GetSchema calls = %d, want 1", got)
	}
	_, err = c.Schema(ctx, "unknown")
	if e, ok := errors.AsType[*pubsub.Error](err); !ok || e.Code != codes.NotFound {
		t.Errorf("Schema(unknown) = %v, want an *Error with NotFound", err)
	}
}

func TestNewRejectsIncompleteConfig(t *testing.T) {
	t.Parallel()
	token := func(context.Context) (string, error) { return "t", nil }
	tests := []struct {
		name string
		cfg  pubsub.Config
	}{
		{"no token source", pubsub.Config{InstanceURL: "https://x", TenantID: "00D"}},
		{"no instance URL", pubsub.Config{TokenSource: token, TenantID: "00D"}},
		{"no tenant", pubsub.Config{TokenSource: token, InstanceURL: "https://x"}},
		{"CA without certificate", pubsub.Config{TokenSource: token, InstanceURL: "https://x", TenantID: "00D", CAPEM: []byte("not a PEM")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c, err := pubsub.New(tt.cfg); err == nil {
				_ = c.Close()
				t.Fatalf("New(%+v) = nil error, want an error", tt.cfg)
			}
		})
	}
}
