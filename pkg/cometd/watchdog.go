package cometd

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// watchdog logs an error when a subscription has been down for longer
// than its window: once per outage, however many handshakes fail in it.
type watchdog struct {
	window  time.Duration
	log     *slog.Logger
	changed func(stalled bool)

	mu        sync.Mutex
	up        bool
	downSince time.Time
	stalled   bool
}

func newWatchdog(window time.Duration, log *slog.Logger, changed func(bool)) *watchdog {
	return &watchdog{window: window, log: log, changed: changed, downSince: time.Now()}
}

// start checks the subscription every quarter window until ctx ends or
// the returned function is called.
func (w *watchdog) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(max(w.window/4, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-t.C:
				w.check()
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

func (w *watchdog) check() {
	w.mu.Lock()
	if w.up || w.stalled || time.Since(w.downSince) < w.window {
		w.mu.Unlock()
		return
	}
	w.stalled = true
	since := w.downSince
	w.mu.Unlock()

	w.log.Error("cometd: no successful subscription within the watchdog window; no events are received",
		"down_since", since, "window", w.window)
	if w.changed != nil {
		w.changed(true)
	}
}

// subscribed records a successful subscription.
func (w *watchdog) subscribed() {
	w.mu.Lock()
	wasStalled, since := w.stalled, w.downSince
	w.up, w.stalled = true, false
	w.mu.Unlock()

	if wasStalled {
		w.log.Info("cometd: subscription restored after a stall", "down_for", time.Since(since).Round(time.Millisecond))
		if w.changed != nil {
			w.changed(false)
		}
	}
}

// lost records that the session ended; the subscription is down until
// the next successful subscribe.
func (w *watchdog) lost() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.up {
		w.up = false
		w.downSince = time.Now()
	}
}
