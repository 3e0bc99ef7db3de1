package listener_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/pubsub"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/listener"
	"github.com/sfsap/sfsap/test/natstest"
)

// waitLimit bounds how long a test waits before it fails instead of
// hanging. It is a guard, not a latency requirement.
const waitLimit = 30 * time.Second

// pubsubOrg is a simulated org with its Pub/Sub endpoint on 127.0.0.1.
type pubsubOrg struct {
	sf    *sfsim.Server
	ps    *sfsim.PubSub
	store *sfsim.Store
}

func startPubSubOrg(t *testing.T, opts sfsim.PubSubOptions) *pubsubOrg {
	t.Helper()
	sf := sfsim.New(sfsim.Options{})
	if err := sf.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting Salesforce simulator: %v", err)
	}
	t.Cleanup(sf.Close)
	opts.Authorize = sf.AuthorizePubSub
	ps, err := sfsim.NewPubSub(sf.Store(), opts)
	if err != nil {
		t.Fatalf("NewPubSub: %v", err)
	}
	if err := ps.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting Pub/Sub simulator: %v", err)
	}
	t.Cleanup(ps.Close)
	return &pubsubOrg{sf: sf, ps: ps, store: sf.Store()}
}

// source returns a PubSubSource with a client that fetches
// client-credentials tokens from the simulator.
func (o *pubsubOrg) source(t *testing.T, preset pubsub.ReplayPreset) *listener.PubSubSource {
	t.Helper()
	var mu sync.Mutex
	var token, identity string
	fetch := func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if token != "" {
			return token, nil
		}
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"sfsim-client"}, "client_secret": {"sfsim-secret"}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.sf.URL()+"/services/oauth2/token", strings.NewReader(form.Encode()))
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
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return "", fmt.Errorf("token response with status %s: %w", resp.Status, err)
		}
		token, identity = body.AccessToken, body.ID
		return token, nil
	}
	if _, err := fetch(context.Background()); err != nil {
		t.Fatalf("getting a token: %v", err)
	}
	// The identity URL ends in /<org id>/<user id>.
	parts := strings.Split(identity, "/")
	client, err := pubsub.New(pubsub.Config{
		Addr:           o.ps.Addr(),
		CAPEM:          o.ps.CAPEM(),
		TokenSource:    fetch,
		TokenRejected:  func(string) { mu.Lock(); token = ""; mu.Unlock() },
		InstanceURL:    o.sf.URL(),
		TenantID:       parts[len(parts)-2],
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  10 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(testLog{t}, nil)),
	})
	if err != nil {
		t.Fatalf("pubsub.New: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return &listener.PubSubSource{Client: client, Preset: preset}
}

// testLog writes log lines to the test's log.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func TestPubSubSourceEvents(t *testing.T) {
	t.Parallel()
	org := startPubSubOrg(t, sfsim.PubSubOptions{KeepaliveInterval: 10 * time.Millisecond})
	id, err := org.store.Create(map[string]any{"Name": "Larchfield Tools Ltd", "Type": "Prospect"}, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	// A record id that is not a Salesforce id cannot become a message.
	org.store.EmitGap("GAP_UPDATE", []string{"not-an-id"})
	latest := sfsim.EncodeReplayID(org.store.LatestReplayID())

	src := org.source(t, pubsub.ReplayEarliest)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var events []listener.Event
	err = src.Subscribe(ctx, nil, func(ctx context.Context, ev listener.Event) error {
		events = append(events, ev)
		if len(events) == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe = %v, want context.Canceled after two events", err)
	}
	if len(events) != 2 {
		t.Fatalf("got %d events, want 2", len(events))
	}

	created := events[0]
	if len(created.Changes) != 1 || created.Changes[0].AccountID != id || created.Changes[0].ChangeType != "CREATE" {
		t.Errorf("first event changes = %+v, want one CREATE of %s", created.Changes, id)
	}
	if want := sfsim.EncodeReplayID(org.store.EarliestReplayID()); !cmp.Equal(want, created.Position) {
		t.Errorf("first event position = %x, want the replay id bytes %x", created.Position, want)
	}

	bad := events[1]
	if bad.DecodeErr == nil || bad.Changes != nil {
		t.Fatalf("second event = %+v, want a decode error and no changes", bad)
	}
	var raw struct {
		ReplayID []byte `json:"replay_id"`
		Payload  []byte `json:"payload"`
	}
	if err := json.Unmarshal(bad.Raw, &raw); err != nil {
		t.Fatalf("Raw of the undecodable event is not JSON: %v", err)
	}
	if !cmp.Equal(latest, raw.ReplayID) || len(raw.Payload) == 0 {
		t.Errorf("Raw = %s, want replay id %x and the payload", bad.Raw, latest)
	}

	// Subscribed at the tip, the first item is a keepalive.
	src = org.source(t, pubsub.ReplayLatest)
	ctx, cancel = context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var keepalive listener.Event
	err = src.Subscribe(ctx, nil, func(ctx context.Context, ev listener.Event) error {
		keepalive = ev
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe at the tip = %v, want context.Canceled after one item", err)
	}
	if diff := cmp.Diff(listener.Event{Position: latest}, keepalive); diff != "" {
		t.Errorf("keepalive event (-want +got):\n%s", diff)
	}
}

func TestPubSubSourceRejectedPosition(t *testing.T) {
	t.Parallel()
	org := startPubSubOrg(t, sfsim.PubSubOptions{})
	src := org.source(t, pubsub.ReplayLatest)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	err := src.Subscribe(ctx, []byte("2142496"), func(context.Context, listener.Event) error { return nil })
	if !errors.Is(err, listener.ErrPositionRejected) {
		t.Fatalf("Subscribe from a decimal replay id = %v, want ErrPositionRejected", err)
	}
	if _, ok := errors.AsType[*pubsub.ReplayInvalidError](err); !ok {
		t.Errorf("Subscribe error %v does not wrap *pubsub.ReplayInvalidError", err)
	}
}

// TestListenerCheckpointsPubSubPositions runs the listener on JetStream:
// events are published and the replay id of the last one is stored.
func TestListenerCheckpointsPubSubPositions(t *testing.T) {
	t.Parallel()
	nats := natstest.Start(t, bus.Topology{})
	org := startPubSubOrg(t, sfsim.PubSubOptions{KeepaliveInterval: 10 * time.Millisecond})
	for i := range 3 {
		if _, err := org.store.Create(map[string]any{"Name": fmt.Sprintf("Account %d", i)}, sfsim.WriteOptions{}); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	svc, err := listener.New(ctx, listener.Config{Checkpoint: "pubsub.AccountChangeEvent"}, nats.JS, org.source(t, pubsub.ReplayEarliest), nil, slog.New(slog.NewTextHandler(testLog{t}, nil)))
	if err != nil {
		t.Fatalf("listener.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	kv := nats.KV(t, bus.BucketCheckpoint)
	position := func() []byte {
		entry, err := kv.Get(ctx, "pubsub.AccountChangeEvent")
		if err != nil {
			return nil
		}
		var cp struct {
			Position []byte `json:"position"`
		}
		if err := json.Unmarshal(entry.Value(), &cp); err != nil {
			t.Fatalf("stored checkpoint %s is not JSON: %v", entry.Value(), err)
		}
		return cp.Position
	}
	waitFor := func(want []byte) {
		t.Helper()
		deadline := time.Now().Add(waitLimit)
		for !cmp.Equal(position(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("stored position = %x, want %x", position(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(sfsim.EncodeReplayID(org.store.LatestReplayID()))

	stream, err := nats.JS.Stream(ctx, bus.StreamCDC)
	if err != nil {
		t.Fatalf("opening stream %s: %v", bus.StreamCDC, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if info.State.Msgs != 3 {
		t.Errorf("stream %s holds %d messages, want 3", bus.StreamCDC, info.State.Msgs)
	}

	// A new event moves the stored position on.
	if _, err := org.store.Create(map[string]any{"Name": "Account 3"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	waitFor(sfsim.EncodeReplayID(org.store.LatestReplayID()))
}

// TestListenerCheckpointsKeepalive starts at the tip of a stream with old
// events: no event arrives, but the keepalive's position is stored.
func TestListenerCheckpointsKeepalive(t *testing.T) {
	t.Parallel()
	nats := natstest.Start(t, bus.Topology{})
	org := startPubSubOrg(t, sfsim.PubSubOptions{KeepaliveInterval: 10 * time.Millisecond})
	if _, err := org.store.Create(map[string]any{"Name": "Account 0"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Create: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	svc, err := listener.New(ctx, listener.Config{Checkpoint: "pubsub.AccountChangeEvent"}, nats.JS, org.source(t, pubsub.ReplayLatest), nil, slog.New(slog.NewTextHandler(testLog{t}, nil)))
	if err != nil {
		t.Fatalf("listener.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	kv := nats.KV(t, bus.BucketCheckpoint)
	want := sfsim.EncodeReplayID(org.store.LatestReplayID())
	deadline := time.Now().Add(waitLimit)
	for {
		entry, err := kv.Get(ctx, "pubsub.AccountChangeEvent")
		if err == nil {
			var cp struct {
				Position []byte `json:"position"`
			}
			if err := json.Unmarshal(entry.Value(), &cp); err != nil {
				t.Fatalf("stored checkpoint %s is not JSON: %v", entry.Value(), err)
			}
			if cmp.Equal(cp.Position, want) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("keepalive position %x was not stored", want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := org.ps.Stats().Delivered; got != 0 {
		t.Errorf("events delivered = %d, want 0", got)
	}
}
