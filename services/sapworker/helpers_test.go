package sapworker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/mapping"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sap/ecc"
	"github.com/sfsap/sfsap/pkg/sap/soaprfc"
	"github.com/sfsap/sfsap/pkg/sapsim"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/services/sapworker"
	"github.com/sfsap/sfsap/test/natstest"
)

const (
	sapUser     = "SFSAP_RFC"
	sapPassword = "test-only"
	// createFM is the wrapper module the ECC adapter creates through.
	createFM = "Z_SFSAP_CUSTOMER_CREATE"
	findFM   = "BAPI_CUSTOMER_FIND"
)

type bundle struct {
	nats    *natstest.Bundle
	sim     *sapsim.Server
	adapter *ecc.Adapter
	pack    *mapping.Pack
	ledger  *ledger.Ledger
	logs    *logCapture
}

func setup(t *testing.T, topo bus.Topology) *bundle {
	t.Helper()
	b := &bundle{nats: natstest.Start(t, topo), logs: &logCapture{t: t}}
	b.sim = sapsim.New(sapsim.Options{User: sapUser, Password: sapPassword})
	if err := b.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("starting SAP simulator: %v", err)
	}
	t.Cleanup(func() { _ = b.sim.Close() })
	client, err := soaprfc.New(b.sim.URL(), soaprfc.WithClient("100"), soaprfc.WithBasicAuth(sapUser, sapPassword))
	if err != nil {
		t.Fatalf("soaprfc.New: %v", err)
	}
	if b.adapter, err = ecc.New(client, ecc.Config{Logger: b.logger("ecc")}); err != nil {
		t.Fatalf("ecc.New: %v", err)
	}
	if b.pack, err = mapping.Load(); err != nil {
		t.Fatalf("mapping.Load: %v", err)
	}
	b.ledger = ledger.New(b.nats.KV(t, bus.BucketLedger))
	return b
}

func (b *bundle) logger(component string) *slog.Logger {
	return slog.New(b.logs).With("component", component)
}

// start runs a worker until the test ends and returns a function that
// stops it and waits until Run has returned.
func (b *bundle) start(t *testing.T, cfg sapworker.Config) (stop func()) {
	t.Helper()
	w, err := sapworker.New(context.Background(), cfg, b.nats.JS, b.adapter, b.pack, b.logger(cfg.WorkerID))
	if err != nil {
		t.Fatalf("sapworker.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Run(ctx); err != nil {
			t.Errorf("worker %s: Run: %v", cfg.WorkerID, err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

// fastConfig returns a worker config with timings scaled down for tests.
func fastConfig(id string) sapworker.Config {
	return sapworker.Config{
		WorkerID:    id,
		Concurrency: 2,
		CallTimeout: 5 * time.Second,
		Lease:       10 * time.Second,
		Settle:      time.Second,
		AckWait:     time.Second,
		MaxDeliver:  5,
		Backoff:     func(uint64) time.Duration { return 200 * time.Millisecond },
	}
}

// accountID returns the 18-character id of test account n.
func accountID(t *testing.T, n int) string {
	t.Helper()
	id, err := sfid.To18(fmt.Sprintf("001Hx00000%05d", n))
	if err != nil {
		t.Fatalf("sfid.To18: %v", err)
	}
	return id
}

// validAccount returns an Account that maps to an SAP customer.
func validAccount(id string) account.Account {
	return account.Account{
		ID: id, Name: "Cedar Ridge Outdoor Supply " + id[10:15], Type: "Customer",
		BillingStreet: "2210 Lakeshore Drive", BillingCity: "Madison", BillingState: "WI",
		BillingPostalCode: "53703", BillingCountry: "USA", Phone: "(608) 555-0199",
	}
}

// publishJob queues a create job for a.
func (b *bundle) publishJob(t *testing.T, a account.Account, reason string) {
	t.Helper()
	job := msg.CreateJob{
		Schema: msg.SchemaCreateJob, AccountID: a.ID, Account: a, Reason: reason,
		CorrelationID: "corr-" + a.ID, RequestedAt: time.Now().UTC(),
	}
	if _, err := bus.Publish(context.Background(), b.nats.JS, bus.CreateJobSubject(a.ID), job, "", nil); err != nil {
		t.Fatalf("publishing job for %s: %v", a.ID, err)
	}
}

// waitFor polls cond until it holds or 60s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 60s waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// entry returns the ledger entry of id.
func (b *bundle) entry(t *testing.T, id string) ledger.Entry {
	t.Helper()
	e, _, err := b.ledger.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("ledger.Get(%s): %v", id, err)
	}
	return e
}

// messages returns the messages stored in stream under subject.
func (b *bundle) messages(t *testing.T, stream, subject string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := b.nats.JS.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("opening stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("reading stream %s: %v", stream, err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("reading %s message %d: %v", stream, seq, err)
		}
		if subject == "" || m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

// deadLetters returns the dead letters of account id.
func (b *bundle) deadLetters(t *testing.T, id string) []msg.DeadLetter {
	t.Helper()
	var out []msg.DeadLetter
	for _, m := range b.messages(t, bus.StreamDLQ, bus.DeadLetterSubject(bus.StageSAPWorker, id)) {
		var dl msg.DeadLetter
		if err := json.Unmarshal(m.Data, &dl); err != nil {
			t.Fatalf("decoding dead letter: %v", err)
		}
		out = append(out, dl)
	}
	return out
}

// logCapture is a slog handler that keeps every record and logs it to
// the test.
type logCapture struct {
	t     *testing.T
	mu    sync.Mutex
	lines []logLine
	attrs []slog.Attr
	root  *logCapture
}

type logLine struct {
	level slog.Level
	text  string
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	for _, a := range c.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	root := c.rootCapture()
	root.mu.Lock()
	root.lines = append(root.lines, logLine{level: r.Level, text: b.String()})
	root.mu.Unlock()
	root.t.Log(r.Level.String() + " " + b.String())
	return nil
}

func (c *logCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logCapture{t: c.t, attrs: append(append([]slog.Attr{}, c.attrs...), attrs...), root: c.rootCapture()}
}

func (c *logCapture) WithGroup(string) slog.Handler { return c }

func (c *logCapture) rootCapture() *logCapture {
	if c.root != nil {
		return c.root
	}
	return c
}

// count returns the number of records at level whose text contains s.
func (c *logCapture) count(level slog.Level, s string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.lines {
		if l.level == level && strings.Contains(l.text, s) {
			n++
		}
	}
	return n
}
