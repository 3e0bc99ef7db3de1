package operator_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/allinone"
	"github.com/sfsap/sfsap/services/operator"
)

// salesRep makes the test's edits look like a user's, not sfsap's own.
const salesRep = "005Hx00000RepUsIAA"

// createFM is the SAP wrapper module the ECC adapter creates through.
const createFM = "Z_SFSAP_CUSTOMER_CREATE"

type bundle struct {
	sims *allinone.Simulators
	p    *allinone.Pipeline
	op   *operator.Operator
}

// setup starts both simulators and a pipeline on an embedded NATS
// server, without running any service.
func setup(t *testing.T) *bundle {
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
	cfg.Reconciler.DisableSweep = true

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	p, err := allinone.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("starting pipeline: %v", err)
	}
	t.Cleanup(p.Close)
	op, err := operator.New(context.Background(), p.JS)
	if err != nil {
		t.Fatalf("operator.New: %v", err)
	}
	op.Accounts = p.Salesforce
	return &bundle{sims: sims, p: p, op: op}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// run runs each service until the test ends.
func run(t *testing.T, svcs ...interface{ Run(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, svc := range svcs {
		wg.Go(func() {
			if err := svc.Run(ctx); err != nil {
				t.Errorf("%T: Run: %v", svc, err)
			}
		})
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// convert creates a prospect in the Salesforce simulator with the given
// country and turns it into a customer, as a sales rep would.
func (b *bundle) convert(t *testing.T, name, country string) string {
	t.Helper()
	store := b.sims.Salesforce.Store()
	rep := sfsim.WriteOptions{User: salesRep}
	id, err := store.Create(map[string]any{
		"Name": name, "Type": "Prospect", "BillingStreet": "2210 Lakeshore Drive", "BillingCity": "Madison",
		"BillingState": "WI", "BillingPostalCode": "53703", "BillingCountry": country,
	}, rep)
	if err != nil {
		t.Fatalf("creating Account %s: %v", name, err)
	}
	if err := store.Update(id, map[string]any{"Type": "Customer"}, rep); err != nil {
		t.Fatalf("converting Account %s: %v", name, err)
	}
	return id
}

// field returns a field of an Account in the simulator.
func (b *bundle) field(id, name string) any {
	rec, _ := b.sims.Salesforce.Store().Get(id)
	return rec[name]
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
