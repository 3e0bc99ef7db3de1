// Package e2e runs the whole pipeline against both simulators over their
// real wire protocols and a real NATS server.
package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/schemas"
	"github.com/sfsap/sfsap/services/allinone"
)

type bundle struct {
	sims     *allinone.Simulators
	pipeline *allinone.Pipeline
	captured *capture
}

// capture records every message published under sfsap.>, through a plain
// subscription, so tests can check what the services really produced.
type capture struct {
	mu   sync.Mutex
	msgs []*nats.Msg
}

func (c *capture) all() []*nats.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.msgs)
}

func setup(t *testing.T, tweak func(*config.Config)) *bundle {
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
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := allinone.Start(ctx, cfg, log)
	if err != nil {
		cancel()
		t.Fatalf("starting pipeline: %v", err)
	}
	c := &capture{}
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
	return &bundle{sims: sims, pipeline: p, captured: c}
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// adapters configures each SAP access path against the SAP simulator.
var adapters = []struct {
	name  string
	tweak func(*config.Config)
}{
	{"ecc", func(c *config.Config) { c.SAP.Adapter = config.AdapterECC }},
	{"s4", func(c *config.Config) { c.SAP.Adapter = config.AdapterS4 }},
	{"rest", func(c *config.Config) {
		c.SAP.Adapter = config.AdapterREST
		c.SAP.REST.LookupURL = "/services/FindSAPCustomer?EXTERNAL_REF={{.ExternalRef | urlquery}}"
	}},
}

func TestDemoAccountsEndToEnd(t *testing.T) {
	t.Parallel()
	for _, a := range adapters {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			testDemoAccounts(t, setup(t, a.tweak))
		})
	}
}

// The Pub/Sub API is the default transport and runs in every test above;
// this one runs the same conversions over the Streaming API.
func TestDemoAccountsOverCometD(t *testing.T) {
	t.Parallel()
	testDemoAccounts(t, setup(t, func(c *config.Config) {
		c.Salesforce.Transport = config.TransportCometD
		c.Listener.Checkpoint = ""
		*c = c.WithDefaults()
	}))
}

func testDemoAccounts(t *testing.T, b *bundle) {

	sum, err := allinone.Demo(context.Background(), b.pipeline.JS, b.sims, 60*time.Second)
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	if sum.Duplicates != 0 {
		t.Errorf("duplicates = %d, want 0", sum.Duplicates)
	}
	if sum.Pending != 0 {
		t.Errorf("pending = %d, want 0: every conversion must end synced or failed", sum.Pending)
	}
	if sum.Synced+sum.Failed != sum.Converted {
		t.Errorf("synced %d + failed %d != converted %d", sum.Synced, sum.Failed, sum.Converted)
	}
	if sum.Synced != sum.SAPCustomers {
		t.Errorf("synced %d accounts but SAP holds %d customers", sum.Synced, sum.SAPCustomers)
	}
	if sum.Synced < 8 {
		t.Errorf("synced = %d, want at least 8 of the demo accounts", sum.Synced)
	}
	if sum.Failed < 3 {
		t.Errorf("failed = %d, want the 3 demo accounts with bad data to fail", sum.Failed)
	}
	if sum.Skipped != 1 {
		t.Errorf("skipped = %d, want 1 (the Partner account is not a conversion)", sum.Skipped)
	}

	store := b.sims.Salesforce.Store()
	for _, d := range sum.Details {
		rec, ok := store.Get(d.ID)
		if !ok {
			t.Fatalf("account %s missing from the simulator", d.ID)
		}
		switch d.Outcome {
		case "synced":
			cust, found := b.sims.SAP.Customer(d.SAPCustomer)
			if !found {
				t.Errorf("%s: Salesforce has SAP number %q that SAP does not know", d.Name, d.SAPCustomer)
				continue
			}
			if !strings.EqualFold(cust.ExternalRef, d.ID) {
				t.Errorf("%s: SAP customer %s has external ref %q, want %s", d.Name, d.SAPCustomer, cust.ExternalRef, d.ID)
			}
			if n := b.sims.SAP.CountByExternalRef(d.ID); n != 1 {
				t.Errorf("%s: SAP has %d customers for the account, want 1", d.Name, n)
			}
			if rec["SAP_Sync_Status__c"] != "Synced" {
				t.Errorf("%s: status field = %v, want Synced", d.Name, rec["SAP_Sync_Status__c"])
			}
		case "failed":
			if d.SAPCustomer != "" {
				t.Errorf("%s failed but has SAP number %q", d.Name, d.SAPCustomer)
			}
			if rec["SAP_Sync_Status__c"] != "Failed" {
				t.Errorf("%s: status field = %v, want Failed", d.Name, rec["SAP_Sync_Status__c"])
			}
			if msg, _ := rec["SAP_Sync_Error__c"].(string); len(msg) < 20 {
				t.Errorf("%s: error field = %q, want a readable reason", d.Name, msg)
			}
			if n := b.sims.SAP.CountByExternalRef(d.ID); n != 0 {
				t.Errorf("%s failed but SAP has %d customers for it", d.Name, n)
			}
		case "skipped":
			if _, has := rec["SAP_ID__c"]; has && rec["SAP_ID__c"] != nil {
				t.Errorf("%s was skipped but has an SAP number %v", d.Name, rec["SAP_ID__c"])
			}
		}
	}
}

func TestProducedMessagesMatchSchemas(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	if _, err := allinone.Demo(context.Background(), b.pipeline.JS, b.sims, 60*time.Second); err != nil {
		t.Fatalf("Demo: %v", err)
	}
	// The dead letters and results of the last accounts may still be in
	// flight on the plain subscription; give them a moment.
	time.Sleep(200 * time.Millisecond)

	seen := map[string]int{}
	for _, m := range b.captured.all() {
		if strings.HasPrefix(m.Subject, "$") {
			continue
		}
		if err := schemas.Validate(m.Data); err != nil {
			t.Errorf("message on %s: %v\n%s", m.Subject, err, m.Data)
		}
		kind := strings.Join(strings.Split(m.Subject, ".")[:3], ".")
		seen[kind]++
	}
	for _, kind := range []string{"sfsap.cdc.account", "sfsap.sap.create", "sfsap.sf.writeback", "sfsap.dlq.sapworker", "sfsap.result.synced", "sfsap.result.failed"} {
		if seen[kind] == 0 {
			t.Errorf("no message seen on %s.*; captured %v", kind, seen)
		}
	}
}

func TestFixedAccountSyncsAfterFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	sum, err := allinone.Demo(context.Background(), b.pipeline.JS, b.sims, 60*time.Second)
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	var failed allinone.DemoAccount
	for _, d := range sum.Details {
		if strings.Contains(d.Reason, "Atlantis") {
			failed = d
		}
	}
	if failed.ID == "" {
		t.Fatalf("no demo account failed on its state Atlantis; details: %+v", sum.Details)
	}

	// A sales rep fixes the state; an unrelated edit first must not retry.
	store := b.sims.Salesforce.Store()
	rep := sfsim.WriteOptions{User: "005Hx00000RepUsIAB"}
	if err := store.Update(failed.ID, map[string]any{"Description": "called the customer"}, rep); err != nil {
		t.Fatal(err)
	}
	if err := store.Update(failed.ID, map[string]any{"BillingState": "Schleswig-Holstein"}, rep); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec, _ := store.Get(failed.ID)
		if no, _ := rec["SAP_ID__c"].(string); no != "" {
			if rec["SAP_Sync_Status__c"] != "Synced" {
				t.Errorf("status after the fix = %v, want Synced", rec["SAP_Sync_Status__c"])
			}
			if n := b.sims.SAP.CountByExternalRef(failed.ID); n != 1 {
				t.Errorf("SAP has %d customers for the fixed account, want 1", n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fixed account %s has no SAP number after 30s; status %v, error %v",
				failed.ID, rec["SAP_Sync_Status__c"], rec["SAP_Sync_Error__c"])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSAPRejectionKeepsReturnTable(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sims.SAP.InjectReturn("Z_SFSAP_CUSTOMER_CREATE", 1, sap.Message{
		Type: "E", ID: "F2", Number: "156", Message: "Debtor 0000099999 is not created for sales area 1000 10 00",
	})
	store := b.sims.Salesforce.Store()
	rep := sfsim.WriteOptions{User: "005Hx00000RepUsIAB"}
	id, err := store.Create(map[string]any{
		"Name": "Quayside Optics", "Type": "Prospect", "BillingStreet": "2 Dock Road",
		"BillingCity": "Bristol", "BillingPostalCode": "BS1 4RN", "BillingCountry": "GB",
	}, rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Update(id, map[string]any{"Type": "Customer"}, rep); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, m := range b.captured.all() {
			if !strings.HasPrefix(m.Subject, "sfsap.dlq.sapworker."+id) {
				continue
			}
			var dl msg.DeadLetter
			if err := json.Unmarshal(m.Data, &dl); err != nil {
				t.Fatal(err)
			}
			if len(dl.Messages) == 0 || dl.Messages[0].ID != "F2" || dl.Messages[0].Number != "156" {
				t.Fatalf("dead letter messages = %+v, want the RETURN message F2 156", dl.Messages)
			}
			if dl.Code != "F2/156" {
				t.Errorf("dead letter code = %q, want F2/156", dl.Code)
			}
			rec, _ := store.Get(id)
			if reason, _ := rec["SAP_Sync_Error__c"].(string); !strings.Contains(reason, "not created for sales area") {
				// The write-back may still be in flight; wait for it.
				if time.Now().Before(deadline) {
					break
				}
				t.Errorf("Account reason = %q, want SAP's message", reason)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no sapworker dead letter for the rejected account within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
