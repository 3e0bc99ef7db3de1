package reconciler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/msg"
)

// sweepKey is the key of the last sweep's end in the checkpoint bucket:
// the modification time up to which it looked.
const sweepKey = "reconciler.sweep"

// Sweep queues create jobs, through the sweeper, for customer Accounts
// without an SAP number changed between the previous sweep's end, less
// SweepMargin, and SweepDelay ago. Without a recorded sweep it looks back
// SweepLookback. It records this sweep's end once the sweep succeeded and
// returns the number of jobs queued. A sweep covers events lost to gaps,
// an expired replay position and listener downtime longer than Salesforce
// keeps events.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	if s.sweeper == nil {
		return 0, errors.New("reconciler: no sweeper configured: the reconciler needs Salesforce access to sweep")
	}
	until := s.now().UTC().Add(-s.cfg.SweepDelay)
	since := until.Add(-s.cfg.SweepLookback)
	e, err := s.ckpt.Get(ctx, sweepKey)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return 0, fmt.Errorf("reading the last sweep time: %w", err)
	default:
		last, perr := time.Parse(time.RFC3339Nano, string(e.Value()))
		if perr != nil {
			s.log.Warn("reconciler: stored sweep time is invalid; sweeping the full lookback", "value", string(e.Value()), "error", perr)
		} else {
			since = last.Add(-s.cfg.SweepMargin)
		}
	}

	n, err := s.sweeper.SweepBetween(ctx, since, until, msg.ReasonSweep)
	if err != nil {
		return n, err
	}
	if _, err := s.ckpt.PutString(ctx, sweepKey, until.Format(time.RFC3339Nano)); err != nil {
		return n, fmt.Errorf("storing the sweep time: %w", err)
	}
	if n > 0 {
		s.log.Info("reconciler: sweep queued jobs for customers without an SAP number", "since", since, "until", until, "jobs", n)
	}
	return n, nil
}
