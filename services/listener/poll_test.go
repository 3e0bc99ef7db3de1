package listener_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/schemas"
	"github.com/sfsap/sfsap/services/listener"
	"github.com/sfsap/sfsap/test/natstest"
)

// bulkStamp is the SystemModstamp that a bulk update gave many Accounts.
var bulkStamp = time.Date(2025, 4, 2, 10, 15, 7, 0, time.UTC)

func pollSource(t *testing.T, org *simOrg, pageSize int) *listener.PollSource {
	t.Helper()
	user, err := org.sf.UserID(context.Background())
	if err != nil {
		t.Fatalf("UserID: %v", err)
	}
	return &listener.PollSource{
		SF:              org.sf,
		Config:          listener.PollConfig{Interval: 50 * time.Millisecond, Overlap: 5 * time.Minute, PageSize: pageSize},
		IntegrationUser: user,
		Earliest:        true,
		Logger:          quietLogger(t),
	}
}

// convertAt creates prospects and converts them all in one bulk update
// stamped at.
func convertAt(t *testing.T, org *simOrg, n int, at time.Time) []string {
	t.Helper()
	var ids []string
	for i := range n {
		ids = append(ids, org.create(t, map[string]any{"Name": "Bulk Account " + string(rune('A'+i)), "Type": "Prospect"}))
	}
	org.sim.Store().SetClock(func() time.Time { return at })
	defer org.sim.Store().SetClock(nil)
	if err := org.sim.Store().UpdateMany(ids, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{}); err != nil {
		t.Fatalf("Store.UpdateMany: %v", err)
	}
	return ids
}

func changeIDs(changes []msg.AccountChange) []string {
	var ids []string
	for _, c := range changes {
		ids = append(ids, c.AccountID)
	}
	slices.Sort(ids)
	return ids
}

func TestPollSameModstampOnce(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.Options{QueryBatchSize: 2}, sfsim.CometDOptions{})
	nb := natstest.Start(t, bus.Topology{})
	ids := convertAt(t, org, 5, bulkStamp)
	slices.Sort(ids)

	org.sim.ResetCalls()
	runListener(t, nb.JS, listener.Config{Checkpoint: "poll.Account"}, pollSource(t, org, 2), nil, quietLogger(t))

	eventually(t, "five published changes", func() bool { return len(cdcChanges(t, nb.JS)) >= 5 })
	// Later polls read the same records again through the overlap.
	eventually(t, "three more polls", func() bool { return org.sim.Calls()[sfsim.CallQuery] >= 12 })

	changes := cdcChanges(t, nb.JS)
	if diff := cmp.Diff(ids, changeIDs(changes)); diff != "" {
		t.Fatalf("published Accounts mismatch, each wanted once (-want +got):\n%s", diff)
	}
	for _, c := range changes {
		if c.ChangeType != msg.ChangeGapUpdate {
			t.Errorf("change of %s has type %s, want %s so the filter reads the record", c.AccountID, c.ChangeType, msg.ChangeGapUpdate)
		}
		if !c.CommitTimestamp.Equal(bulkStamp) {
			t.Errorf("change of %s committed at %s, want the SystemModstamp %s", c.AccountID, c.CommitTimestamp, bulkStamp)
		}
		data, _ := json.Marshal(c)
		if err := schemas.Validate(data); err != nil {
			t.Errorf("change of %s does not match its schema: %v", c.AccountID, err)
		}
	}

	var cursor struct {
		Modstamp time.Time `json:"system_modstamp"`
		ID       string    `json:"id"`
	}
	if err := json.Unmarshal(storedPosition(t, nb.JS, "poll.Account"), &cursor); err != nil {
		t.Fatalf("stored poll cursor is not JSON: %v", err)
	}
	if !cursor.Modstamp.Equal(bulkStamp) || cursor.ID != ids[4] {
		t.Errorf("stored cursor = (%s, %s), want (%s, %s)", cursor.Modstamp, cursor.ID, bulkStamp, ids[4])
	}
}

func TestPollLateCommitInOverlap(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.Options{}, sfsim.CometDOptions{})
	nb := natstest.Start(t, bus.Topology{})
	first := convertAt(t, org, 1, bulkStamp)
	runListener(t, nb.JS, listener.Config{Checkpoint: "poll.Account"}, pollSource(t, org, 100), nil, quietLogger(t))
	eventually(t, "the first change", func() bool { return len(cdcChanges(t, nb.JS)) == 1 })

	// A transaction that began earlier commits now with an older
	// SystemModstamp, behind the cursor but inside the overlap.
	late := convertAt(t, org, 1, bulkStamp.Add(-time.Minute))
	eventually(t, "the late change", func() bool { return len(cdcChanges(t, nb.JS)) == 2 })
	want := append(slices.Clone(first), late...)
	slices.Sort(want)
	if diff := cmp.Diff(want, changeIDs(cdcChanges(t, nb.JS))); diff != "" {
		t.Errorf("published Accounts mismatch (-want +got):\n%s", diff)
	}
}

func TestPollSkipsOwnFailureStatus(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.Options{}, sfsim.CometDOptions{})
	nb := natstest.Start(t, bus.Topology{})
	store := org.sim.Store()
	id := org.create(t, map[string]any{"Name": "Larchfield Tools Ltd", "Type": "Customer"})
	own := sfsim.WriteOptions{User: sfsim.DefaultIntegrationUserID}
	if err := store.Update(id, map[string]any{"SAP_Sync_Status__c": account.StatusFailed, "SAP_Sync_Error__c": "Country is missing"}, own); err != nil {
		t.Fatalf("Store.Update: %v", err)
	}
	other := org.create(t, map[string]any{"Name": "Eastbrook Mills", "Type": "Customer"})
	org.sim.ResetCalls()
	runListener(t, nb.JS, listener.Config{Checkpoint: "poll.Account"}, pollSource(t, org, 100), nil, quietLogger(t))

	eventually(t, "two polls", func() bool { return org.sim.Calls()[sfsim.CallQuery] >= 2 })
	eventually(t, "one change", func() bool { return len(cdcChanges(t, nb.JS)) == 1 })
	if got := changeIDs(cdcChanges(t, nb.JS)); !slices.Equal(got, []string{other}) {
		t.Fatalf("published Accounts = %v, want only %s: the other one's last change is sfsap's failure status", got, other)
	}

	// A sales rep fixes the Account, which makes it a candidate again.
	later := time.Now().Add(time.Second)
	store.SetClock(func() time.Time { return later })
	defer store.SetClock(nil)
	if err := store.Update(id, map[string]any{"BillingCountry": "DE"}, sfsim.WriteOptions{User: "005Hx00000RepUsIAA"}); err != nil {
		t.Fatalf("Store.Update: %v", err)
	}
	eventually(t, "the fixed Account's change", func() bool { return len(cdcChanges(t, nb.JS)) == 2 })
}

func TestPollRejectsCorruptCursor(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.Options{}, sfsim.CometDOptions{})
	src := pollSource(t, org, 10)
	for _, from := range []string{"garbage", `{"id":"001Hx0000000001IAA"}`, "1234"} {
		err := src.Subscribe(t.Context(), []byte(from), func(context.Context, listener.Event) error { return nil })
		if !errors.Is(err, listener.ErrPositionRejected) {
			t.Errorf("Subscribe(from %q) = %v, want ErrPositionRejected", from, err)
		}
	}
}

func TestPollConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  listener.PollConfig
	}{
		{"page size too large", listener.PollConfig{PageSize: 2001}},
		{"negative overlap", listener.PollConfig{Overlap: -time.Second}},
		{"slow interval below interval", listener.PollConfig{Interval: time.Minute, SlowInterval: time.Second}},
	}
	for _, tt := range tests {
		if err := tt.cfg.WithDefaults().Validate(); err == nil {
			t.Errorf("Validate(%s) = nil, want an error", tt.name)
		}
	}
	if err := (listener.PollConfig{}).WithDefaults().Validate(); err != nil {
		t.Errorf("Validate(defaults) = %v, want nil", err)
	}
}

func TestPollSlowsDownNearLimit(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.Options{}, sfsim.CometDOptions{})
	_, limit := org.sim.APIUsage()
	org.sim.SetAPIUsage(limit * 95 / 100)
	src := pollSource(t, org, 100)
	src.Config.SlowInterval = time.Hour
	org.sim.ResetCalls()

	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	err := src.Subscribe(ctx, nil, func(context.Context, listener.Event) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Subscribe() = %v, want the context's deadline error", err)
	}
	// At the normal 50 ms interval a second holds about 20 polls.
	if n := org.sim.Calls()[sfsim.CallQuery]; n != 1 {
		t.Errorf("polls = %d, want 1 while usage is above the slow-down share", n)
	}
}
