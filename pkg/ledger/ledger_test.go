package ledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/test/natstest"
)

const acct = "001Hx00000ABcDeIAL"

func setup(t *testing.T) *ledger.Ledger {
	t.Helper()
	b := natstest.Start(t, bus.Topology{})
	return ledger.New(b.KV(t, bus.BucketLedger))
}

func TestClaimIsExclusive(t *testing.T) {
	t.Parallel()
	l := setup(t)
	ctx := context.Background()

	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 8 {
		wg.Go(func() {
			_, err := l.Claim(ctx, acct, "worker-"+string(rune('a'+i)), "", time.Minute, time.Second)
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, ledger.ErrHeld) && !errors.Is(err, ledger.ErrClaimLost) {
				t.Errorf("Claim: unexpected error %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d workers won the claim, want exactly 1", wins)
	}
}

func TestClaimAfterCreatedReturnsDone(t *testing.T) {
	t.Parallel()
	l := setup(t)
	ctx := context.Background()

	e, err := l.Claim(ctx, acct, "w1", "corr", time.Minute, time.Second)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if _, err := l.MarkCreated(ctx, e, "104711"); err != nil {
		t.Fatalf("MarkCreated: %v", err)
	}
	got, err := l.Claim(ctx, acct, "w2", "", time.Minute, time.Second)
	if !errors.Is(err, ledger.ErrDone) {
		t.Fatalf("Claim after create: err = %v, want ErrDone", err)
	}
	if got.SAPCustomer != "0000104711" {
		t.Errorf("SAPCustomer = %q, want normalised 0000104711", got.SAPCustomer)
	}
}

func TestStaleClaimIsFenced(t *testing.T) {
	t.Parallel()
	l := setup(t)
	ctx := context.Background()

	stale, err := l.Claim(ctx, acct, "w1", "", time.Millisecond, 0)
	if err != nil {
		t.Fatalf("Claim w1: %v", err)
	}
	time.Sleep(5 * time.Millisecond)
	// The holder left without releasing, so settle applies; settle is 0 here.
	fresh, err := l.Claim(ctx, acct, "w2", "", time.Minute, 0)
	if err != nil {
		t.Fatalf("Claim w2 after lease expiry: %v", err)
	}
	if fresh.Attempt != 2 {
		t.Errorf("Attempt = %d, want 2", fresh.Attempt)
	}
	if _, err := l.Extend(ctx, stale, time.Minute); !errors.Is(err, ledger.ErrClaimLost) {
		t.Errorf("Extend with stale revision: err = %v, want ErrClaimLost", err)
	}
	if _, err := l.MarkCreated(ctx, stale, "1"); !errors.Is(err, ledger.ErrClaimLost) {
		t.Errorf("MarkCreated with stale revision: err = %v, want ErrClaimLost", err)
	}
}

func TestInDoubtWaitsForSettle(t *testing.T) {
	t.Parallel()
	l := setup(t)
	ctx := context.Background()

	e, err := l.Claim(ctx, acct, "w1", "", time.Minute, time.Hour)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if _, err := l.MarkInDoubt(ctx, e); err != nil {
		t.Fatalf("MarkInDoubt: %v", err)
	}
	_, err = l.Claim(ctx, acct, "w2", "", time.Minute, time.Hour)
	var held *ledger.HeldError
	if !errors.As(err, &held) {
		t.Fatalf("Claim of an in-doubt entry before settle: err = %v, want *HeldError", err)
	}
	if time.Until(held.Until) < 59*time.Minute {
		t.Errorf("held until %v, want about an hour from now", held.Until)
	}
	got, err := l.Claim(ctx, acct, "w2", "", time.Minute, 0)
	if err != nil {
		t.Fatalf("Claim after settle: %v", err)
	}
	if !got.InDoubt {
		t.Error("InDoubt cleared by a new claim, want kept until a lookup resolves it")
	}
}

func TestMarkCreatedConflict(t *testing.T) {
	t.Parallel()
	l := setup(t)
	ctx := context.Background()

	e, err := l.Claim(ctx, acct, "w1", "", time.Minute, 0)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if _, err := l.MarkCreated(ctx, e, "0000100001"); err != nil {
		t.Fatalf("MarkCreated: %v", err)
	}
	if _, err := l.MarkCreated(ctx, e, "0000100001"); err != nil {
		t.Errorf("MarkCreated again with the same number: %v, want nil", err)
	}
	if _, err := l.MarkCreated(ctx, e, "0000100002"); !errors.Is(err, ledger.ErrConflictingCustomer) {
		t.Errorf("MarkCreated with another number: err = %v, want ErrConflictingCustomer", err)
	}
	if err := l.MarkWrittenBack(ctx, acct, "0000100002"); !errors.Is(err, ledger.ErrConflictingCustomer) {
		t.Errorf("MarkWrittenBack with another number: err = %v, want ErrConflictingCustomer", err)
	}
	if err := l.MarkWrittenBack(ctx, acct, "100001"); err != nil {
		t.Fatalf("MarkWrittenBack: %v", err)
	}
	got, _, _ := l.Get(ctx, acct)
	if got.State != ledger.WrittenBack {
		t.Errorf("State = %s, want %s", got.State, ledger.WrittenBack)
	}
	if err := l.MarkFailed(ctx, acct, "later failure"); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	got, _, _ = l.Get(ctx, acct)
	if got.State != ledger.WrittenBack || got.Reason != "later failure" {
		t.Errorf("after MarkFailed on a written-back entry: state %s reason %q, want state kept and reason set", got.State, got.Reason)
	}
}

func TestFailedBlocksClaimUntilReset(t *testing.T) {
	t.Parallel()
	l := setup(t)
	ctx := context.Background()

	e, err := l.Claim(ctx, acct, "w1", "", time.Minute, time.Hour)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if _, err := l.Release(ctx, e, "country cannot be mapped"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := l.MarkFailed(ctx, acct, "country cannot be mapped"); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	if _, err := l.Claim(ctx, acct, "w2", "", time.Minute, time.Hour); !errors.Is(err, ledger.ErrFailed) {
		t.Fatalf("Claim of a failed account: err = %v, want ErrFailed", err)
	}

	reset, err := l.Reset(ctx, acct, "retried by operator")
	if err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if reset.State != ledger.Claimed || reset.Owner != "" || reset.DeadLettered {
		t.Errorf("after Reset: state %s owner %q dead-lettered %v, want a released claim", reset.State, reset.Owner, reset.DeadLettered)
	}
	got, err := l.Claim(ctx, acct, "w2", "", time.Minute, time.Hour)
	if err != nil {
		t.Fatalf("Claim after Reset: %v, want the claim at once since nothing was in doubt", err)
	}
	if got.Attempt != 2 {
		t.Errorf("Attempt = %d, want 2", got.Attempt)
	}
}

func TestResetKeepsCreatedCustomer(t *testing.T) {
	t.Parallel()
	l := setup(t)
	ctx := context.Background()

	e, err := l.Claim(ctx, acct, "w1", "", time.Minute, 0)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if _, err := l.MarkCreated(ctx, e, "0000100001"); err != nil {
		t.Fatalf("MarkCreated: %v", err)
	}
	if err := l.MarkFailed(ctx, acct, "write-back rejected"); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	got, _, _ := l.Get(ctx, acct)
	if got.State != ledger.Created || !got.DeadLettered {
		t.Fatalf("after MarkFailed on a created entry: state %s dead-lettered %v, want CREATED and true", got.State, got.DeadLettered)
	}
	reset, err := l.Reset(ctx, acct, "retried by operator")
	if err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if reset.State != ledger.Created || reset.SAPCustomer != "0000100001" || reset.DeadLettered {
		t.Errorf("after Reset: state %s customer %q dead-lettered %v, want CREATED 0000100001 false", reset.State, reset.SAPCustomer, reset.DeadLettered)
	}
	if _, err := l.Reset(ctx, "001Hx00000ZZzZzIAL", "x"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Reset of an unknown account: err = %v, want ErrNotFound", err)
	}
}

func TestHistoryAndList(t *testing.T) {
	t.Parallel()
	l := setup(t)
	ctx := context.Background()
	const other = "001Hx00000ZZzZzIAL"

	e, err := l.Claim(ctx, acct, "w1", "", time.Minute, 0)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if _, err := l.MarkCreated(ctx, e, "100001"); err != nil {
		t.Fatalf("MarkCreated: %v", err)
	}
	if err := l.MarkWrittenBack(ctx, acct, "100001"); err != nil {
		t.Fatalf("MarkWrittenBack: %v", err)
	}
	if _, err := l.Claim(ctx, other, "w1", "", time.Minute, 0); err != nil {
		t.Fatalf("Claim %s: %v", other, err)
	}

	hist, err := l.History(ctx, acct)
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	var states []ledger.State
	for _, r := range hist {
		states = append(states, r.State)
		if r.At.IsZero() {
			t.Errorf("revision %d has no time", r.Revision)
		}
	}
	want := []ledger.State{ledger.Claimed, ledger.Created, ledger.WrittenBack}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("History states (-want +got):\n%s", diff)
	}
	if none, err := l.History(ctx, "001Hx00000QrStUIAV"); err != nil || none != nil {
		t.Errorf("History of an unknown account = %v, %v; want nil, nil", none, err)
	}

	all, err := l.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	got := map[string]ledger.State{}
	for _, e := range all {
		got[e.AccountID] = e.State
	}
	if diff := cmp.Diff(map[string]ledger.State{acct: ledger.WrittenBack, other: ledger.Claimed}, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestListEmptyBucket(t *testing.T) {
	t.Parallel()
	l := setup(t)
	all, err := l.List(context.Background())
	if err != nil || len(all) != 0 {
		t.Errorf("List of an empty bucket = %v, %v; want none and no error", all, err)
	}
}

func TestFreeAt(t *testing.T) {
	t.Parallel()
	lease := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name  string
		entry ledger.Entry
		want  time.Time
	}{
		{"released", ledger.Entry{LeaseUntil: lease}, lease},
		{"held by a worker", ledger.Entry{LeaseUntil: lease, Owner: "w1"}, lease.Add(time.Minute)},
		{"released in doubt", ledger.Entry{LeaseUntil: lease, InDoubt: true}, lease.Add(time.Minute)},
	}
	for _, tt := range tests {
		if got := tt.entry.FreeAt(time.Minute); !got.Equal(tt.want) {
			t.Errorf("%s: FreeAt(1m) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestResetLeavesLiveClaim(t *testing.T) {
	t.Parallel()
	l := setup(t)
	ctx := context.Background()

	held, err := l.Claim(ctx, acct, "w1", "", time.Minute, 0)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if _, err := l.Reset(ctx, acct, "operator retry"); !errors.Is(err, ledger.ErrHeld) {
		t.Fatalf("Reset during a live claim: err = %v, want ErrHeld", err)
	}
	if _, err := l.MarkCreated(ctx, held, "0000100001"); err != nil {
		t.Errorf("MarkCreated after the refused Reset: %v, want the claim intact", err)
	}
}
