package writeback_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/schemas"
	"github.com/sfsap/sfsap/services/writeback"
	"github.com/sfsap/sfsap/test/natstest"
)

// waitFor bounds how long a test waits for the service before it fails
// instead of hanging. It is a guard, not a latency requirement.
const waitFor = 30 * time.Second

type bundle struct {
	sim  *sfsim.Server
	nats *natstest.Bundle
	sf   *sfclient.Client
	svc  *writeback.Service
}

// setupBundle starts NATS and the Salesforce simulator and builds the
// service, and run starts it. tweak changes the config before the service
// is built.
func setupBundle(t *testing.T, maxDeliver int, tweak func(*writeback.Config)) *bundle {
	t.Helper()
	// A short AckWait keeps redeliveries of unacknowledged jobs quick.
	nb := natstest.Start(t, bus.Topology{MaxDeliver: maxDeliver, AckWait: time.Second})
	sim := sfsim.New(sfsim.Options{})
	if err := sim.Start(""); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	sf, err := sfclient.New(context.Background(), sfclient.Config{
		LoginURL: sim.URL(), ClientID: "sfsim-client", ClientSecret: "sfsim-secret", Logger: testLogger(t),
	})
	if err != nil {
		t.Fatalf("sfclient.New: %v", err)
	}
	cfg := writeback.Config{
		MaxDeliver: 2 * maxDeliver,
		Backoff:    func(uint64) time.Duration { return 50 * time.Millisecond },
		KeepAlive:  200 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	svc, err := writeback.New(context.Background(), cfg, nb.JS, sf, setup.SalesforceErrors{}, testLogger(t))
	if err != nil {
		t.Fatalf("writeback.New: %v", err)
	}
	return &bundle{sim: sim, nats: nb, sf: sf, svc: svc}
}

func (b *bundle) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil after cancel", err)
		}
	})
}

func (b *bundle) seed(t *testing.T, name string) string {
	t.Helper()
	id, err := b.sim.Store().Create(map[string]any{"Name": name, "Type": "Customer - Direct"}, sfsim.WriteOptions{})
	if err != nil {
		t.Fatalf("Store.Create: %v", err)
	}
	return id
}

func (b *bundle) publish(t *testing.T, job msg.WritebackJob) {
	t.Helper()
	job.Schema = msg.SchemaWritebackJob
	if job.RequestedAt.IsZero() {
		job.RequestedAt = time.Now().UTC()
	}
	if job.CorrelationID == "" {
		job.CorrelationID = "corr-" + job.AccountID
	}
	data, _ := json.Marshal(job)
	if err := schemas.Validate(data); err != nil {
		t.Fatalf("test job does not match its schema: %v", err)
	}
	if _, err := bus.Publish(context.Background(), b.nats.JS, bus.WritebackSubject(job.AccountID), job, "", nil); err != nil {
		t.Fatalf("publishing write-back job: %v", err)
	}
}

// created records the SAP number in the ledger as the SAP worker does
// before it queues the write-back.
func (b *bundle) created(t *testing.T, id, customer string) {
	t.Helper()
	l := ledger.New(b.nats.KV(t, bus.BucketLedger))
	e, err := l.Claim(context.Background(), id, "worker-1", "corr-"+id, time.Minute, 0)
	if err != nil {
		t.Fatalf("ledger.Claim(%s): %v", id, err)
	}
	if _, err := l.MarkCreated(context.Background(), e, customer); err != nil {
		t.Fatalf("ledger.MarkCreated(%s): %v", id, err)
	}
}

// streamMessages returns every message stored in a stream, oldest first.
func streamMessages(t *testing.T, js jetstream.JetStream, stream string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("opening stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", stream, err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		out = append(out, m)
	}
	return out
}

func results(t *testing.T, js jetstream.JetStream) []msg.Result {
	t.Helper()
	var out []msg.Result
	for _, m := range streamMessages(t, js, bus.StreamResults) {
		var r msg.Result
		if err := json.Unmarshal(m.Data, &r); err != nil {
			t.Fatalf("decoding result: %v", err)
		}
		out = append(out, r)
	}
	return out
}

func deadLetters(t *testing.T, js jetstream.JetStream) []msg.DeadLetter {
	t.Helper()
	var out []msg.DeadLetter
	for _, m := range streamMessages(t, js, bus.StreamDLQ) {
		var d msg.DeadLetter
		if err := json.Unmarshal(m.Data, &d); err != nil {
			t.Fatalf("decoding dead letter: %v", err)
		}
		if err := schemas.Validate(m.Data); err != nil {
			t.Errorf("dead letter does not match its schema: %v", err)
		}
		out = append(out, d)
	}
	return out
}

// eventually polls cond until it is true or waitFor passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestWritebackBatchesPendingJobs(t *testing.T) {
	t.Parallel()
	b := setupBundle(t, 5, nil)
	var ids []string
	for i := range 5 {
		id := b.seed(t, "Account "+string(rune('A'+i)))
		ids = append(ids, id)
		customer := "00001047" + string(rune('1'+i)) + "0"
		b.created(t, id, customer)
		b.publish(t, msg.WritebackJob{AccountID: id, Status: account.StatusSynced, SAPCustomer: customer, Attempts: 2})
	}
	b.sim.ResetCalls()
	b.run(t)

	eventually(t, "five results", func() bool { return len(results(t, b.nats.JS)) == 5 })
	if n := b.sim.Calls()[sfsim.CallCompositeUpdate]; n != 1 {
		t.Errorf("composite update requests = %d, want 1 for five pending jobs", n)
	}
	if n := b.sim.Calls()[sfsim.CallUpdateAccount]; n != 0 {
		t.Errorf("single-record updates = %d, want 0", n)
	}
	for i, id := range ids {
		rec, _ := b.sim.Store().Get(id)
		want := map[string]any{
			"SAP_ID__c":             "00001047" + string(rune('1'+i)) + "0",
			"SAP_Sync_Status__c":    account.StatusSynced,
			"SAP_Sync_Error__c":     nil,
			"SAP_Sync_Attempts__c":  json.Number("2"),
			"SAP_Correlation_Id__c": "corr-" + id,
		}
		got := map[string]any{}
		for k := range want {
			got[k] = rec[k]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Account %s sync fields mismatch (-want +got):\n%s", id, diff)
		}
		if last, _ := rec["SAP_Last_Sync__c"].(string); last == "" {
			t.Errorf("Account %s SAP_Last_Sync__c = %v, want the write time", id, rec["SAP_Last_Sync__c"])
		}
		e, _, err := ledger.New(b.nats.KV(t, bus.BucketLedger)).Get(context.Background(), id)
		if err != nil || e.State != ledger.WrittenBack {
			t.Errorf("ledger(%s) = %v, %v, want state %s", id, e.State, err, ledger.WrittenBack)
		}
	}
	for _, r := range results(t, b.nats.JS) {
		if r.Outcome != msg.OutcomeSynced {
			t.Errorf("result for %s = %s, want %s", r.AccountID, r.Outcome, msg.OutcomeSynced)
		}
	}
}

func TestWritebackFailedStatus(t *testing.T) {
	t.Parallel()
	b := setupBundle(t, 5, func(c *writeback.Config) { c.ReasonLength = 20 })
	id := b.seed(t, "Larchfield Tools Ltd")
	b.publish(t, msg.WritebackJob{AccountID: id, Status: account.StatusFailed, Reason: "Country is missing: set the billing country", Attempts: 1})
	b.run(t)

	eventually(t, "a result", func() bool { return len(results(t, b.nats.JS)) == 1 })
	rec, _ := b.sim.Store().Get(id)
	if rec["SAP_Sync_Status__c"] != account.StatusFailed {
		t.Errorf("SAP_Sync_Status__c = %v, want %s", rec["SAP_Sync_Status__c"], account.StatusFailed)
	}
	if got := rec["SAP_Sync_Error__c"]; got != "Country is missing:…" {
		t.Errorf("SAP_Sync_Error__c = %q, want the reason cut to 20 characters", got)
	}
	if rec["SAP_ID__c"] != nil {
		t.Errorf("SAP_ID__c = %v, want it unset for a failure", rec["SAP_ID__c"])
	}
	if r := results(t, b.nats.JS)[0]; r.Outcome != msg.OutcomeFailed {
		t.Errorf("result outcome = %s, want %s", r.Outcome, msg.OutcomeFailed)
	}
}

func TestWritebackDisabledSyncFields(t *testing.T) {
	t.Parallel()
	b := setupBundle(t, 5, func(c *writeback.Config) {
		c.Fields.SyncAttempts, c.Fields.LastSync, c.Fields.CorrelationID = account.Disabled, account.Disabled, account.Disabled
	})
	id := b.seed(t, "Larchfield Tools Ltd")
	b.created(t, id, "0000104711")
	b.publish(t, msg.WritebackJob{AccountID: id, Status: account.StatusSynced, SAPCustomer: "0000104711", Attempts: 1})
	b.run(t)

	eventually(t, "a result", func() bool { return len(results(t, b.nats.JS)) == 1 })
	rec, _ := b.sim.Store().Get(id)
	for _, f := range []string{"SAP_Sync_Attempts__c", "SAP_Last_Sync__c", "SAP_Correlation_Id__c"} {
		if _, ok := rec[f]; ok {
			t.Errorf("field %s = %v, want it unwritten when disabled", f, rec[f])
		}
	}
	if rec["SAP_ID__c"] != "0000104711" {
		t.Errorf("SAP_ID__c = %v, want 0000104711", rec["SAP_ID__c"])
	}
}
