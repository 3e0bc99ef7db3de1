package filter

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/logkey"
)

// Sweep queries Salesforce for customer Accounts without an SAP number
// modified since the given time and queues a create job for each. It
// skips an account whose last-seen Type is not a prospect value: either
// the filter has handled its change to a customer value already, or the
// change started from a value that makes it no conversion. Sweep covers
// events lost to gaps, overflow, an expired replay position or downtime,
// and returns the number of jobs queued. The SAP worker's ledger makes a
// job for an account that is already in progress harmless.
func (s *Service) Sweep(ctx context.Context, since time.Time, reason string) (int, error) {
	return s.SweepBetween(ctx, since, time.Time{}, reason)
}

// SweepBetween is Sweep for Accounts modified before until, or up to now
// when until is zero. A periodic sweep leaves out the newest changes,
// which are still on their way through the listener and the filter.
func (s *Service) SweepBetween(ctx context.Context, since, until time.Time, reason string) (int, error) {
	soql := s.sweepQuery(since, until)
	ids, err := s.sf.QueryIDs(ctx, soql)
	if err != nil {
		return 0, fmt.Errorf("sweeping for customers without an SAP number: %w", err)
	}
	queued := 0
	for start := 0; start < len(ids); start += s.cfg.BatchSize {
		end := min(start+s.cfg.BatchSize, len(ids))
		accts, err := s.sf.GetAccounts(ctx, ids[start:end])
		if err != nil {
			return queued, fmt.Errorf("sweeping: reading accounts: %w", err)
		}
		for _, a := range accts {
			if a.SAPID != "" {
				continue
			}
			// NOTE: a job the filter queued but JetStream lost before any
			// worker claimed it is not queued again here.
			prev, known, err := s.lastType(ctx, a.ID)
			if err != nil {
				return queued, err
			}
			if known && !slices.Contains(s.cfg.ProspectTypes, prev) {
				continue
			}
			if err := s.enqueue(ctx, a, reason, time.Time{}); err != nil {
				return queued, err
			}
			queued++
		}
	}
	s.log.Info("filter: sweep done", "since", since, "until", until, "found", len(ids), "queued", queued, logkey.Code, reason)
	return queued, nil
}

func (s *Service) sweepQuery(since, until time.Time) string {
	quoted := make([]string, len(s.cfg.CustomerTypes))
	for i, t := range s.cfg.CustomerTypes {
		quoted[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), "'", `\'`) + "'"
	}
	q := fmt.Sprintf("SELECT Id FROM Account WHERE Type IN (%s) AND %s = null", strings.Join(quoted, ", "), s.cfg.Fields.SAPID)
	if !since.IsZero() {
		q += " AND SystemModstamp >= " + since.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if !until.IsZero() {
		q += " AND SystemModstamp < " + until.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return q + " ORDER BY SystemModstamp, Id"
}
