package writeback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// Service is the writeback service.
type Service struct {
	cfg    Config
	js     jetstream.JetStream
	sf     Salesforce
	class  ErrorClass
	ledger *ledger.Ledger
	log    *slog.Logger
	now    func() time.Time
}

// New returns a writeback service. cfg is completed with defaults and validated.
func New(ctx context.Context, cfg Config, js jetstream.JetStream, sf Salesforce, class ErrorClass, log *slog.Logger) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, bus.BucketLedger)
	if err != nil {
		return nil, fmt.Errorf("writeback: opening bucket %s: %w", bus.BucketLedger, err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{cfg: cfg, js: js, sf: sf, class: class, ledger: ledger.New(kv), log: log, now: time.Now}, nil
}

// Run consumes write-back jobs until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	cons, err := s.js.Consumer(ctx, bus.StreamWriteback, bus.ConsumerWriteback)
	if err != nil {
		return fmt.Errorf("writeback: opening consumer %s: %w", bus.ConsumerWriteback, err)
	}
	s.log.Info("writeback: started")
	err = bus.Run(ctx, cons, bus.RunOptions{Name: "writeback", Concurrency: s.cfg.Concurrency, Backoff: s.cfg.Backoff, Logger: s.log}, s.handle)
	s.log.Info("writeback: stopped")
	return err
}

func (s *Service) handle(ctx context.Context, m jetstream.Msg) error {
	var job msg.WritebackJob
	if err := json.Unmarshal(m.Data(), &job); err != nil || !sfid.Valid(job.AccountID) {
		if err == nil {
			err = fmt.Errorf("write-back job on %s has invalid account id %q", m.Subject(), job.AccountID)
		}
		return s.deadLetter(ctx, m, job, "", fmt.Errorf("decoding write-back job: %w", err))
	}
	delivery := uint64(1)
	if meta, err := m.Metadata(); err == nil {
		delivery = meta.NumDelivered
	}
	log := s.log.With(logkey.AccountID, job.AccountID, logkey.CorrelationID, job.CorrelationID, logkey.Attempt, delivery)

	fields, outcome, err := s.fieldsFor(job)
	if err != nil {
		return s.deadLetter(ctx, m, job, "", err)
	}
	err = s.sf.UpdateAccount(ctx, job.AccountID, fields)
	if err != nil {
		code := s.class.Code(err)
		if s.class.Permanent(err) || delivery >= uint64(s.cfg.MaxDeliver) {
			log.Error("writeback: Salesforce rejected the update for good", logkey.Error, err, logkey.Code, code, logkey.SAPCustomer, job.SAPCustomer)
			return s.deadLetter(ctx, m, job, code, err)
		}
		log.Warn("writeback: Salesforce update failed; will retry", logkey.Error, err, logkey.Code, code)
		return err
	}

	wctx := context.WithoutCancel(ctx)
	if job.Status == account.StatusSynced {
		if err := s.ledger.MarkWrittenBack(wctx, job.AccountID, job.SAPCustomer); err != nil {
			if errors.Is(err, ledger.ErrConflictingCustomer) {
				log.Error("writeback: ALARM: ledger holds a different SAP customer", logkey.Error, err)
				return s.deadLetter(ctx, m, job, "CONFLICTING_CUSTOMER", err)
			}
			return err
		}
	}
	if err := s.publishResult(wctx, job, outcome, job.Reason); err != nil {
		return err
	}
	log.Info("writeback: Account updated", "status", job.Status, logkey.SAPCustomer, job.SAPCustomer)
	return nil
}

// fieldsFor returns the fields to patch and the outcome to record.
func (s *Service) fieldsFor(job msg.WritebackJob) (map[string]any, string, error) {
	f := s.cfg.Fields
	switch job.Status {
	case account.StatusSynced:
		if job.SAPCustomer == "" {
			return nil, "", fmt.Errorf("write-back job for %s has status %s but no SAP customer number", job.AccountID, job.Status)
		}
		outcome := msg.OutcomeSynced
		if job.Reason != "" {
			outcome = msg.OutcomeAdopted
		}
		return map[string]any{f.SAPID: job.SAPCustomer, f.SyncStatus: account.StatusSynced, f.SyncError: nil}, outcome, nil
	case account.StatusFailed:
		return map[string]any{f.SyncStatus: account.StatusFailed, f.SyncError: truncateRunes(job.Reason, s.cfg.ReasonLength)}, msg.OutcomeFailed, nil
	}
	return nil, "", fmt.Errorf("write-back job for %s has unknown status %q: want %s or %s", job.AccountID, job.Status, account.StatusSynced, account.StatusFailed)
}

func (s *Service) publishResult(ctx context.Context, job msg.WritebackJob, outcome, reason string) error {
	res := msg.Result{
		Schema: msg.SchemaResult, AccountID: job.AccountID, Outcome: outcome,
		SAPCustomer: job.SAPCustomer, Reason: reason, Stage: bus.StageWriteback,
		CorrelationID: job.CorrelationID, CommittedAt: job.CommittedAt, At: s.now().UTC(),
	}
	hdr := nats.Header{}
	hdr.Set(bus.HeaderCorrelation, job.CorrelationID)
	_, err := bus.Publish(ctx, s.js, bus.ResultSubject(outcome, job.AccountID), res, "", hdr)
	return err
}

// deadLetter parks the job with its reason, keeping the SAP number so it
// can be written by hand, and records the outcome in the audit trail.
func (s *Service) deadLetter(ctx context.Context, m jetstream.Msg, job msg.WritebackJob, code string, cause error) error {
	wctx := context.WithoutCancel(ctx)
	id := job.AccountID
	if !sfid.Valid(id) {
		id = "unknown"
	}
	reason := cause.Error()
	if job.SAPCustomer != "" {
		reason = fmt.Sprintf("SAP customer %s exists but could not be written to Salesforce: %s", job.SAPCustomer, reason)
	}
	if err := bus.DeadLetter(wctx, s.js, m, msg.DeadLetter{
		AccountID: id, Stage: bus.StageWriteback, Reason: reason, Code: code,
		SAPCustomer: job.SAPCustomer, CorrelationID: job.CorrelationID,
	}); err != nil {
		return err
	}
	if id != "unknown" {
		if err := s.ledger.MarkFailed(wctx, id, reason); err != nil {
			return err
		}
		outcome := msg.OutcomeWritebackFailed
		if job.Status == account.StatusFailed {
			outcome = msg.OutcomeFailed
		}
		if err := s.publishResult(wctx, job, outcome, reason); err != nil {
			return err
		}
	}
	return bus.Done(cause)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
