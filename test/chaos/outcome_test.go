package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sap/ecc"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/allinone"
)

// salesRep makes the tests' edits look like a user's, not sfsap's own.
const salesRep = "005Hx00000RepUsIAA"

// pipeline runs every service in this process against both simulators.
type pipeline struct {
	sims *allinone.Simulators
	p    *allinone.Pipeline
}

func startPipeline(t *testing.T, tweak func(*config.Config)) *pipeline {
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
	cfg.Reconciler.DisableSweep = true
	tweak(&cfg)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	p, err := allinone.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("starting pipeline: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := p.Run(ctx); err != nil {
			t.Errorf("pipeline stopped with error: %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		p.Close()
	})
	return &pipeline{sims: sims, p: p}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// convert creates a prospect and turns it into a customer, as a sales rep
// would, and returns its id.
func (pl *pipeline) convert(t *testing.T, name string) string {
	t.Helper()
	store := pl.sims.Salesforce.Store()
	rep := sfsim.WriteOptions{User: salesRep}
	id, err := store.Create(map[string]any{
		"Name": name, "Type": "Prospect", "BillingStreet": "2210 Lakeshore Drive", "BillingCity": "Madison",
		"BillingState": "WI", "BillingPostalCode": "53703", "BillingCountry": "USA",
	}, rep)
	if err != nil {
		t.Fatalf("creating Account %s: %v", name, err)
	}
	if err := store.Update(id, map[string]any{"Type": "Customer"}, rep); err != nil {
		t.Fatalf("converting Account %s: %v", name, err)
	}
	return id
}

// sapNumberWrites returns the number of change events that set the
// Account's SAP number field.
func (pl *pipeline) sapNumberWrites(id string) int {
	n := 0
	for _, ev := range pl.sims.Salesforce.Store().EventsAfter(0, 1<<20) {
		if _, ok := ev.Fields["SAP_ID__c"]; ok && slices.Contains(ev.Header.RecordIDs, id) {
			n++
		}
	}
	return n
}

// stored returns the decoded messages of stream under subject.
func stored[T any](t *testing.T, js jetstream.JetStream, stream, subject string) []T {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("opening stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("reading stream %s: %v", stream, err)
	}
	var out []T
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("reading %s message %d: %v", stream, seq, err)
		}
		if m.Subject != subject {
			continue
		}
		var v T
		if err := json.Unmarshal(m.Data, &v); err != nil {
			t.Fatalf("decoding %s message %d: %v", stream, seq, err)
		}
		out = append(out, v)
	}
	return out
}

func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SAP commits the customer, but the worker gives up waiting for the
// response. The unknown outcome must be settled by a lookup, never by a
// second create, and the number written back once.
func TestCreateTimeoutAfterCommit(t *testing.T) {
	t.Parallel()
	pl := startPipeline(t, func(cfg *config.Config) {
		cfg.SAPWorker.CallTimeout = time.Second
		cfg.SAPWorker.Settle = 2 * time.Second
	})
	// SAP holds the response for 3s, longer than the worker's 1s timeout.
	pl.sims.SAP.InjectTimeoutAfterCommit(1, 3*time.Second)
	id := pl.convert(t, "Harbourline Freight Services")

	waitFor(t, "SAP number written back", time.Minute, func() bool {
		rec, _ := pl.sims.Salesforce.Store().Get(id)
		return rec["SAP_ID__c"] != nil
	})
	waitFor(t, "result stored", 30*time.Second, func() bool {
		return len(stored[msg.Result](t, pl.p.JS, bus.StreamResults, bus.ResultSubject(msg.OutcomeAdopted, id))) > 0
	})

	if n := pl.sims.SAP.CountByExternalRef(id); n != 1 {
		t.Errorf("SAP has %d customers for the account, want 1", n)
	}
	if n := pl.sims.SAP.Calls("Z_SFSAP_CUSTOMER_CREATE"); n != 1 {
		t.Errorf("SAP got %d creates, want 1", n)
	}
	rec, _ := pl.sims.Salesforce.Store().Get(id)
	if cust, ok := pl.sims.SAP.Customer(rec["SAP_ID__c"].(string)); !ok || !strings.EqualFold(cust.ExternalRef, id) {
		t.Errorf("Salesforce has SAP number %v, which SAP does not have for the account", rec["SAP_ID__c"])
	}
	if n := pl.sapNumberWrites(id); n != 1 {
		t.Errorf("SAP number written %d times, want 1", n)
	}
	results := stored[msg.Result](t, pl.p.JS, bus.StreamResults, bus.ResultSubject(msg.OutcomeAdopted, id))
	synced := stored[msg.Result](t, pl.p.JS, bus.StreamResults, bus.ResultSubject(msg.OutcomeSynced, id))
	if len(results)+len(synced) != 1 {
		t.Errorf("%d adopted and %d synced results, want one adopted result", len(results), len(synced))
	}
}

// The create returns a number with a success message, but the commit ran
// in another stateless session, so SAP never stored the customer. The
// read-back must catch it, and the number must never reach Salesforce.
func TestPhantomNumberNotWrittenBack(t *testing.T) {
	t.Parallel()
	pl := startPipeline(t, func(cfg *config.Config) {
		// Session mode against a simulator that keeps no sessions: each
		// call runs in its own session, as behind a stateless SOAP-RFC
		// handler.
		cfg.SAP.ECC.CommitMode = ecc.CommitSession
	})
	// Storing the external reference reports success without finding the
	// uncommitted customer, so only the read-back can notice.
	pl.sims.SAP.InjectReturn("Z_SFSAP_SET_EXTERNAL_REF", 1, sap.Message{Type: "S", Message: "External reference stored"})
	id := pl.convert(t, "Sakura Precision Tooling")

	waitFor(t, "failure written back", time.Minute, func() bool {
		rec, _ := pl.sims.Salesforce.Store().Get(id)
		return rec["SAP_Sync_Status__c"] == "Failed"
	})
	rec, _ := pl.sims.Salesforce.Store().Get(id)
	if rec["SAP_ID__c"] != nil {
		t.Errorf("SAP_ID__c = %v, want no number written", rec["SAP_ID__c"])
	}
	if n := pl.sapNumberWrites(id); n != 0 {
		t.Errorf("SAP number written %d times, want 0", n)
	}
	if n := len(pl.sims.SAP.Customers()); n != 0 {
		t.Errorf("SAP holds %d customers, want 0", n)
	}
	if n := pl.sims.SAP.Calls("BAPI_CUSTOMER_GETDETAIL2"); n == 0 {
		t.Error("the adapter never read the customer back")
	}
	dls := stored[msg.DeadLetter](t, pl.p.JS, bus.StreamDLQ, bus.DeadLetterSubject(bus.StageSAPWorker, id))
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
	if reason, _ := rec["SAP_Sync_Error__c"].(string); reason == "" || !strings.Contains(dls[0].Reason+" "+reason, "commit") {
		t.Errorf("reasons = dead letter %q, Account %q; want the missing commit named", dls[0].Reason, reason)
	}
}
