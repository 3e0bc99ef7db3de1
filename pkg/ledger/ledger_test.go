package ledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

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
