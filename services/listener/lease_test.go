package listener_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/listener"
	"github.com/sfsap/sfsap/test/natstest"
)

// countingSource counts the subscriptions of a source and the changes its
// listener published.
type countingSource struct {
	inner      listener.Source
	subscribed atomic.Int64
	published  atomic.Int64
}

func (c *countingSource) Subscribe(ctx context.Context, from []byte, handle func(context.Context, listener.Event) error) error {
	c.subscribed.Add(1)
	return c.inner.Subscribe(ctx, from, func(ctx context.Context, ev listener.Event) error {
		err := handle(ctx, ev)
		if err == nil {
			c.published.Add(int64(len(ev.Changes)))
		}
		return err
	})
}

func TestListenerLeaseOneActive(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.Options{}, sfsim.CometDOptions{ConnectTimeout: time.Second})
	nb := natstest.Start(t, bus.Topology{})
	cfg := listener.Config{Checkpoint: "cometd.AccountChangeEvent", LeaseTTL: time.Second, RetryDelay: 50 * time.Millisecond}

	srcA := &countingSource{inner: org.cometdSource(t, -2, quietLogger(t))}
	srcB := &countingSource{inner: org.cometdSource(t, -2, quietLogger(t))}
	cfgA, cfgB := cfg, cfg
	cfgA.Instance, cfgB.Instance = "listener-a", "listener-b"
	a := runListener(t, nb.JS, cfgA, srcA, nil, quietLogger(t))
	b := runListener(t, nb.JS, cfgB, srcB, nil, quietLogger(t))

	for range 3 {
		org.create(t, map[string]any{"Name": "Before Takeover"})
	}
	eventually(t, "three published changes", func() bool { return len(cdcChanges(t, nb.JS)) == 3 })
	// Give the standby several lease periods to make a wrong move.
	time.Sleep(3 * cfg.LeaseTTL)

	active, standby, activeRun := srcA, srcB, a
	if srcB.published.Load() > 0 {
		active, standby, activeRun = srcB, srcA, b
	}
	if active.published.Load() != 3 {
		t.Fatalf("active listener published %d changes, want 3", active.published.Load())
	}
	if n := standby.subscribed.Load(); n != 0 {
		t.Fatalf("standby subscribed %d times, want 0 while the other holds the lease", n)
	}

	activeRun.stop(t)
	before := active.published.Load()
	for range 2 {
		org.create(t, map[string]any{"Name": "After Takeover"})
	}
	eventually(t, "the standby to publish", func() bool { return standby.published.Load() >= 2 })
	if got := active.published.Load(); got != before {
		t.Errorf("stopped listener published %d more changes, want 0", got-before)
	}
	if n := len(cdcChanges(t, nb.JS)); n != 5 {
		t.Errorf("CDC stream holds %d changes, want 5: the standby resumes from the stored position", n)
	}
}
