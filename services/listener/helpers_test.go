package listener_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/cometd"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/listener"
)

// simOrg is a simulated org serving REST, OAuth and CometD on loopback,
// with a client logged in to it.
type simOrg struct {
	sim    *sfsim.Server
	faults *sfsim.CometDFaults
	sf     *sfclient.Client
}

func startOrg(t *testing.T, opts sfsim.Options, cometdOpts sfsim.CometDOptions) *simOrg {
	t.Helper()
	sim := sfsim.New(opts)
	if cometdOpts.Faults == nil {
		cometdOpts.Faults = &sfsim.CometDFaults{}
	}
	cometdOpts.Authorize = func(r *http.Request) error {
		_, err := sim.CheckToken(r)
		return err
	}
	sim.Handle("/cometd/", sfsim.NewCometD(sim.Store(), cometdOpts))
	if err := sim.Start(""); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	sf, err := sfclient.New(context.Background(), sfclient.Config{
		LoginURL: sim.URL(), ClientID: "sfsim-client", ClientSecret: "sfsim-secret", Logger: quietLogger(t),
	})
	if err != nil {
		t.Fatalf("sfclient.New: %v", err)
	}
	return &simOrg{sim: sim, faults: cometdOpts.Faults, sf: sf}
}

// cometdSource returns a CometD source that shares the org client's
// session, as setup.CometDSource wires it, with short retry delays.
func (o *simOrg) cometdSource(t *testing.T, preset int64, log *slog.Logger) *listener.CometDSource {
	t.Helper()
	c, err := cometd.New(cometd.Config{
		BaseURL:        o.sf.InstanceURL(),
		TokenSource:    o.sf.AccessToken,
		TokenRejected:  o.sf.TokenRejected,
		Logger:         log,
		RetryBaseDelay: 10 * time.Millisecond,
		RetryMaxDelay:  100 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("cometd.New: %v", err)
	}
	return &listener.CometDSource{Client: c, Preset: preset}
}

func (o *simOrg) create(t *testing.T, fields map[string]any) string {
	t.Helper()
	id, err := o.sim.Store().Create(fields, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Store.Create: %v", err)
	}
	return id
}

// running is a listener Service running in the background.
type running struct {
	svc    *listener.Service
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// stop cancels the service and waits for Run to return.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
	})
	if r.err != nil {
		t.Errorf("Run() = %v, want nil after cancel", r.err)
	}
}

func runListener(t *testing.T, js jetstream.JetStream, cfg listener.Config, src listener.Source, sweeper listener.Sweeper, log *slog.Logger) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := listener.New(ctx, cfg, js, src, sweeper, log)
	if err != nil {
		cancel()
		t.Fatalf("listener.New: %v", err)
	}
	r := &running{svc: svc, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- svc.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// cdcChanges returns every account change stored in the CDC stream.
func cdcChanges(t *testing.T, js jetstream.JetStream) []msg.AccountChange {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, bus.StreamCDC)
	if err != nil {
		t.Fatalf("opening stream %s: %v", bus.StreamCDC, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	var out []msg.AccountChange
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		var c msg.AccountChange
		if err := json.Unmarshal(m.Data, &c); err != nil {
			t.Fatalf("decoding account change: %v", err)
		}
		out = append(out, c)
	}
	return out
}

// storedPosition returns the position in the checkpoint bucket, or nil.
func storedPosition(t *testing.T, js jetstream.JetStream, key string) []byte {
	t.Helper()
	kv, err := js.KeyValue(context.Background(), bus.BucketCheckpoint)
	if err != nil {
		t.Fatalf("opening checkpoint bucket: %v", err)
	}
	e, err := kv.Get(context.Background(), key)
	if err != nil {
		return nil
	}
	var cp struct {
		Position []byte `json:"position"`
	}
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		t.Fatalf("stored checkpoint %s is not JSON: %v", e.Value(), err)
	}
	return cp.Position
}

// eventually polls cond until it is true or waitLimit passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logCapture is a slog handler that keeps every record and passes it on
// to the test log.
type logCapture struct {
	mu      sync.Mutex
	records []slog.Record
	next    slog.Handler
}

func captureLogs(t *testing.T) (*slog.Logger, *logCapture) {
	c := &logCapture{next: slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug})}
	return slog.New(c), c
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (c *logCapture) Handle(ctx context.Context, r slog.Record) error {
	c.mu.Lock()
	c.records = append(c.records, r.Clone())
	c.mu.Unlock()
	return c.next.Handle(ctx, r)
}

func (c *logCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &attrCapture{root: c, next: c.next.WithAttrs(attrs)}
}

func (c *logCapture) WithGroup(name string) slog.Handler {
	return &attrCapture{root: c, next: c.next.WithGroup(name)}
}

// count returns the number of records at level whose message contains
// text.
func (c *logCapture) count(level slog.Level, text string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.records {
		if r.Level == level && strings.Contains(r.Message, text) {
			n++
		}
	}
	return n
}

// attrCapture is a logCapture seen through With or WithGroup.
type attrCapture struct {
	root *logCapture
	next slog.Handler
}

func (a *attrCapture) Enabled(context.Context, slog.Level) bool { return true }

func (a *attrCapture) Handle(ctx context.Context, r slog.Record) error {
	a.root.mu.Lock()
	a.root.records = append(a.root.records, r.Clone())
	a.root.mu.Unlock()
	return a.next.Handle(ctx, r)
}

func (a *attrCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &attrCapture{root: a.root, next: a.next.WithAttrs(attrs)}
}

func (a *attrCapture) WithGroup(name string) slog.Handler {
	return &attrCapture{root: a.root, next: a.next.WithGroup(name)}
}

func quietLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
