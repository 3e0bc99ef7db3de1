package writeback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sap"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/tracing"
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
	// gate is closed while Salesforce reports the API limit exceeded.
	gate sfclient.PauseGate
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

// Run consumes write-back jobs until ctx ends. Jobs that are pending
// together are written in one sObject collections request.
func (s *Service) Run(ctx context.Context) error {
	cons, err := s.js.Consumer(ctx, bus.StreamWriteback, bus.ConsumerWriteback)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped before the service began; nothing was in flight.
			return nil
		}
		return fmt.Errorf("writeback: opening consumer %s: %w", bus.ConsumerWriteback, err)
	}
	s.log.Info("writeback: started", "batch_size", s.cfg.BatchSize)
	err = bus.RunBatches(ctx, cons, s.runOptions(), s.cfg.BatchSize, func(hctx context.Context, ms []jetstream.Msg) {
		s.handleBatch(hctx, ctx, ms)
	})
	s.log.Info("writeback: stopped")
	return err
}

func (s *Service) runOptions() bus.RunOptions {
	return bus.RunOptions{Name: "writeback", Concurrency: s.cfg.Concurrency, Backoff: s.cfg.retryDelay, Logger: s.log}
}

// job is one write-back job of a batch.
type job struct {
	m        jetstream.Msg
	wb       msg.WritebackJob
	delivery uint64
	log      *slog.Logger
	fields   map[string]any
	outcome  string
}

// handleBatch writes the jobs of one batch and settles each message. ctx
// is the handlers' context, which outlives stop by a grace period; stop
// ends when the service is asked to stop.
func (s *Service) handleBatch(ctx, stop context.Context, ms []jetstream.Msg) {
	var jobs []*job
	seen := map[string]bool{}
	for _, m := range ms {
		j, err := s.prepare(m)
		if err != nil {
			s.settle(ctx, m, s.deadLetter(ctx, m, j.wb, "", err))
			continue
		}
		// One record per Account and request: a later job for the same
		// Account waits for the next batch, so outcomes apply in order.
		if seen[j.wb.AccountID] {
			s.settle(ctx, m, bus.Retry(errors.New("writeback: an earlier job for the Account is in this batch"), 100*time.Millisecond))
			continue
		}
		if s.deferred(ctx, j) {
			continue
		}
		seen[j.wb.AccountID] = true
		jobs = append(jobs, j)
	}
	if len(jobs) == 0 {
		return
	}

	for {
		if !s.waitOpen(ctx, stop, jobs) {
			return
		}
		kept, err := s.dropConflicts(ctx, jobs)
		if sfclient.IsLimitError(err) {
			s.pause(err, len(jobs))
			continue
		}
		if err != nil {
			s.log.Warn("writeback: reading the Accounts' SAP numbers failed; will retry", "jobs", len(jobs), logkey.Error, err)
			for _, j := range jobs {
				s.settle(ctx, j.m, err)
			}
			return
		}
		if jobs = kept; len(jobs) == 0 {
			return
		}
		updates := make([]sfclient.Update, len(jobs))
		for i, j := range jobs {
			updates[i] = sfclient.Update{ID: j.wb.AccountID, Fields: j.fields}
		}
		errs, err := s.sf.UpdateAccounts(ctx, updates)
		if err == nil {
			err = limitError(errs)
		}
		if sfclient.IsLimitError(err) {
			s.pause(err, len(jobs))
			continue
		}
		for i, j := range jobs {
			recErr := err
			if recErr == nil {
				recErr = errs[i]
			}
			s.settle(ctx, j.m, s.finish(ctx, j, recErr))
		}
		return
	}
}

// prepare decodes a message into a job with the fields to write.
func (s *Service) prepare(m jetstream.Msg) (*job, error) {
	j := &job{m: m, delivery: 1}
	if meta, err := m.Metadata(); err == nil {
		j.delivery = meta.NumDelivered
	}
	if err := json.Unmarshal(m.Data(), &j.wb); err != nil {
		return j, fmt.Errorf("decoding write-back job on %s: %w", m.Subject(), err)
	}
	if !sfid.Valid(j.wb.AccountID) {
		return j, fmt.Errorf("write-back job on %s has invalid account id %q", m.Subject(), j.wb.AccountID)
	}
	j.log = s.log.With(logkey.AccountID, j.wb.AccountID, logkey.CorrelationID, j.wb.CorrelationID, logkey.Attempt, j.delivery)
	fields, outcome, err := s.fieldsFor(j.wb)
	if err != nil {
		return j, err
	}
	j.fields, j.outcome = fields, outcome
	return j, nil
}

// deferred reports whether the job waits because the org's API usage is
// above DeferAbove. Only jobs without an SAP number wait, and never on
// their last two deliveries, so a deferral cannot use up the job.
func (s *Service) deferred(ctx context.Context, j *job) bool {
	if j.wb.Status == account.StatusSynced || j.delivery+1 >= uint64(s.cfg.MaxDeliver) {
		return false
	}
	usage := s.sf.Usage()
	if usage.Fraction() < s.cfg.DeferAbove {
		return false
	}
	metrics.SalesforcePaused("writeback", metrics.PauseNearLimit)
	j.log.Info("writeback: API usage near the daily limit; status update deferred",
		"api_used", usage.Used, "api_limit", usage.Limit, "retry_in", s.cfg.DeferDelay)
	s.settle(ctx, j.m, bus.Retry(fmt.Errorf("writeback: API usage %d of %d is above the deferral share %g", usage.Used, usage.Limit, s.cfg.DeferAbove), s.cfg.DeferDelay))
	return true
}

// limitError returns the first REQUEST_LIMIT_EXCEEDED among per-record
// errors, or nil.
func limitError(errs []error) error {
	for _, err := range errs {
		if sfclient.IsLimitError(err) {
			return err
		}
	}
	return nil
}

// pause closes the gate after REQUEST_LIMIT_EXCEEDED.
func (s *Service) pause(cause error, jobs int) {
	s.gate.Pause(s.cfg.LimitPause)
	metrics.SalesforcePaused("writeback", metrics.PauseLimitExceeded)
	s.log.Warn("writeback: Salesforce API request limit exceeded; pausing write-backs",
		"pause", s.cfg.LimitPause, "jobs_held", jobs, logkey.Error, cause)
}

// waitOpen holds the jobs in progress while the gate is closed. It reports
// false when the service stops first. The jobs are then naked with the
// rest of the pause as delay, so none is lost or dead-lettered.
func (s *Service) waitOpen(ctx, stop context.Context, jobs []*job) bool {
	if s.gate.Remaining() == 0 {
		return true
	}
	stops := make([]func(), len(jobs))
	for i, j := range jobs {
		stops[i] = bus.KeepAlive(j.m, s.cfg.KeepAlive)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	context.AfterFunc(stop, cancel)
	err := s.gate.Wait(waitCtx)
	for _, stopKeepAlive := range stops {
		stopKeepAlive()
	}
	if err == nil {
		return true
	}
	retry := bus.Retry(errors.New("writeback: stopped while paused for the API request limit"), max(s.gate.Remaining(), time.Second))
	for _, j := range jobs {
		s.settle(ctx, j.m, retry)
	}
	return false
}

// finish records the outcome of one record's update and returns what to
// do with its message.
func (s *Service) finish(ctx context.Context, j *job, err error) error {
	ctx, span := tracing.StartConsumer(ctx, j.m.Headers(), "writeback", j.m.Subject())
	defer span.End()
	status := strings.ToLower(j.wb.Status)
	if err != nil {
		code := s.class.Code(err)
		if s.class.Permanent(err) || j.delivery >= uint64(s.cfg.MaxDeliver) {
			j.log.Error("writeback: Salesforce rejected the update for good", logkey.Error, err, logkey.Code, code, logkey.SAPCustomer, j.wb.SAPCustomer)
			metrics.Writeback(status, metrics.WritebackDeadLettered)
			return s.deadLetter(ctx, j.m, j.wb, code, err)
		}
		delay := s.cfg.retryDelay(j.delivery)
		j.log.Warn("writeback: Salesforce update failed; will retry", logkey.Error, err, logkey.Code, code, "retry_in", delay)
		metrics.Writeback(status, metrics.WritebackRetry)
		return bus.Retry(err, delay)
	}

	wctx := context.WithoutCancel(ctx)
	if j.wb.Status == account.StatusSynced {
		if err := s.ledger.MarkWrittenBack(wctx, j.wb.AccountID, j.wb.SAPCustomer); err != nil {
			if errors.Is(err, ledger.ErrConflictingCustomer) {
				j.log.Error("writeback: ALARM: ledger holds a different SAP customer", logkey.Error, err)
				return s.deadLetter(ctx, j.m, j.wb, "CONFLICTING_CUSTOMER", err)
			}
			return err
		}
	}
	if err := s.publishResult(wctx, j.wb, j.outcome, j.wb.Reason); err != nil {
		return err
	}
	metrics.Writeback(status, metrics.WritebackWritten)
	if j.wb.Status == account.StatusSynced {
		metrics.ObserveCommitToWriteback(j.wb.CommittedAt, s.now())
	}
	j.log.Info("writeback: Account updated", "status", j.wb.Status, logkey.SAPCustomer, j.wb.SAPCustomer)
	return nil
}

func (s *Service) settle(ctx context.Context, m jetstream.Msg, err error) {
	bus.Settle(ctx, m, err, s.runOptions())
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
	wctx := context.WithoutCancel(tracing.Extract(ctx, m.Headers()))
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

// dropConflicts reads, in one query, the current SAP numbers of the
// Accounts that get one, and dead-letters each job whose Account already
// holds a different number, such as one a user typed in during the
// create: overwriting it would hide a second SAP customer. It returns the
// jobs to write.
func (s *Service) dropConflicts(ctx context.Context, jobs []*job) ([]*job, error) {
	var ids []string
	for _, j := range jobs {
		if j.wb.Status == account.StatusSynced {
			ids = append(ids, j.wb.AccountID)
		}
	}
	if len(ids) == 0 {
		return jobs, nil
	}
	accts, err := s.sf.GetAccounts(ctx, ids)
	if err != nil {
		return nil, err
	}
	current := make(map[string]string, len(accts))
	for _, a := range accts {
		current[a.ID] = a.SAPID
	}
	kept := jobs[:0:0]
	for _, j := range jobs {
		have := sap.NormalizeCustomerNo(current[j.wb.AccountID])
		if j.wb.Status != account.StatusSynced || have == "" || have == sap.NormalizeCustomerNo(j.wb.SAPCustomer) {
			kept = append(kept, j)
			continue
		}
		metrics.Alarm(metrics.AlarmConflictingCustomer)
		s.log.Error("writeback: ALARM: the Account already holds a different SAP number; not overwriting it",
			logkey.AccountID, j.wb.AccountID, logkey.SAPCustomer, j.wb.SAPCustomer, "account_sap_number", have)
		cause := fmt.Errorf("the Account holds SAP number %s but sfsap created %s: an operator must decide which customer stays", have, j.wb.SAPCustomer)
		s.settle(ctx, j.m, s.deadLetter(ctx, j.m, j.wb, "CONFLICTING_SAP_ID", cause))
	}
	return kept, nil
}
