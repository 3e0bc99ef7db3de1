// Package observetest starts the whole pipeline against both simulators
// for the observability tests, with every published message captured and
// the logs in a buffer.
package observetest

import (
	"bytes"
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/allinone"
)

// Bundle is a running pipeline with its simulators.
type Bundle struct {
	Sims     *allinone.Simulators
	Pipeline *allinone.Pipeline
	Captured *Capture
	Logs     *SyncBuffer
	Config   config.Config
}

// Capture records every message published under sfsap.> through a plain
// subscription, headers included.
type Capture struct {
	mu   sync.Mutex
	msgs []*nats.Msg
}

// All returns the messages captured so far, in arrival order.
func (c *Capture) All() []*nats.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

// SyncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Lines returns the lines written so far.
func (b *SyncBuffer) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Split(strings.TrimSpace(b.buf.String()), "\n")
}

// Start starts both simulators and the pipeline, which logs JSON at debug
// level into the bundle's buffer, and stops everything when the test ends.
// tweak, when not nil, changes the configuration first.
func Start(t *testing.T, tweak func(*config.Config)) *Bundle {
	t.Helper()
	sims, err := allinone.StartSimulators()
	if err != nil {
		t.Fatalf("starting simulators: %v", err)
	}
	t.Cleanup(sims.Close)

	cfg, err := config.Load("", []string{"X=1"})
	if err != nil {
		t.Fatalf("loading default config: %v", err)
	}
	sims.Configure(&cfg)
	cfg.NATS.StoreDir = t.TempDir()
	cfg.Salesforce.ReplayPreset = "earliest"
	cfg.SAPWorker.Settle = time.Second
	if tweak != nil {
		tweak(&cfg)
	}
	logs := &SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	ctx, cancel := context.WithCancel(context.Background())
	p, err := allinone.Start(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("starting pipeline: %v", err)
	}
	c := &Capture{}
	sub, err := p.Conn.Subscribe("sfsap.>", func(m *nats.Msg) {
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		c.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("subscribing: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx); err != nil {
			t.Errorf("pipeline stopped with error: %v", err)
		}
	}()
	t.Cleanup(func() {
		_ = sub.Unsubscribe()
		cancel()
		<-done
		p.Close()
	})
	return &Bundle{Sims: sims, Pipeline: p, Captured: c, Logs: logs, Config: cfg}
}

// RunDemo converts the demo accounts and waits for every outcome.
func (b *Bundle) RunDemo(t *testing.T) allinone.DemoSummary {
	t.Helper()
	sum, err := allinone.Demo(context.Background(), b.Pipeline.JS, b.Sims, 60*time.Second)
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	if sum.Converted == 0 || sum.Failed == 0 || sum.Synced == 0 {
		t.Fatalf("demo converted %d accounts (%d synced, %d failed), want both outcomes", sum.Converted, sum.Synced, sum.Failed)
	}
	// Dead letters and results of the last accounts may still be on their
	// way to the plain subscription.
	time.Sleep(300 * time.Millisecond)
	return sum
}

// salesRep is the user the tests' edits are attributed to.
var salesRep = func() string {
	id, err := sfid.To18("005Hx00000RepUs")
	if err != nil {
		panic(err)
	}
	return id
}()

// Convert creates the accounts as prospects and waits until the listener
// has published their CREATE events, so the pipeline is past its start-up
// sweep. Then it turns them into customers as a sales rep would and waits
// for a result of each. It returns the account ids.
func (b *Bundle) Convert(t *testing.T, accounts []map[string]any) []string {
	t.Helper()
	store := b.Sims.Salesforce.Store()
	rep := sfsim.WriteOptions{User: salesRep}
	var ids []string
	for _, fields := range accounts {
		fields = maps.Clone(fields)
		fields["Type"] = "Prospect"
		id, err := store.Create(fields, rep)
		if err != nil {
			t.Fatalf("creating account: %v", err)
		}
		ids = append(ids, id)
	}
	b.WaitSubjects(t, ids, func(id string) string { return bus.CDCSubject(id, msg.ChangeCreate) })

	for _, id := range ids {
		if err := store.Update(id, map[string]any{"Type": "Customer - Direct"}, rep); err != nil {
			t.Fatalf("converting account %s: %v", id, err)
		}
	}
	b.WaitSubjects(t, ids, func(id string) string { return "sfsap.result.*." + id })
	return ids
}

// WaitSubjects waits until a message on subjectOf(id) was captured for
// every id; "*" in a subject matches one token.
func (b *Bundle) WaitSubjects(t *testing.T, ids []string, subjectOf func(string) string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing := 0
		msgs := b.Captured.All()
		for _, id := range ids {
			want := strings.Split(subjectOf(id), ".")
			found := slices.ContainsFunc(msgs, func(m *nats.Msg) bool {
				got := strings.Split(m.Subject, ".")
				if len(got) != len(want) {
					return false
				}
				for i := range got {
					if want[i] != "*" && want[i] != got[i] {
						return false
					}
				}
				return true
			})
			if !found {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d of %d messages like %s", missing, len(ids), subjectOf(ids[0]))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Accounts are two accounts SAP accepts and one without a country, which
// fails.
var Accounts = []map[string]any{
	{"Name": "Tarnwood Joinery Ltd", "BillingStreet": "4 Canal Wharf", "BillingCity": "Bristol", "BillingPostalCode": "BS1 6PQ", "BillingCountry": "GB", "Phone": "+44 117 496 0101"},
	{"Name": "Nordlicht Sensorik GmbH", "BillingStreet": "Wiesenweg 3", "BillingCity": "Bremen", "BillingPostalCode": "28195", "BillingCountry": "DE", "Phone": "+49 421 555 0102"},
	{"Name": "Coral Reach Provisions", "BillingStreet": "9 Pier Road", "BillingCity": "Suva", "BillingPostalCode": "", "BillingCountry": "", "Phone": "+679 555 0103"},
}
