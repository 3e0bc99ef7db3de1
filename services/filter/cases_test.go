package filter_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/filter"
)

func TestFilterGapOverflowAndMerged(t *testing.T) {
	t.Parallel()
	sim := startSim(t)
	var x, y, z, w string
	for _, id := range []*string{&x, &y, &z, &w} {
		*id = create(t, sim, map[string]any{"Name": "Prospect Ltd", "Type": "Prospect"})
	}
	// z changes outside the application server: a gap event, no fields.
	update(t, sim, z, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{Event: sfsim.EventGap})
	// w changes in a transaction past the overflow limit: no event of its
	// own, only the overflow event with the empty id.
	update(t, sim, w, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{Event: sfsim.EventNone})
	sim.Store().EmitGap("GAP_OVERFLOW", []string{sfid.EmptyID})
	// One change to three records: a merged event naming all of them.
	if err := sim.Store().UpdateMany([]string{x, y, z}, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{User: salesRep}); err != nil {
		t.Fatalf("Store.UpdateMany: %v", err)
	}

	p := run(t, sim, options{})
	p.settled(t, 4+1+1+3)

	want := []string{x, y, z, w}
	slices.Sort(want)
	if diff := cmp.Diff(want, p.jobIDs(t)); diff != "" {
		t.Errorf("create jobs mismatch, one per Account (-want +got):\n%s", diff)
	}
}

func TestFilterDecidesOnCurrentRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		initial map[string]any
		wantJob bool
	}{
		{"prospect converted", map[string]any{"Type": "Prospect"}, true},
		{"unknown previous type", map[string]any{}, true},
		{"already has an SAP number", map[string]any{"Type": "Prospect", "SAP_ID__c": "0000104711"}, false},
		{"partner is not a prospect", map[string]any{"Type": "Partner"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t)
			fields := map[string]any{"Name": "Larchfield Tools Ltd"}
			for k, v := range tt.initial {
				fields[k] = v
			}
			id := create(t, sim, fields)
			update(t, sim, id, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{})

			p := run(t, sim, options{})
			p.settled(t, 2)
			gotJob := len(p.jobs(t)) == 1
			if gotJob != tt.wantJob {
				t.Fatalf("create job queued = %v, want %v", gotJob, tt.wantJob)
			}
			if gotJob && p.jobs(t)[0].Account.Name != "Larchfield Tools Ltd" {
				t.Errorf("job Account name = %q, want the name read from Salesforce", p.jobs(t)[0].Account.Name)
			}
		})
	}
}

func TestFilterIgnoresOwnWriteBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields map[string]any
		// origin is the Sforce-Call-Options client of the write; empty
		// writes as the integration user without it, as a flow would.
		origin  bool
		wantJob bool
	}{
		{"SAP number written back", map[string]any{"SAP_ID__c": "0000104711", "SAP_Sync_Status__c": "Synced"}, true, false},
		{"failure status written back", map[string]any{"SAP_Sync_Status__c": "Failed", "SAP_Sync_Error__c": "Country is missing"}, true, false},
		{"integration user also changes other fields", map[string]any{"Phone": "+44 20 7946 0000", "Website": "larchfield.example"}, false, false},
		{"integration user changes Type", map[string]any{"Type": "Customer - Direct"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t)
			// A customer without an SAP number, as a loose filter would
			// take for a conversion on any change.
			id := create(t, sim, map[string]any{"Name": "Larchfield Tools Ltd", "Type": "Customer"})
			p := run(t, sim, options{preset: -1, filter: filter.Config{IntegrationUser: sfsim.DefaultIntegrationUserID}})
			// The listener subscribes at the tip, so only the write
			// below reaches the filter.
			time.Sleep(500 * time.Millisecond)

			if tt.origin {
				if err := p.sf.UpdateAccount(context.Background(), id, tt.fields); err != nil {
					t.Fatalf("UpdateAccount: %v", err)
				}
			} else {
				update(t, sim, id, tt.fields, sfsim.WriteOptions{User: sfsim.DefaultIntegrationUserID})
			}
			p.settled(t, 1)
			if gotJob := len(p.jobs(t)) == 1; gotJob != tt.wantJob {
				t.Fatalf("create job queued = %v, want %v", gotJob, tt.wantJob)
			}
		})
	}
}

func TestFilterPausesAtLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(t *testing.T, sim *sfsim.Server, id string)
	}{
		{"record read", func(t *testing.T, sim *sfsim.Server, id string) {
			update(t, sim, id, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{})
		}},
		{"overflow sweep", func(t *testing.T, sim *sfsim.Server, id string) {
			update(t, sim, id, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{Event: sfsim.EventNone})
			sim.Store().EmitGap("GAP_OVERFLOW", []string{sfid.EmptyID})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sim := startSim(t)
			id := create(t, sim, map[string]any{"Name": "Larchfield Tools Ltd", "Type": "Prospect"})
			tt.change(t, sim, id)
			// The daily limit is used up before the filter reads
			// anything. The change events still arrive, because CometD
			// is not a data API call.
			_, limit := sim.APIUsage()
			sim.SetAPIUsage(limit)
			p := run(t, sim, options{
				topology: bus.Topology{MaxDeliver: 1, AckWait: time.Second},
				filter:   filter.Config{LimitPause: 200 * time.Millisecond, KeepAlive: 200 * time.Millisecond},
			})
			eventually(t, "three rejected reads", func() bool { return sim.Calls()[sfsim.CallQuery] >= 3 })
			if n := len(p.jobs(t)); n != 0 {
				t.Fatalf("create jobs = %d while the limit is exceeded, want 0", n)
			}

			sim.SetAPIUsage(0)
			eventually(t, "a create job", func() bool { return len(p.jobs(t)) == 1 })
			if n := len(streamMessages(t, p.nats.JS, bus.StreamDLQ)); n != 0 {
				t.Errorf("dead letters = %d, want 0: a limit pause loses nothing", n)
			}
		})
	}
}
