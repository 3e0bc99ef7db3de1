package sapworker_test

import (
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/msg"
)

// A worker stopped while it handles a job either finishes the job or
// leaves it to another worker, and SAP never gets a second customer.
func TestShutdownDuringCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// slowFM and latency make one SAP call slow, and the first worker
		// is stopped while that call runs.
		slowFM  string
		latency time.Duration
		// callTimeout bounds each SAP call of the first worker.
		callTimeout time.Duration
		// wantFirstDone is whether the first worker records the customer
		// before it stops.
		wantFirstDone bool
		// wantCreates is the number of create calls SAP gets in total.
		wantCreates int
	}{
		{"create finishes within grace", createFM, 2 * time.Second, 5 * time.Second, true, 1},
		{"stop during lookup releases the claim", findFM, 2 * time.Second, 5 * time.Second, false, 1},
		{"create outlasts its timeout", createFM, 3 * time.Second, time.Second, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, bus.Topology{SAPAckWait: time.Second, MaxDeliver: 5})
			b.sim.SetLatency(tt.slowFM, tt.latency)
			id := accountID(t, 11)

			first := fastConfig("w1")
			first.CallTimeout = tt.callTimeout
			// A settle time longer than the slow call lets SAP finish a
			// create the first worker gave up on before anyone looks.
			first.Settle = tt.latency + time.Second
			stopFirst := b.start(t, first)
			b.publishJob(t, validAccount(id), msg.ReasonConversion)

			waitFor(t, tt.slowFM+" in flight", func() bool { return b.sim.Calls(tt.slowFM) == 1 })
			stopFirst()

			e := b.entry(t, id)
			if done := e.State == ledger.Created; done != tt.wantFirstDone {
				t.Fatalf("after the first worker stopped: ledger state %s, want created = %v", e.State, tt.wantFirstDone)
			}
			if tt.wantFirstDone {
				if wb := b.messages(t, bus.StreamWriteback, bus.WritebackSubject(id)); len(wb) != 1 {
					t.Errorf("%d write-back jobs after shutdown, want 1", len(wb))
				}
				if jobs := b.messages(t, bus.StreamSAPJobs, ""); len(jobs) != 0 {
					t.Errorf("%d create jobs left after shutdown, want 0", len(jobs))
				}
			} else if e.State == ledger.Claimed && e.Owner != "" && !e.InDoubt {
				t.Errorf("after shutdown the claim is held by %s and not in doubt, want it released or in doubt", e.Owner)
			}

			second := fastConfig("w2")
			second.Settle = first.Settle
			b.sim.SetLatency(tt.slowFM, 0)
			b.start(t, second)
			waitFor(t, "customer recorded", func() bool { return b.entry(t, id).State == ledger.Created })
			waitFor(t, "create job acknowledged", func() bool { return len(b.messages(t, bus.StreamSAPJobs, "")) == 0 })

			if n := b.sim.Calls(createFM); n != tt.wantCreates {
				t.Errorf("SAP got %d creates, want %d", n, tt.wantCreates)
			}
			if n := b.sim.CountByExternalRef(id); n != 1 {
				t.Errorf("SAP has %d customers for the account, want 1", n)
			}
			if wb := b.messages(t, bus.StreamWriteback, bus.WritebackSubject(id)); len(wb) != 1 {
				t.Errorf("%d write-back jobs, want 1", len(wb))
			}
		})
	}
}
