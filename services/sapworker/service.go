package sapworker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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
	"github.com/sfsap/sfsap/pkg/sfid"
)

// Service is the SAP worker.
type Service struct {
	cfg    Config
	js     jetstream.JetStream
	ledger *ledger.Ledger
	sap    sap.Adapter
	mapper Mapper
	log    *slog.Logger
	now    func() time.Time
}

// New returns an SAP worker. cfg is completed with defaults and validated.
func New(ctx context.Context, cfg Config, js jetstream.JetStream, adapter sap.Adapter, mapper Mapper, log *slog.Logger) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, bus.BucketLedger)
	if err != nil {
		return nil, fmt.Errorf("sapworker: opening bucket %s: %w", bus.BucketLedger, err)
	}
	if log == nil {
		log = slog.Default()
	}
	adapter = metrics.InstrumentSAP(adapter)
	return &Service{cfg: cfg, js: js, ledger: ledger.New(kv), sap: adapter, mapper: mapper, log: log, now: time.Now}, nil
}

// Run consumes create jobs until ctx ends, then lets in-flight jobs finish
// within the grace period.
func (s *Service) Run(ctx context.Context) error {
	cons, err := s.js.Consumer(ctx, bus.StreamSAPJobs, bus.ConsumerSAPWorker)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped before the service began; nothing was in flight.
			return nil
		}
		return fmt.Errorf("sapworker: opening consumer %s: %w", bus.ConsumerSAPWorker, err)
	}
	s.log.Info("sapworker: started", "worker_id", s.cfg.WorkerID, "concurrency", s.cfg.Concurrency)
	err = bus.Run(ctx, cons, s.runOptions(), s.handle)
	s.log.Info("sapworker: stopped", "worker_id", s.cfg.WorkerID)
	return err
}

func (s *Service) runOptions() bus.RunOptions {
	return bus.RunOptions{
		Name:        "sapworker",
		Concurrency: s.cfg.Concurrency,
		Grace:       s.cfg.CallTimeout + 5*time.Second,
		Backoff:     s.cfg.Backoff,
		Logger:      s.log,
	}
}

// job is one create job being handled.
type job struct {
	m        jetstream.Msg
	job      msg.CreateJob
	delivery uint64
	log      *slog.Logger
}

func (s *Service) handle(ctx context.Context, m jetstream.Msg) error {
	var cj msg.CreateJob
	if err := json.Unmarshal(m.Data(), &cj); err != nil || !sfid.Valid(cj.AccountID) {
		if err == nil {
			err = fmt.Errorf("create job on %s has invalid account id %q", m.Subject(), cj.AccountID)
		}
		return s.fail(ctx, &job{m: m, job: cj, log: s.log}, "", fmt.Errorf("decoding create job: %w", err))
	}
	j := &job{m: m, job: cj, delivery: 1}
	if meta, err := m.Metadata(); err == nil {
		j.delivery = meta.NumDelivered
	}
	j.log = s.log.With(logkey.AccountID, cj.AccountID, logkey.CorrelationID, cj.CorrelationID, logkey.Attempt, j.delivery)

	// The ledger decides first: an account SAP already has is never sent again.
	entry, found, err := s.ledger.Get(ctx, cj.AccountID)
	if errors.Is(err, ledger.ErrCorrupt) {
		// Without a readable entry nothing can tell whether SAP has the
		// customer, so the account is parked for an operator.
		return s.fail(ctx, j, "", err)
	}
	if err != nil {
		return err
	}
	if found {
		if settled, err := s.settled(ctx, j, entry); settled {
			return err
		}
	}

	cust, err := s.mapper.Map(cj.Account)
	if err != nil {
		return s.fail(ctx, j, "", err)
	}

	entry, err = s.ledger.Claim(ctx, cj.AccountID, s.cfg.WorkerID, cj.CorrelationID, s.cfg.Lease, s.cfg.Settle)
	var held *ledger.HeldError
	switch {
	case errors.Is(err, ledger.ErrDone), errors.Is(err, ledger.ErrFailed):
		_, err = s.settled(ctx, j, entry)
		return err
	case errors.As(err, &held):
		wait := max(held.Until.Sub(s.now()), time.Second)
		j.log.Info("sapworker: account claimed elsewhere; retrying later", "owner", held.Owner, "retry_in", wait)
		return bus.Retry(err, wait)
	case errors.Is(err, ledger.ErrClaimLost):
		return bus.Retry(err, time.Second)
	case err != nil:
		return err
	}
	return s.createClaimed(ctx, j, entry, cust)
}

// settled handles a job for an account whose entry needs no SAP call and
// reports whether it did: a created customer gets at most its write-back,
// and an account parked in the dead-letter stream waits for an operator.
func (s *Service) settled(ctx context.Context, j *job, e ledger.Entry) (bool, error) {
	switch {
	case e.State == ledger.Failed:
		j.log.Info("sapworker: account failed earlier and waits for an operator; no SAP call", "reason", e.Reason)
		return true, nil
	case e.State != ledger.Created && e.State != ledger.WrittenBack:
		return false, nil
	case e.DeadLettered:
		j.log.Info("sapworker: customer exists but its write-back was dead-lettered; no SAP call", logkey.SAPCustomer, e.SAPCustomer)
		return true, nil
	case e.State == ledger.WrittenBack && j.job.Reason == msg.ReasonSweep && j.job.Account.SAPID == "":
		// A sweep found the Account without the number that was written
		// back, so someone cleared it in Salesforce.
		j.log.Warn("sapworker: Salesforce lost the SAP number written earlier; writing it again", logkey.SAPCustomer, e.SAPCustomer)
		return true, s.writeback(ctx, j, e.SAPCustomer, msg.OutcomeSynced)
	case e.State == ledger.WrittenBack:
		j.log.Info("sapworker: customer already created and written back; no SAP call", logkey.SAPCustomer, e.SAPCustomer)
		return true, nil
	}
	j.log.Info("sapworker: customer already created; queuing its write-back, no SAP call", logkey.SAPCustomer, e.SAPCustomer)
	return true, s.writeback(ctx, j, e.SAPCustomer, msg.OutcomeSynced)
}

// createClaimed runs lookup and create under a claim, keeping the message
// and the lease alive while SAP works.
func (s *Service) createClaimed(ctx context.Context, j *job, entry ledger.Entry, cust sap.Customer) error {
	hold := &claimHold{entry: entry}
	stop := s.keepAlive(ctx, j, hold)
	defer stop()

	no, found, err := s.lookup(ctx, cust.ExternalRef)
	if err != nil {
		j.log.Warn("sapworker: SAP lookup failed; will retry", logkey.Error, err)
		return s.retryReleased(ctx, j, hold, err)
	}
	if found {
		j.log.Info("sapworker: SAP already has a customer for this account; adopting it", logkey.SAPCustomer, no)
		return s.created(ctx, j, hold, no, msg.OutcomeAdopted)
	}

	if bus.Stopping(ctx) {
		// A create started now might outlast the grace period. Hand the
		// job to another worker instead.
		j.log.Info("sapworker: shutting down; releasing the claim before the create")
		s.release(ctx, j, hold, "released at shutdown before the create")
		return bus.Retry(errStopping, 0)
	}
	// Renew the lease now, so it outlives the create's timeout even if no
	// later renewal gets through: the claim must not pass to another
	// worker while this create may still commit.
	if err := hold.extend(ctx, s.ledger, s.cfg.Lease); err != nil {
		j.log.Warn("sapworker: renewing the lease before the create failed; retrying later", logkey.Error, err)
		if !errors.Is(err, ledger.ErrClaimLost) {
			s.release(ctx, j, hold, err.Error())
		}
		return bus.Retry(err, time.Second)
	}
	callCtx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	res, err := s.sap.Create(callCtx, cust)
	cancel()
	if err == nil {
		for _, m := range res.Messages {
			if m.Type == "W" {
				j.log.Info("sapworker: SAP warning with the create", "message", m.String())
			}
		}
		return s.created(ctx, j, hold, res.CustomerNo, msg.OutcomeSynced)
	}

	switch sap.KindOf(err) {
	case sap.Permanent:
		s.release(ctx, j, hold, err.Error())
		return s.fail(ctx, j, "", err)
	case sap.Unknown:
		// SAP may have created the customer. Only a lookup after the
		// settle time may decide; never create again blindly.
		j.log.Warn("sapworker: create outcome unknown; will look the customer up after settle", logkey.Error, err, "settle", s.cfg.Settle)
		if _, merr := s.ledger.MarkInDoubt(context.WithoutCancel(ctx), hold.get()); merr != nil {
			j.log.Warn("sapworker: marking claim in doubt failed; the lease will expire instead", logkey.Error, merr)
		}
		return bus.Retry(err, s.cfg.Settle+time.Second)
	default:
		j.log.Warn("sapworker: SAP create failed; will retry", logkey.Error, err)
		return s.retryReleased(ctx, j, hold, err)
	}
}

func (s *Service) lookup(ctx context.Context, ref string) (string, bool, error) {
	callCtx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	no, found, err := s.sap.FindByExternalRef(callCtx, ref)
	return sap.NormalizeCustomerNo(no), found, err
}

// created records the customer in the ledger and queues the write-back.
func (s *Service) created(ctx context.Context, j *job, hold *claimHold, customerNo, outcome string) error {
	customerNo = sap.NormalizeCustomerNo(customerNo)
	if customerNo == "" {
		err := fmt.Errorf("SAP reported success without a customer number")
		s.release(ctx, j, hold, err.Error())
		return s.fail(ctx, j, "", &sap.Error{Kind: sap.Permanent, Op: "create", Err: err})
	}
	// The ledger write must happen even if a shutdown began, or the
	// customer would be known to SAP only.
	wctx := context.WithoutCancel(ctx)
	_, err := s.ledger.MarkCreated(wctx, hold.get(), customerNo)
	if errors.Is(err, ledger.ErrConflictingCustomer) {
		metrics.Alarm(metrics.AlarmConflictingCustomer)
		j.log.Error("sapworker: ALARM: account has two different SAP customers; operator action needed", logkey.SAPCustomer, customerNo, logkey.Error, err)
		return s.fail(ctx, j, customerNo, err)
	}
	if err != nil {
		return err
	}
	j.log.Info("sapworker: SAP customer recorded", logkey.SAPCustomer, customerNo, "outcome", outcome)
	return s.writeback(wctx, j, customerNo, outcome)
}

// writeback queues the write of the customer number to Salesforce.
func (s *Service) writeback(ctx context.Context, j *job, customerNo, outcome string) error {
	wb := msg.WritebackJob{
		Schema:        msg.SchemaWritebackJob,
		AccountID:     j.job.AccountID,
		Status:        account.StatusSynced,
		SAPCustomer:   customerNo,
		Reason:        outcomeReason(outcome),
		Attempts:      int(j.delivery),
		CorrelationID: j.job.CorrelationID,
		CommittedAt:   j.job.CommittedAt,
		RequestedAt:   s.now().UTC(),
	}
	hdr := nats.Header{}
	hdr.Set(bus.HeaderCorrelation, wb.CorrelationID)
	_, err := bus.Publish(ctx, s.js, bus.WritebackSubject(wb.AccountID), wb, "wb."+wb.AccountID+"."+customerNo, hdr)
	return err
}

func outcomeReason(outcome string) string {
	if outcome == msg.OutcomeAdopted {
		return "SAP already had a customer for this account; no new customer was created"
	}
	return ""
}

// fail dead-letters the job and queues a write-back of the reason, so the
// sales rep sees it on the Account.
func (s *Service) fail(ctx context.Context, j *job, customerNo string, cause error) error {
	wctx := context.WithoutCancel(ctx)
	reason := RepReason(cause)
	code := ""
	var messages []msg.Message
	var sapErr *sap.Error
	if errors.As(cause, &sapErr) {
		code = sapErr.Code()
		for _, m := range sapErr.Messages {
			messages = append(messages, msg.Message{Type: m.Type, ID: m.ID, Number: m.Number, Message: m.Message})
		}
	}
	j.log.Error("sapworker: job failed for good; dead-lettered", logkey.Error, loggable(cause), logkey.Code, code)
	id := j.job.AccountID
	if id == "" {
		id = "unknown"
	}
	if err := bus.DeadLetter(wctx, s.js, j.m, msg.DeadLetter{
		AccountID: id, Stage: bus.StageSAPWorker, Reason: reason, Code: code,
		SAPCustomer: customerNo, Messages: messages, CorrelationID: j.job.CorrelationID,
	}); err != nil {
		return err
	}
	if sfid.Valid(id) {
		if err := s.ledger.MarkFailed(wctx, id, reason); err != nil && !errors.Is(err, ledger.ErrCorrupt) {
			return err
		}
		wb := msg.WritebackJob{
			Schema: msg.SchemaWritebackJob, AccountID: id, Status: account.StatusFailed,
			SAPCustomer: customerNo, Reason: reason, Attempts: int(j.delivery),
			CorrelationID: j.job.CorrelationID, CommittedAt: j.job.CommittedAt, RequestedAt: s.now().UTC(),
		}
		hdr := nats.Header{}
		hdr.Set(bus.HeaderCorrelation, wb.CorrelationID)
		msgID := fmt.Sprintf("wb.%s.failed.%s.%d", id, j.job.CorrelationID, j.delivery)
		if _, err := bus.Publish(wctx, s.js, bus.WritebackSubject(id), wb, msgID, hdr); err != nil {
			return err
		}
	}
	return bus.Done(redact(cause))
}

// retryReleased releases the claim and retries, or gives up on the last
// delivery so the account is dead-lettered rather than dropped.
func (s *Service) retryReleased(ctx context.Context, j *job, hold *claimHold, cause error) error {
	s.release(ctx, j, hold, cause.Error())
	if j.delivery >= uint64(s.cfg.MaxDeliver) {
		return s.fail(ctx, j, "", fmt.Errorf("giving up after %d attempts: %w", j.delivery, cause))
	}
	return cause
}

func (s *Service) release(ctx context.Context, j *job, hold *claimHold, reason string) {
	if _, err := s.ledger.Release(context.WithoutCancel(ctx), hold.get(), reason); err != nil {
		j.log.Warn("sapworker: releasing claim failed; it will expire", logkey.Error, err)
	}
}

// claimHold is the current ledger entry of a claim, renewed in the background.
type claimHold struct {
	mu       sync.Mutex
	entry    ledger.Entry
	lostFlag bool
}

func (h *claimHold) get() ledger.Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.entry
}

// extend renews the lease. After ErrClaimLost every later call fails
// too, since the claim has passed to another worker.
func (h *claimHold) extend(ctx context.Context, l *ledger.Ledger, lease time.Duration) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lostFlag {
		return ledger.ErrClaimLost
	}
	e, err := l.Extend(context.WithoutCancel(ctx), h.entry, lease)
	if errors.Is(err, ledger.ErrClaimLost) {
		h.lostFlag = true
	}
	if err != nil {
		return err
	}
	h.entry = e
	return nil
}

// keepAlive sends in-progress acks at a third of AckWait and renews the
// lease at a third of its length, until the returned function is called.
func (s *Service) keepAlive(ctx context.Context, j *job, hold *claimHold) func() {
	stopAck := bus.KeepAlive(j.m, s.cfg.AckWait/3)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(s.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := hold.extend(ctx, s.ledger, s.cfg.Lease); err != nil {
					j.log.Warn("sapworker: renewing lease failed", logkey.Error, err)
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		stopAck()
	}
}
