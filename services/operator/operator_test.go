package operator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/operator"
)

func TestJourneyShowsWholeSync(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run(t, b.p.Listener, b.p.Filter, b.p.SAPWorker, b.p.Writeback)
	id := b.convert(t, "Lakeshore Outfitters", "USA")
	waitFor(t, "SAP number written back", func() bool { return b.field(id, "SAP_ID__c") != nil })
	ctx := context.Background()
	waitFor(t, "result stored", func() bool {
		res, err := b.op.Audit(ctx, id, time.Time{})
		return err == nil && len(res) == 1
	})

	j, err := b.op.Journey(ctx, id[:15])
	if err != nil {
		t.Fatalf("Journey: %v", err)
	}
	if j.AccountID != id {
		t.Errorf("AccountID = %s, want the 18-character %s", j.AccountID, id)
	}
	if j.Ledger == nil || j.Ledger.State != ledger.WrittenBack || j.Ledger.SAPCustomer != b.field(id, "SAP_ID__c") {
		t.Errorf("Ledger = %+v, want WRITTEN_BACK with the number in Salesforce", j.Ledger)
	}
	var kinds []string
	for i, s := range j.Steps {
		kinds = append(kinds, s.Kind+": "+s.Detail)
		if i > 0 && s.At.Before(j.Steps[i-1].At) {
			t.Errorf("step %d (%s) is earlier than step %d", i, s.Detail, i-1)
		}
	}
	all := strings.Join(kinds, "\n")
	for _, want := range []string{"change: CREATE", "change: UPDATE of", "ledger: CLAIMED", "ledger: CREATED", "ledger: WRITTEN_BACK", "result: synced SAP customer"} {
		if !strings.Contains(all, want) {
			t.Errorf("journey lacks %q; steps:\n%s", want, all)
		}
	}

	var out bytes.Buffer
	if err := operator.Command(ctx, b.op, []string{"journey", id}, false, &out); err != nil {
		t.Fatalf("journey command: %v", err)
	}
	if !strings.Contains(out.String(), "WRITTEN_BACK") || !strings.HasPrefix(out.String(), "TIME") {
		t.Errorf("journey table = %q, want a header and the WRITTEN_BACK step", out.String())
	}
	out.Reset()
	if err := operator.Command(ctx, b.op, []string{"journey", id}, true, &out); err != nil {
		t.Fatalf("journey --json: %v", err)
	}
	var decoded operator.Journey
	if err := json.Unmarshal(out.Bytes(), &decoded); err != nil || len(decoded.Steps) != len(j.Steps) {
		t.Errorf("journey --json = %d steps, %v; want %d steps", len(decoded.Steps), err, len(j.Steps))
	}
}

// A create that failed for bad data succeeds after the data is fixed in
// Salesforce and the dead letter is retried. A second retry does nothing.
func TestRetryAfterDataFix(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run(t, b.p.Listener, b.p.Filter, b.p.SAPWorker, b.p.Writeback)
	ctx := context.Background()
	id := b.convert(t, "Atlantis Trading", "Atlantis")
	waitFor(t, "failure written back", func() bool { return b.field(id, "SAP_Sync_Status__c") == "Failed" })

	dls, err := b.op.DeadLetters(ctx, bus.StageSAPWorker, id)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	if len(dls) != 1 || !strings.Contains(dls[0].Reason, "Atlantis") {
		t.Fatalf("dead letters = %+v, want one naming the country", dls)
	}
	var out bytes.Buffer
	if err := operator.Command(ctx, b.op, []string{"dlq", "list", "--stage", "sapworker"}, false, &out); err != nil {
		t.Fatalf("dlq list: %v", err)
	}
	if !strings.Contains(out.String(), id) || !strings.Contains(out.String(), "1 dead letters") {
		t.Errorf("dlq list = %q, want the account and a count of 1", out.String())
	}

	// The country is fixed without a change event, as by a data load that
	// bypasses Change Data Capture, so only the operator's retry can start
	// the sync. (A rep's edit with an event makes the filter retry by
	// itself.)
	if err := b.sims.Salesforce.Store().Update(id, map[string]any{"BillingCountry": "USA"}, sfsim.WriteOptions{User: salesRep, Event: sfsim.EventNone}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := operator.Command(ctx, b.op, []string{"dlq", "retry", id, "--refresh"}, false, &out); err != nil {
		t.Fatalf("dlq retry: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), operator.RetryRepublished) {
		t.Errorf("dlq retry output = %q, want %q", out.String(), operator.RetryRepublished)
	}
	waitFor(t, "SAP number written back after the retry", func() bool { return b.field(id, "SAP_ID__c") != nil })
	if n := b.sims.SAP.CountByExternalRef(id); n != 1 {
		t.Errorf("SAP has %d customers, want 1", n)
	}
	if left, err := b.op.DeadLetters(ctx, "", id); err != nil || len(left) != 0 {
		t.Errorf("dead letters after the retry = %+v, %v; want none", left, err)
	}

	again, err := b.op.Retry(ctx, operator.RetryOptions{AccountID: id, Refresh: true})
	if err != nil || len(again) != 0 {
		t.Errorf("second Retry = %+v, %v; want nothing to do", again, err)
	}
	if n := b.sims.SAP.Calls(createFM); n != 1 {
		t.Errorf("SAP got %d creates, want 1", n)
	}
}

// A write-back that Salesforce rejected for good is written once the
// dead letter is retried, with no second SAP customer.
func TestRetryDeadWriteback(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run(t, b.p.Listener, b.p.Filter, b.p.SAPWorker, b.p.Writeback)
	ctx := context.Background()
	id := b.convert(t, "Harbourline Freight", "USA")
	b.sims.Salesforce.Faults().Add(sfsim.Fault{
		Method: "PATCH", AccountID: id, Times: 1,
		ErrorCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION", Message: "SAP number must be set by finance",
	})
	waitFor(t, "write-back dead-lettered", func() bool {
		dls, err := b.op.DeadLetters(ctx, bus.StageWriteback, id)
		return err == nil && len(dls) == 1
	})
	if b.field(id, "SAP_ID__c") != nil {
		t.Fatalf("SAP_ID__c = %v before the retry, want none", b.field(id, "SAP_ID__c"))
	}

	res, err := b.op.Retry(ctx, operator.RetryOptions{All: true, Stage: bus.StageWriteback})
	if err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if len(res) != 1 || res[0].Outcome != operator.RetryRepublished {
		t.Fatalf("Retry = %+v, want one republished", res)
	}
	waitFor(t, "SAP number written back after the retry", func() bool { return b.field(id, "SAP_ID__c") != nil })
	if n := b.sims.SAP.CountByExternalRef(id); n != 1 {
		t.Errorf("SAP has %d customers, want 1", n)
	}
}

// A replayed conversion of an account SAP already has ends as a no-op in
// the ledger, and a second replay within the hour publishes nothing.
func TestReplayIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Without the writeback service the account stays CREATED and its
	// Salesforce record has no SAP number, so the filter passes the
	// replay on to the SAP worker.
	run(t, b.p.Listener, b.p.Filter, b.p.SAPWorker)
	ctx := context.Background()
	id := b.convert(t, "Maple Leaf Composites", "USA")
	waitFor(t, "customer created", func() bool { return b.sims.SAP.CountByExternalRef(id) == 1 })
	jobs := func() uint64 {
		st, err := b.p.JS.Stream(ctx, bus.StreamSAPJobs)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.LastSeq
	}
	if n := jobs(); n != 1 {
		t.Fatalf("%d create jobs before the replay, want 1", n)
	}

	rep, err := b.op.Replay(ctx, operator.ReplayOptions{AccountID: id})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if rep.Read != 2 || rep.Republished != 2 {
		t.Errorf("Replay = %+v, want the 2 change events read and published again", rep)
	}
	waitFor(t, "replayed conversion queued as a job", func() bool { return jobs() == 2 })
	waitFor(t, "replayed job handled", func() bool {
		st, _ := b.p.JS.Stream(ctx, bus.StreamSAPJobs)
		info, err := st.Info(ctx)
		return err == nil && info.State.Msgs == 0
	})
	if n := b.sims.SAP.Calls(createFM); n != 1 {
		t.Errorf("SAP got %d creates, want 1", n)
	}
	e, _, err := ledgerEntry(ctx, b, id)
	if err != nil || e.State != ledger.Created || e.Attempt != 1 {
		t.Errorf("ledger = %+v, %v; want CREATED after one attempt", e, err)
	}

	rep, err = b.op.Replay(ctx, operator.ReplayOptions{AccountID: id})
	if err != nil {
		t.Fatalf("second Replay: %v", err)
	}
	if rep.Republished != 0 || rep.Duplicates != 2 || rep.Skipped != 2 {
		t.Errorf("second Replay = %+v, want 2 duplicates, 2 earlier replays skipped, none published", rep)
	}
}

func TestAuditListsResults(t *testing.T) {
	t.Parallel()
	b := setup(t)
	run(t, b.p.Listener, b.p.Filter, b.p.SAPWorker, b.p.Writeback)
	ctx := context.Background()
	good := b.convert(t, "Cedar Ridge Outdoor Supply", "USA")
	bad := b.convert(t, "Atlantis Trading", "Atlantis")
	waitFor(t, "two results", func() bool {
		res, err := b.op.Audit(ctx, "", time.Time{})
		return err == nil && len(res) == 2
	})

	res, err := b.op.Audit(ctx, good, time.Time{})
	if err != nil || len(res) != 1 || res[0].Outcome != "synced" || res[0].SAPCustomer == "" {
		t.Errorf("Audit(%s) = %+v, %v; want one synced result with a number", good, res, err)
	}
	res, err = b.op.Audit(ctx, bad, time.Time{})
	if err != nil || len(res) != 1 || res[0].Outcome != "failed" {
		t.Errorf("Audit(%s) = %+v, %v; want one failed result", bad, res, err)
	}
	if res, err := b.op.Audit(ctx, "", time.Now().Add(time.Hour)); err != nil || len(res) != 0 {
		t.Errorf("Audit since an hour ahead = %+v, %v; want none", res, err)
	}

	var out bytes.Buffer
	if err := operator.Command(ctx, b.op, []string{"audit", "--since", "1h"}, true, &out); err != nil {
		t.Fatalf("audit --json: %v", err)
	}
	var entries []operator.AuditEntry
	if err := json.Unmarshal(out.Bytes(), &entries); err != nil || len(entries) != 2 {
		t.Errorf("audit --json = %d entries, %v; want 2", len(entries), err)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.AccountID)
	}
	if !slices.Contains(ids, good) || !slices.Contains(ids, bad) {
		t.Errorf("audit accounts = %v, want %s and %s", ids, good, bad)
	}
}

func TestCommandRejectsBadArguments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := [][]string{
		nil,
		{"frobnicate"},
		{"journey"},
		{"journey", "not-an-id"},
		{"dlq"},
		{"dlq", "purge"},
		{"dlq", "retry"},
		{"dlq", "retry", "001Hx00000ABcDeIAL", "--all"},
		{"dlq", "list", "--stage", "bogus"},
		{"replay"},
		{"replay", "--since", "1h", "--seq", "3"},
		{"replay", "--since", "yesterday"},
		{"audit", "--since", "-5m"},
	}
	for _, args := range tests {
		var out bytes.Buffer
		if err := operator.Command(context.Background(), b.op, args, false, &out); err == nil {
			t.Errorf("Command(%q) = nil error, want one", args)
		}
	}
	if err := operator.Command(context.Background(), b.op, []string{"dlq", "frob"}, false, &bytes.Buffer{}); !errors.Is(err, operator.ErrUsage) {
		t.Errorf("Command(dlq frob) = %v, want ErrUsage", err)
	}
}

func TestNeedsSalesforce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"dlq", "retry", "--all", "--refresh"}, true},
		{[]string{"dlq", "retry", "001Hx00000ABcDeIAL", "-refresh"}, true},
		{[]string{"dlq", "retry", "--all"}, false},
		{[]string{"dlq", "list"}, false},
		{[]string{"journey", "--refresh"}, false},
	}
	for _, tt := range tests {
		if got := operator.NeedsSalesforce(tt.args); got != tt.want {
			t.Errorf("NeedsSalesforce(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

func ledgerEntry(ctx context.Context, b *bundle, id string) (ledger.Entry, bool, error) {
	kv, err := b.p.JS.KeyValue(ctx, bus.BucketLedger)
	if err != nil {
		return ledger.Entry{}, false, err
	}
	return ledger.New(kv).Get(ctx, id)
}

// Pending jobs sit in work-queue streams, which reject ordered consumers,
// so the journey must read them without one.
func TestJourneyShowsPendingJobs(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	const id = "001Hx00000ABcDeIAL"
	job := msg.CreateJob{Schema: msg.SchemaCreateJob, AccountID: id, Reason: msg.ReasonConversion, CorrelationID: "c1", RequestedAt: time.Now().UTC()}
	if _, err := bus.Publish(ctx, b.p.JS, bus.CreateJobSubject(id), job, "", nil); err != nil {
		t.Fatalf("publishing create job: %v", err)
	}
	for _, no := range []string{"0000100001", "0000100002"} {
		wb := msg.WritebackJob{Schema: msg.SchemaWritebackJob, AccountID: id, Status: "Synced", SAPCustomer: no, CorrelationID: "c1", RequestedAt: time.Now().UTC()}
		if _, err := bus.Publish(ctx, b.p.JS, bus.WritebackSubject(id), wb, "", nil); err != nil {
			t.Fatalf("publishing write-back job: %v", err)
		}
	}

	j, err := b.op.Journey(ctx, id)
	if err != nil {
		t.Fatalf("Journey: %v", err)
	}
	got := map[string]string{}
	for _, s := range j.Steps {
		got[s.Kind] = s.Detail
	}
	if want := "pending create job (conversion)"; got[operator.StepCreateJob] != want {
		t.Errorf("create job step = %q, want %q", got[operator.StepCreateJob], want)
	}
	if want := "pending write-back: Synced 0000100002 (newest of 2 pending)"; got[operator.StepWritebackJob] != want {
		t.Errorf("write-back step = %q, want %q", got[operator.StepWritebackJob], want)
	}
}
