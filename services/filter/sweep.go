package filter

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/logkey"
)

// Sweep queries Salesforce for customer Accounts without an SAP number
// modified since the given time and queues a create job for each. It
// covers events lost to gaps, overflow, an expired replay position or
// downtime, and returns the number of jobs queued. The SAP worker's ledger
// makes a job for an account that is already in progress harmless.
func (s *Service) Sweep(ctx context.Context, since time.Time, reason string) (int, error) {
	soql := s.sweepQuery(since)
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
			if err := s.enqueue(ctx, a, reason, time.Time{}); err != nil {
				return queued, err
			}
			queued++
		}
	}
	s.log.Info("filter: sweep done", "since", since, "found", len(ids), "queued", queued, logkey.Code, reason)
	return queued, nil
}

func (s *Service) sweepQuery(since time.Time) string {
	quoted := make([]string, len(s.cfg.CustomerTypes))
	for i, t := range s.cfg.CustomerTypes {
		quoted[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(t, `\`, `\\`), "'", `\'`) + "'"
	}
	q := fmt.Sprintf("SELECT Id FROM Account WHERE Type IN (%s) AND %s = null", strings.Join(quoted, ", "), s.cfg.Fields.SAPID)
	if !since.IsZero() {
		q += " AND SystemModstamp >= " + since.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return q + " ORDER BY SystemModstamp, Id"
}
