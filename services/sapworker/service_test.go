package sapworker_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/msg"
)

// Permanent failures must free their slot at once: with MaxAckPending 2,
// two jobs that can never succeed would otherwise hold both slots and
// starve the jobs behind them.
func TestBadJobsDoNotStarveGoodOnes(t *testing.T) {
	t.Parallel()
	b := setup(t, bus.Topology{SAPMaxAckPending: 2, SAPAckWait: time.Second, MaxDeliver: 5})

	var bad, good []string
	for i := range 2 {
		a := validAccount(accountID(t, i))
		a.BillingCountry = "Atlantis"
		bad = append(bad, a.ID)
		b.publishJob(t, a, msg.ReasonConversion)
	}
	for i := 2; i < 5; i++ {
		a := validAccount(accountID(t, i))
		good = append(good, a.ID)
		b.publishJob(t, a, msg.ReasonConversion)
	}
	b.start(t, fastConfig("w1"))

	waitFor(t, "3 valid accounts created", func() bool {
		for _, id := range good {
			if b.entry(t, id).State != ledger.Created {
				return false
			}
		}
		return true
	})
	waitFor(t, "2 bad accounts dead-lettered", func() bool {
		return len(b.deadLetters(t, bad[0])) == 1 && len(b.deadLetters(t, bad[1])) == 1
	})

	for _, id := range good {
		if n := b.sim.CountByExternalRef(id); n != 1 {
			t.Errorf("SAP has %d customers for %s, want 1", n, id)
		}
		if wb := b.messages(t, bus.StreamWriteback, bus.WritebackSubject(id)); len(wb) != 1 {
			t.Errorf("%d write-back jobs for %s, want 1", len(wb), id)
		}
	}
	for _, id := range bad {
		dl := b.deadLetters(t, id)[0]
		if !strings.Contains(dl.Reason, "Atlantis") || dl.Subject != bus.CreateJobSubject(id) || len(dl.Data) == 0 {
			t.Errorf("dead letter of %s = reason %q subject %q, want the country named and the original job", id, dl.Reason, dl.Subject)
		}
		if e := b.entry(t, id); e.State != ledger.Failed || !e.DeadLettered {
			t.Errorf("ledger of %s: state %s dead-lettered %v, want FAILED and true", id, e.State, e.DeadLettered)
		}
		if n := b.sim.CountByExternalRef(id); n != 0 {
			t.Errorf("SAP has %d customers for bad account %s, want 0", n, id)
		}
	}
	if pending := b.messages(t, bus.StreamSAPJobs, ""); len(pending) != 0 {
		t.Errorf("%d create jobs still pending, want 0", len(pending))
	}
}

// A job redelivered while the first delivery's SAP create is still
// running must not create a second customer, whether or not the
// in-progress acks reach the server in time.
func TestRedeliveryDuringSlowCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// workerAckWait is the ack wait configured in the workers, which
		// send in-progress acks at a third of it. The consumer's is 1s.
		workerAckWait time.Duration
		wantHeld      bool
	}{
		{"in-progress acks in time", time.Second, false},
		{"in-progress acks too late", time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, bus.Topology{SAPAckWait: time.Second, MaxDeliver: 5})
			b.sim.SetLatency(createFM, 3*time.Second)
			id := accountID(t, 1)
			for _, w := range []string{"w1", "w2"} {
				cfg := fastConfig(w)
				cfg.AckWait = tt.workerAckWait
				cfg.Settle = 5 * time.Second
				b.start(t, cfg)
			}
			b.publishJob(t, validAccount(id), msg.ReasonConversion)

			waitFor(t, "customer recorded in the ledger", func() bool { return b.entry(t, id).State == ledger.Created })
			waitFor(t, "create job acknowledged", func() bool { return len(b.messages(t, bus.StreamSAPJobs, "")) == 0 })

			if n := b.sim.Calls(createFM); n != 1 {
				t.Errorf("SAP got %d creates, want 1", n)
			}
			if n := b.sim.CountByExternalRef(id); n != 1 {
				t.Errorf("SAP has %d customers for the account, want 1", n)
			}
			metClaim := b.logs.count(slog.LevelInfo, "account claimed elsewhere") > 0
			if metClaim != tt.wantHeld {
				t.Errorf("a redelivery met the other worker's claim: %v, want %v", metClaim, tt.wantHeld)
			}
		})
	}
}

// A second, different customer number for an account is a duplicate that
// slipped through; it must raise an alarm and park the job.
func TestConflictingCustomerRaisesAlarm(t *testing.T) {
	t.Parallel()
	b := setup(t, bus.Topology{SAPAckWait: time.Second, MaxDeliver: 5})
	b.sim.SetLatency(createFM, 2*time.Second)
	id := accountID(t, 7)
	before := alarmCount(t, metrics.AlarmConflictingCustomer)
	b.start(t, fastConfig("w1"))
	b.publishJob(t, validAccount(id), msg.ReasonConversion)

	// While the create runs, another path records a different customer.
	waitFor(t, "create in flight", func() bool { return b.sim.Calls(createFM) == 1 })
	claim := b.entry(t, id)
	if claim.State != ledger.Claimed {
		t.Fatalf("ledger state during the create = %s, want %s", claim.State, ledger.Claimed)
	}
	if _, err := b.ledger.MarkCreated(context.Background(), claim, "0000199999"); err != nil {
		t.Fatalf("MarkCreated by the other path: %v", err)
	}

	waitFor(t, "dead letter", func() bool { return len(b.deadLetters(t, id)) == 1 })
	if n := b.logs.count(slog.LevelError, "ALARM"); n != 1 {
		t.Errorf("%d ERROR records with ALARM, want 1", n)
	}
	dl := b.deadLetters(t, id)[0]
	if !strings.Contains(dl.Reason, "0000199999") || dl.SAPCustomer == "" || dl.SAPCustomer == "0000199999" {
		t.Errorf("dead letter = reason %q customer %q, want both numbers named", dl.Reason, dl.SAPCustomer)
	}
	if e := b.entry(t, id); e.SAPCustomer != "0000199999" || !e.DeadLettered {
		t.Errorf("ledger = customer %s dead-lettered %v, want the first number kept and the entry parked", e.SAPCustomer, e.DeadLettered)
	}
	if got := alarmCount(t, metrics.AlarmConflictingCustomer); got != before+1 {
		t.Errorf("sfsap_alarms_total{kind=%q} = %v, want %v", metrics.AlarmConflictingCustomer, got, before+1)
	}
}

// A parked account is not retried by jobs from sweeps or replays; only an
// operator's reset makes it workable again.
func TestFailedAccountWaitsForOperator(t *testing.T) {
	t.Parallel()
	b := setup(t, bus.Topology{SAPAckWait: time.Second, MaxDeliver: 5})
	id := accountID(t, 3)
	a := validAccount(id)
	a.BillingCountry = "Atlantis"
	b.start(t, fastConfig("w1"))

	b.publishJob(t, a, msg.ReasonConversion)
	waitFor(t, "first dead letter", func() bool { return len(b.deadLetters(t, id)) == 1 })
	waitFor(t, "first job settled", func() bool { return len(b.messages(t, bus.StreamSAPJobs, "")) == 0 })

	b.publishJob(t, a, msg.ReasonSweep)
	waitFor(t, "sweep job settled", func() bool { return len(b.messages(t, bus.StreamSAPJobs, "")) == 0 })
	if n := len(b.deadLetters(t, id)); n != 1 {
		t.Fatalf("%d dead letters after a sweep job, want still 1", n)
	}

	if _, err := b.ledger.Reset(context.Background(), id, "data fixed"); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	b.publishJob(t, validAccount(id), msg.ReasonRetry)
	waitFor(t, "customer created after reset", func() bool { return b.entry(t, id).State == ledger.Created })
	if n := b.sim.CountByExternalRef(id); n != 1 {
		t.Errorf("SAP has %d customers, want 1", n)
	}
}

func alarmCount(t *testing.T, kind string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != "sfsap_alarms_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("metric sfsap_alarms_total{kind=%q} not registered", kind)
	return 0
}
