package listener

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/test/natstest"
)

func TestLeaseExpiresWithoutRenewal(t *testing.T) {
	t.Parallel()
	nb := natstest.Start(t, bus.Topology{})
	ctx := context.Background()
	const ttl = time.Second
	kv, err := openLeases(ctx, nb.JS, ttl)
	if err != nil {
		t.Fatalf("openLeases: %v", err)
	}
	holder := &lease{kv: kv, key: "cometd.AccountChangeEvent", owner: "a", ttl: ttl}
	standby := &lease{kv: kv, key: "cometd.AccountChangeEvent", owner: "b", ttl: ttl}

	if ok, err := holder.acquire(ctx); !ok || err != nil {
		t.Fatalf("holder.acquire() = %v, %v, want true, nil", ok, err)
	}
	if !holder.valid() {
		t.Fatalf("holder.valid() = false right after acquiring")
	}
	if ok, err := standby.acquire(ctx); ok || err != nil {
		t.Fatalf("standby.acquire() while held = %v, %v, want false, nil", ok, err)
	}
	if err := holder.renew(ctx); err != nil {
		t.Fatalf("holder.renew() = %v, want nil", err)
	}

	// The holder stops renewing, as a crashed process would.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := standby.acquire(ctx)
		if err != nil {
			t.Fatalf("standby.acquire() = %v", err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("standby never acquired the lease after the holder stopped renewing")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if holder.valid() {
		t.Errorf("holder.valid() = true after its lease ran out")
	}
	if err := holder.renew(ctx); !errors.Is(err, errLeaseLost) {
		t.Errorf("holder.renew() after takeover = %v, want errLeaseLost", err)
	}
	if err := holder.release(ctx); err != nil {
		t.Errorf("holder.release() after takeover = %v, want nil", err)
	}
	if !standby.valid() {
		t.Errorf("standby.valid() = false, want true: a stale release must not delete the new holder's key")
	}
	if err := standby.renew(ctx); err != nil {
		t.Errorf("standby.renew() = %v, want nil", err)
	}
}

func TestLeaseReleaseHandsOver(t *testing.T) {
	t.Parallel()
	nb := natstest.Start(t, bus.Topology{})
	ctx := context.Background()
	kv, err := openLeases(ctx, nb.JS, time.Hour)
	if err != nil {
		t.Fatalf("openLeases: %v", err)
	}
	holder := &lease{kv: kv, key: "poll.Account", owner: "a", ttl: time.Hour}
	standby := &lease{kv: kv, key: "poll.Account", owner: "b", ttl: time.Hour}
	if ok, err := holder.acquire(ctx); !ok || err != nil {
		t.Fatalf("holder.acquire() = %v, %v, want true, nil", ok, err)
	}
	if err := holder.release(ctx); err != nil {
		t.Fatalf("holder.release() = %v", err)
	}
	if ok, err := standby.acquire(ctx); !ok || err != nil {
		t.Fatalf("standby.acquire() after release = %v, %v, want true, nil", ok, err)
	}
}
