package listener_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfsim"
	"github.com/sfsap/sfsap/services/listener"
	"github.com/sfsap/sfsap/test/natstest"
)

// sweepRecorder is a Sweeper that records its calls.
type sweepRecorder struct {
	calls chan time.Time
}

func (s *sweepRecorder) Sweep(_ context.Context, since time.Time, _ string) (int, error) {
	s.calls <- since
	return 0, nil
}

func TestListenerRejectedPositionSweepsOnce(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.Options{}, sfsim.CometDOptions{ConnectTimeout: time.Second})
	nb := natstest.Start(t, bus.Topology{})
	store := org.sim.Store()

	// The stored position names an event that has since left the
	// retention window, as after more than 72 hours of downtime.
	id := org.create(t, map[string]any{"Name": "Larchfield Tools Ltd", "Type": "Prospect"})
	stale := store.LatestReplayID()
	store.Purge(time.Now().Add(time.Hour))
	savedAt := time.Now().Add(-80 * time.Hour).UTC()
	cp, _ := json.Marshal(map[string]any{"position": []byte(strconv.FormatInt(stale, 10)), "saved_at": savedAt})
	if _, err := nb.KV(t, bus.BucketCheckpoint).Put(context.Background(), "cometd.AccountChangeEvent", cp); err != nil {
		t.Fatalf("storing checkpoint: %v", err)
	}

	log, logs := captureLogs(t)
	sweeper := &sweepRecorder{calls: make(chan time.Time, 10)}
	cfg := listener.Config{RetryDelay: 50 * time.Millisecond, SweepMargin: time.Hour}
	runListener(t, nb.JS, cfg, org.cometdSource(t, -1, log), sweeper, log)

	select {
	case since := <-sweeper.calls:
		if want := savedAt.Add(-time.Hour); !since.Equal(want) {
			t.Errorf("sweep since %s, want the checkpoint's time less the margin, %s", since, want)
		}
	case <-time.After(waitLimit):
		t.Fatalf("no sweep after the rejected position")
	}

	// The listener goes on at the preset: a new change arrives.
	update := func() { _ = store.Update(id, map[string]any{"Type": "Customer"}, sfsim.WriteOptions{}) }
	eventually(t, "a new change after resubscribing", func() bool {
		if len(cdcChanges(t, nb.JS)) == 0 {
			update()
			time.Sleep(200 * time.Millisecond)
		}
		return len(cdcChanges(t, nb.JS)) > 0
	})
	time.Sleep(time.Second)
	if n := logs.count(slog.LevelError, "rejected the stored replay position"); n != 1 {
		t.Errorf("rejection errors logged = %d, want 1", n)
	}
	if n := len(sweeper.calls); n != 0 {
		t.Errorf("further sweeps = %d, want 0: a rejection sweeps once", n)
	}
	if n := logs.count(slog.LevelInfo, "cometd: subscribed"); n > 2 {
		t.Errorf("subscriptions = %d, want at most 2: no retry loop after the rejection", n)
	}
}

func TestListenerRenewsTokenMidStream(t *testing.T) {
	t.Parallel()
	org := startOrg(t, sfsim.Options{}, sfsim.CometDOptions{ConnectTimeout: time.Second})
	nb := natstest.Start(t, bus.Topology{})
	runListener(t, nb.JS, listener.Config{}, org.cometdSource(t, -2, quietLogger(t)), nil, quietLogger(t))

	var ids []string
	ids = append(ids, org.create(t, map[string]any{"Name": "Before Expiry"}))
	eventually(t, "the first change", func() bool { return len(cdcChanges(t, nb.JS)) == 1 })

	org.sim.ExpireTokens()
	for i := range 3 {
		ids = append(ids, org.create(t, map[string]any{"Name": "After Expiry " + strconv.Itoa(i)}))
	}
	eventually(t, "every change", func() bool { return len(cdcChanges(t, nb.JS)) >= 4 })
	time.Sleep(500 * time.Millisecond)

	var got []string
	for _, c := range cdcChanges(t, nb.JS) {
		if c.ChangeType == msg.ChangeCreate {
			got = append(got, c.AccountID)
		}
	}
	slices.Sort(got)
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("published creates = %v, want each of %v once", got, ids)
	}
	if n := org.sim.Calls()[sfsim.CallToken]; n != 2 {
		t.Errorf("token requests = %d, want 2: one login and one renewal", n)
	}
}
