package writeback

import (
	"fmt"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/msg"
)

// syncTimeLayout is the REST form of a DateTime value written to
// Salesforce.
const syncTimeLayout = "2006-01-02T15:04:05.000Z"

// fieldsFor returns the Account fields to write for a job and the outcome
// to record: the SAP number or the failure reason, and the sync status
// fields that tell a sales rep what happened.
func (s *Service) fieldsFor(job msg.WritebackJob) (map[string]any, string, error) {
	f := s.cfg.Fields
	var fields map[string]any
	var outcome string
	switch job.Status {
	case account.StatusSynced:
		if job.SAPCustomer == "" {
			return nil, "", fmt.Errorf("write-back job for %s has status %s but no SAP customer number", job.AccountID, job.Status)
		}
		outcome = msg.OutcomeSynced
		if job.Reason != "" {
			outcome = msg.OutcomeAdopted
		}
		fields = map[string]any{f.SAPID: job.SAPCustomer, f.SyncStatus: account.StatusSynced, f.SyncError: nil}
	case account.StatusFailed:
		outcome = msg.OutcomeFailed
		fields = map[string]any{f.SyncStatus: account.StatusFailed, f.SyncError: truncateRunes(job.Reason, s.cfg.ReasonLength)}
	default:
		return nil, "", fmt.Errorf("write-back job for %s has unknown status %q: want %s or %s", job.AccountID, job.Status, account.StatusSynced, account.StatusFailed)
	}

	if account.Enabled(f.SyncAttempts) {
		fields[f.SyncAttempts] = max(job.Attempts, 1)
	}
	if account.Enabled(f.LastSync) {
		fields[f.LastSync] = s.now().UTC().Format(syncTimeLayout)
	}
	if account.Enabled(f.CorrelationID) && job.CorrelationID != "" {
		fields[f.CorrelationID] = job.CorrelationID
	}
	return fields, outcome, nil
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
