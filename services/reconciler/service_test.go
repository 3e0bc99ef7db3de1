package reconciler_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/services/allinone"
	"github.com/sfsap/sfsap/services/reconciler"
	"github.com/sfsap/sfsap/test/natstest"
)

// An Account converted while the listener was down has no change event
// in JetStream; the reconciler's sweep must find it and get it synced.
func TestSweepSyncsMissedConversion(t *testing.T) {
	t.Parallel()
	s, cfg := sims(t)
	cfg.Reconciler.Interval = 100 * time.Millisecond
	cfg.SAPWorker.Settle = time.Second
	logs := newLogCapture(t)
	log := slog.New(logs)

	cfg.Reconciler.SweepDelay = time.Millisecond
	id := convert(t, s.Salesforce.Store(), "Lakeshore Outfitters")
	// The filter saw this one become a customer and decided on it, so the
	// sweep leaves it alone.
	seen := convert(t, s.Salesforce.Store(), "Pinecrest Dental Group")
	p, err := allinone.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("starting pipeline: %v", err)
	}
	t.Cleanup(p.Close)
	types, err := p.JS.KeyValue(context.Background(), bus.BucketTypes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := types.PutString(context.Background(), seen, "Customer"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	// Everything but the listener runs.
	run(t, p.Filter, p.SAPWorker, p.Writeback, p.Reconciler)

	waitFor(t, "SAP number written back", func() bool {
		rec, _ := s.Salesforce.Store().Get(id)
		return rec["SAP_ID__c"] != nil
	})
	rec, _ := s.Salesforce.Store().Get(id)
	if n := s.SAP.CountByExternalRef(id); n != 1 {
		t.Errorf("SAP has %d customers for the account, want 1", n)
	}
	cust, ok := s.SAP.Customer(rec["SAP_ID__c"].(string))
	if !ok || !strings.EqualFold(cust.ExternalRef, id) {
		t.Errorf("Salesforce has SAP number %v, which SAP does not have for the account", rec["SAP_ID__c"])
	}
	if n := len(stored(t, p.JS, bus.StreamCDC, "")); n != 0 {
		t.Errorf("%d change events in JetStream, want 0 with the listener down", n)
	}
	if logs.count("sweep queued jobs") == 0 {
		t.Error("no sweep logged that it queued jobs")
	}
	if rec, _ := s.Salesforce.Store().Get(seen); rec["SAP_ID__c"] != nil {
		t.Errorf("account the filter had decided on got SAP number %v, want none", rec["SAP_ID__c"])
	}
	if n := s.SAP.CountByExternalRef(seen); n != 0 {
		t.Errorf("SAP has %d customers for the account the filter had decided on, want 0", n)
	}
}

// A customer created in SAP whose write-back job was lost gets its
// write-back queued again, once.
func TestCreatedWithoutWritebackIsRedriven(t *testing.T) {
	t.Parallel()
	s, cfg := sims(t)
	b := natstest.Start(t, cfg.Topology)
	log := slog.New(newLogCapture(t))
	id := convert(t, s.Salesforce.Store(), "Harbour Freight")
	l := ledger.New(b.KV(t, bus.BucketLedger))
	ctx := context.Background()

	claim, err := l.Claim(ctx, id, "gone", "corr-1", time.Minute, 0)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if _, err := l.MarkCreated(ctx, claim, "0000104711"); err != nil {
		t.Fatalf("MarkCreated: %v", err)
	}

	rc, err := reconciler.New(ctx, reconciler.Config{WritebackAfter: time.Millisecond, DisableSweep: true}, b.JS, nil, nil, log)
	if err != nil {
		t.Fatalf("reconciler.New: %v", err)
	}
	time.Sleep(5 * time.Millisecond)
	for range 2 {
		rep, err := rc.Reconcile(ctx)
		if err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		if rep.Entries != 1 {
			t.Errorf("Reconcile read %d entries, want 1", rep.Entries)
		}
	}
	jobs := stored(t, b.JS, bus.StreamWriteback, bus.WritebackSubject(id))
	if len(jobs) != 1 {
		t.Fatalf("%d write-back jobs after two passes, want 1", len(jobs))
	}
	if !strings.Contains(string(jobs[0].Data), `"sap_customer":"0000104711"`) || !strings.Contains(string(jobs[0].Data), `"correlation_id":"corr-1"`) {
		t.Errorf("write-back job = %s, want the ledger's number and correlation id", jobs[0].Data)
	}

	// The writeback service then writes the number to Salesforce.
	sf := salesforce(t, cfg, log)
	wb, err := newWriteback(ctx, cfg, b, sf, log)
	if err != nil {
		t.Fatalf("writeback.New: %v", err)
	}
	run(t, wb)
	waitFor(t, "ledger written back", func() bool {
		e, _, _ := l.Get(ctx, id)
		return e.State == ledger.WrittenBack
	})
	rec, _ := s.Salesforce.Store().Get(id)
	if rec["SAP_ID__c"] != "0000104711" {
		t.Errorf("SAP_ID__c = %v, want 0000104711", rec["SAP_ID__c"])
	}
}

// A claim whose holder vanished, and whose job is gone too, gets a new
// create job built from the Account's current data.
func TestExpiredClaimIsRedriven(t *testing.T) {
	t.Parallel()
	s, cfg := sims(t)
	b := natstest.Start(t, cfg.Topology)
	log := slog.New(newLogCapture(t))
	id := convert(t, s.Salesforce.Store(), "Sakura Precision Tooling")
	ctx := context.Background()
	l := ledger.New(b.KV(t, bus.BucketLedger))
	if _, err := l.Claim(ctx, id, "gone", "corr-2", time.Millisecond, 0); err != nil {
		t.Fatalf("Claim: %v", err)
	}
	// A claim that is still valid is left alone.
	other := convert(t, s.Salesforce.Store(), "Maple Leaf Composites")
	if _, err := l.Claim(ctx, other, "busy", "", time.Hour, 0); err != nil {
		t.Fatalf("Claim: %v", err)
	}

	sf := salesforce(t, cfg, log)
	rc, err := reconciler.New(ctx, reconciler.Config{Settle: time.Millisecond, ClaimGrace: time.Millisecond, DisableSweep: true},
		b.JS, nil, setup.FilterSalesforce{Client: sf}, log)
	if err != nil {
		t.Fatalf("reconciler.New: %v", err)
	}
	time.Sleep(10 * time.Millisecond)
	rep, err := rc.Reconcile(ctx)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if rep.Claims != 1 {
		t.Errorf("Reconcile re-drove %d claims, want 1", rep.Claims)
	}
	jobs := stored(t, b.JS, bus.StreamSAPJobs, "")
	if len(jobs) != 1 || jobs[0].Subject != bus.CreateJobSubject(id) {
		t.Fatalf("create jobs = %d, want 1 for %s", len(jobs), id)
	}
	for _, want := range []string{`"reason":"retry"`, `"correlation_id":"corr-2"`, `"billing_city":"Madison"`} {
		if !strings.Contains(string(jobs[0].Data), want) {
			t.Errorf("create job %s lacks %s", jobs[0].Data, want)
		}
	}
	// With the job pending, a second pass queues nothing.
	if rep, err := rc.Reconcile(ctx); err != nil || rep.Claims != 0 {
		t.Errorf("second Reconcile = %+v, %v; want no claims re-driven", rep, err)
	}
}

// A job that runs out of deliveries is moved to the dead-letter stream
// and deleted from the work queue, so the account's next job can enter.
func TestExhaustedJobIsDeadLettered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		created     bool
		wantDLQ     int
		wantState   ledger.State
		wantFailure bool
	}{
		{"account not created", false, 1, ledger.Failed, true},
		{"account created meanwhile", true, 0, ledger.Created, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := natstest.Start(t, bus.Topology{MaxDeliver: 2, SAPAckWait: time.Second})
			logs := newLogCapture(t)
			ctx := context.Background()
			const id = "001Hx00000ABcDeIAL"
			l := ledger.New(b.KV(t, bus.BucketLedger))
			if tt.created {
				claim, err := l.Claim(ctx, id, "w1", "", time.Minute, 0)
				if err != nil {
					t.Fatalf("Claim: %v", err)
				}
				if _, err := l.MarkCreated(ctx, claim, "0000100001"); err != nil {
					t.Fatalf("MarkCreated: %v", err)
				}
			}
			job := msg.CreateJob{Schema: msg.SchemaCreateJob, AccountID: id, Reason: msg.ReasonConversion, CorrelationID: "corr-3", RequestedAt: time.Now().UTC()}
			job.Account.ID, job.Account.Name = id, "Atelier Lumière"
			if _, err := bus.Publish(ctx, b.JS, bus.CreateJobSubject(id), job, "", nil); err != nil {
				t.Fatalf("Publish: %v", err)
			}

			// A worker that fails the job every time.
			cons, err := b.JS.Consumer(ctx, bus.StreamSAPJobs, bus.ConsumerSAPWorker)
			if err != nil {
				t.Fatal(err)
			}
			run(t, runner(func(ctx context.Context) error {
				return bus.Run(ctx, cons, bus.RunOptions{Name: "failing"}, func(context.Context, jetstream.Msg) error {
					return bus.Retry(errors.New("SAP unavailable"), 10*time.Millisecond)
				})
			}))
			rc, err := reconciler.New(ctx, reconciler.Config{Interval: time.Hour, DisableSweep: true}, b.JS, nil, nil, slog.New(logs))
			if err != nil {
				t.Fatalf("reconciler.New: %v", err)
			}
			run(t, rc)

			waitFor(t, "job removed from the work queue", func() bool { return len(stored(t, b.JS, bus.StreamSAPJobs, "")) == 0 })
			dls := deadLetters(t, b.JS, bus.StageSAPWorker, id)
			if len(dls) != tt.wantDLQ {
				t.Fatalf("%d dead letters, want %d", len(dls), tt.wantDLQ)
			}
			e, _, err := l.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if e.State != tt.wantState {
				t.Errorf("ledger state = %s, want %s", e.State, tt.wantState)
			}
			failures := stored(t, b.JS, bus.StreamWriteback, bus.WritebackSubject(id))
			if got := len(failures) == 1; got != tt.wantFailure {
				t.Errorf("failure write-back queued = %v (%d jobs), want %v", got, len(failures), tt.wantFailure)
			}
			if tt.wantDLQ == 0 {
				return
			}
			dl := dls[0]
			if !strings.HasPrefix(dl.Reason, bus.ReasonMaxDeliveries) || dl.Attempts < 2 || dl.Subject != bus.CreateJobSubject(id) || dl.CorrelationID != "corr-3" {
				t.Errorf("dead letter = %+v, want reason %q, 2 or more attempts, the original subject and correlation id", dl, bus.ReasonMaxDeliveries)
			}
			if !e.DeadLettered {
				t.Error("ledger entry not marked dead-lettered")
			}
			if !strings.Contains(string(failures[0].Data), `"status":"Failed"`) {
				t.Errorf("failure write-back = %s, want status Failed", failures[0].Data)
			}
			// The account can get a new job now.
			if _, err := bus.Publish(ctx, b.JS, bus.CreateJobSubject(id), job, "", nil); err != nil {
				t.Errorf("publishing a new job after the move: %v", err)
			}
		})
	}
}

// A consumer whose every MaxAckPending slot stays taken raises an alarm.
func TestStalledConsumerRaisesAlarm(t *testing.T) {
	t.Parallel()
	b := natstest.Start(t, bus.Topology{SAPMaxAckPending: 2, SAPAckWait: time.Minute})
	logs := newLogCapture(t)
	ctx := context.Background()
	for _, id := range []string{"001Hx00000ABcDeIAL", "001Hx00000QrStUIAV", "001Dn00000Abc12IAB"} {
		if _, err := bus.Publish(ctx, b.JS, bus.CreateJobSubject(id), map[string]string{"account_id": id}, "", nil); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
	cons, err := b.JS.Consumer(ctx, bus.StreamSAPJobs, bus.ConsumerSAPWorker)
	if err != nil {
		t.Fatal(err)
	}
	// Take both slots and hold them.
	batch, err := cons.Fetch(2, jetstream.FetchMaxWait(10*time.Second))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	taken := 0
	for range batch.Messages() {
		taken++
	}
	if taken != 2 {
		t.Fatalf("fetched %d messages, want 2", taken)
	}

	rc, err := reconciler.New(ctx, reconciler.Config{StallAfter: time.Millisecond, DisableSweep: true}, b.JS, nil, nil, slog.New(logs))
	if err != nil {
		t.Fatalf("reconciler.New: %v", err)
	}
	rc.CheckConsumers(ctx)
	if n := logs.count("ALARM"); n != 0 {
		t.Fatalf("%d alarms on the first check, want 0 until StallAfter has passed", n)
	}
	time.Sleep(5 * time.Millisecond)
	rc.CheckConsumers(ctx)
	if n := logs.count("ALARM: consumer is stalled"); n != 1 {
		t.Fatalf("%d stall alarms after StallAfter, want 1", n)
	}
	if n := logs.count("consumer=" + bus.ConsumerSAPWorker); n != 1 {
		t.Errorf("alarm does not name consumer %s", bus.ConsumerSAPWorker)
	}
}

// Each sweep starts where the previous one ended, less the margin, and
// leaves out the newest changes.
func TestSweepRemembersLastEnd(t *testing.T) {
	t.Parallel()
	b := natstest.Start(t, bus.Topology{})
	ctx := context.Background()
	sw := &recordingSweeper{}
	cfg := reconciler.Config{SweepMargin: time.Minute, SweepDelay: 2 * time.Minute, SweepLookback: 48 * time.Hour}
	rc, err := reconciler.New(ctx, cfg, b.JS, sw, nil, slog.New(newLogCapture(t)))
	if err != nil {
		t.Fatalf("reconciler.New: %v", err)
	}
	before := time.Now()
	for range 2 {
		if _, err := rc.Sweep(ctx); err != nil {
			t.Fatalf("Sweep: %v", err)
		}
	}
	after := time.Now()
	if len(sw.calls) != 2 {
		t.Fatalf("sweeper called %d times, want 2", len(sw.calls))
	}
	first, second := sw.calls[0], sw.calls[1]
	within := func(got, from, to time.Time) bool { return !got.Before(from) && !got.After(to) }
	if !within(first.until, before.Add(-2*time.Minute), after.Add(-2*time.Minute)) {
		t.Errorf("first sweep until %v, want 2m before the sweep", first.until)
	}
	if want := first.until.Add(-48 * time.Hour); !first.since.Equal(want) {
		t.Errorf("first sweep since %v, want the 48h lookback %v", first.since, want)
	}
	if want := first.until.Add(-time.Minute); !second.since.Equal(want) {
		t.Errorf("second sweep since %v, want the first sweep's end less 1m, %v", second.since, want)
	}
	if first.reason != msg.ReasonSweep {
		t.Errorf("sweep reason = %q, want %q", first.reason, msg.ReasonSweep)
	}
}

// recordingSweeper records its calls. It stands in for filter.Service,
// whose sweep runs against the Salesforce simulator in
// TestSweepSyncsMissedConversion.
type recordingSweeper struct {
	mu    sync.Mutex
	calls []sweepCall
}

type sweepCall struct {
	since, until time.Time
	reason       string
}

func (r *recordingSweeper) SweepBetween(_ context.Context, since, until time.Time, reason string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, sweepCall{since: since, until: until, reason: reason})
	return 0, nil
}

type runner func(ctx context.Context) error

func (f runner) Run(ctx context.Context) error { return f(ctx) }
