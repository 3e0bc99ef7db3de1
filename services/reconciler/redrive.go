package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/msg"
)

// redriveClaims queues a create job for each expired claim that has no
// job pending, with the Account's current data from Salesforce, and
// returns the number queued. The SAP worker's lookup before every create
// adopts a customer that the vanished holder may have created.
func (s *Service) redriveClaims(ctx context.Context, claims []ledger.Entry) (int, error) {
	var todo []ledger.Entry
	for _, e := range claims {
		pending, err := s.pending(ctx, bus.StreamSAPJobs, bus.CreateJobSubject(e.AccountID))
		if err != nil {
			return 0, err
		}
		if !pending {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	if s.accounts == nil {
		for _, e := range todo {
			s.log.Error("reconciler: claim expired with no job pending, and no Salesforce client to rebuild the job; run a sweep",
				logkey.AccountID, e.AccountID, "owner", e.Owner, "lease_until", e.LeaseUntil)
		}
		return 0, nil
	}

	queued := 0
	for start := 0; start < len(todo); start += s.cfg.BatchSize {
		batch := todo[start:min(start+s.cfg.BatchSize, len(todo))]
		ids := make([]string, len(batch))
		for i, e := range batch {
			ids[i] = e.AccountID
		}
		accts, err := s.accounts.GetAccounts(ctx, ids)
		if err != nil {
			return queued, fmt.Errorf("reading %d Accounts of expired claims: %w", len(ids), err)
		}
		byID := map[string]account.Account{}
		for _, a := range accts {
			byID[a.ID] = a
		}
		for _, e := range batch {
			a, ok := byID[e.AccountID]
			if !ok {
				s.log.Warn("reconciler: claim expired but the Account is deleted or unreadable; leaving it", logkey.AccountID, e.AccountID)
				continue
			}
			if err := s.queueCreate(ctx, e, a); err != nil {
				return queued, err
			}
			queued++
		}
	}
	return queued, nil
}

func (s *Service) queueCreate(ctx context.Context, e ledger.Entry, a account.Account) error {
	job := msg.CreateJob{
		Schema:        msg.SchemaCreateJob,
		AccountID:     e.AccountID,
		Account:       a,
		Reason:        msg.ReasonRetry,
		CorrelationID: orNew(e.CorrelationID, e.AccountID, e.Revision),
		RequestedAt:   s.now().UTC(),
	}
	hdr := nats.Header{}
	hdr.Set(bus.HeaderCorrelation, job.CorrelationID)
	msgID := fmt.Sprintf("redrive.create.%s.%d", e.AccountID, e.Revision)
	_, err := bus.Publish(ctx, s.js, bus.CreateJobSubject(e.AccountID), job, msgID, hdr)
	if errors.Is(err, bus.ErrAlreadyPending) {
		return nil
	}
	if err != nil {
		return err
	}
	s.log.Warn("reconciler: claim expired with no job pending; queued a new create job",
		logkey.AccountID, e.AccountID, "owner", e.Owner, "lease_until", e.LeaseUntil, "in_doubt", e.InDoubt, logkey.Attempt, e.Attempt)
	return nil
}

// redriveWritebacks queues the write-back of each created customer that
// has none pending and returns the number queued.
func (s *Service) redriveWritebacks(ctx context.Context, entries []ledger.Entry) (int, error) {
	queued := 0
	for _, e := range entries {
		pending, err := s.pending(ctx, bus.StreamWriteback, bus.WritebackSubject(e.AccountID))
		if err != nil {
			return queued, err
		}
		if pending {
			continue
		}
		wb := msg.WritebackJob{
			Schema:        msg.SchemaWritebackJob,
			AccountID:     e.AccountID,
			Status:        account.StatusSynced,
			SAPCustomer:   e.SAPCustomer,
			Attempts:      e.Attempt,
			CorrelationID: orNew(e.CorrelationID, e.AccountID, e.Revision),
			RequestedAt:   s.now().UTC(),
		}
		hdr := nats.Header{}
		hdr.Set(bus.HeaderCorrelation, wb.CorrelationID)
		msgID := fmt.Sprintf("redrive.wb.%s.%d", e.AccountID, e.Revision)
		if _, err := bus.Publish(ctx, s.js, bus.WritebackSubject(e.AccountID), wb, msgID, hdr); err != nil {
			return queued, err
		}
		s.log.Warn("reconciler: customer created but not written back; queued its write-back again",
			logkey.AccountID, e.AccountID, logkey.SAPCustomer, e.SAPCustomer, "created_at", e.UpdatedAt)
		queued++
	}
	return queued, nil
}

// pending reports whether stream holds a message on subject.
func (s *Service) pending(ctx context.Context, stream, subject string) (bool, error) {
	st, err := s.js.Stream(ctx, stream)
	if err != nil {
		return false, fmt.Errorf("opening stream %s: %w", stream, err)
	}
	_, err = st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking for a pending message on %s: %w", subject, err)
	}
	return true, nil
}

// orNew returns id, or for an entry without a correlation id one made of
// the account and revision, which the message schemas require.
func orNew(id, accountID string, rev uint64) string {
	if id != "" {
		return id
	}
	return fmt.Sprintf("reconciler-%s-%d", accountID, rev)
}
