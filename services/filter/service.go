package filter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/tracing"
)

// Service is the filter.
type Service struct {
	cfg   Config
	js    jetstream.JetStream
	sf    Salesforce
	types jetstream.KeyValue
	// ledger tells which accounts failed for good, so a fix of their data
	// in Salesforce can start a new attempt.
	ledger *ledger.Ledger
	log    *slog.Logger
	now    func() time.Time
	// gate is closed while Salesforce reports the API limit exceeded.
	gate sfclient.PauseGate
}

// New returns a filter. cfg is completed with defaults and validated.
func New(ctx context.Context, cfg Config, js jetstream.JetStream, sf Salesforce, log *slog.Logger) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	types, err := js.KeyValue(ctx, bus.BucketTypes)
	if err != nil {
		return nil, fmt.Errorf("filter: opening bucket %s: %w", bus.BucketTypes, err)
	}
	kv, err := js.KeyValue(ctx, bus.BucketLedger)
	if err != nil {
		return nil, fmt.Errorf("filter: opening bucket %s: %w", bus.BucketLedger, err)
	}
	return &Service{cfg: cfg, js: js, sf: sf, types: types, ledger: ledger.New(kv), log: logger(log), now: time.Now}, nil
}

// Run consumes change events until ctx ends. Batches are handled one at a
// time and in order, so the last-seen Type of an account follows its
// changes.
func (s *Service) Run(ctx context.Context) error {
	cons, err := s.js.Consumer(ctx, bus.StreamCDC, bus.ConsumerFilter)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped before the service began; nothing was in flight.
			return nil
		}
		return fmt.Errorf("filter: opening consumer %s: %w", bus.ConsumerFilter, err)
	}
	s.log.Info("filter: started", "customer_types", s.cfg.CustomerTypes)
	err = bus.RunBatches(ctx, cons, bus.RunOptions{Name: "filter", Logger: s.log}, s.cfg.BatchSize, func(hctx context.Context, ms []jetstream.Msg) {
		s.handleBatch(hctx, ctx, ms)
	})
	s.log.Info("filter: stopped")
	return err
}

// candidate is a change whose record must be read before deciding.
type candidate struct {
	m      jetstream.Msg
	change msg.AccountChange
	prev   string
	known  bool
	// retry marks an edit of a failed account's data, which gets a new
	// attempt when the account is still a customer without an SAP number.
	retry bool
}

// handleBatch settles the messages of one batch. ctx is the handlers'
// context, which outlives stop by a grace period; stop ends when the
// service is asked to stop.
func (s *Service) handleBatch(ctx, stop context.Context, ms []jetstream.Msg) {
	var cands []candidate
	for _, m := range ms {
		c, err := decode(m)
		if err != nil {
			s.deadLetter(ctx, m, "", err)
			continue
		}
		read, err := s.triage(ctx, c)
		settled := false
		for sfclient.IsLimitError(err) && !settled {
			// An overflow's sweep hit the limit: hold the change, as
			// record reads are held, instead of naking it.
			s.pauseAfterLimit(err, 1)
			if !s.waitOpen(ctx, stop, []candidate{{m: m, change: c}}) {
				settled = true
				continue
			}
			read, err = s.triage(ctx, c)
		}
		if settled {
			continue
		}
		if err != nil {
			s.log.Warn("filter: handling change failed; will retry", logkey.AccountID, c.AccountID, logkey.Error, err)
			bus.Settle(ctx, m, err, bus.RunOptions{Name: "filter", Logger: s.log})
			continue
		}
		if !read {
			bus.Settle(ctx, m, nil, bus.RunOptions{Name: "filter", Logger: s.log})
			continue
		}
		prev, known, err := s.lastType(ctx, c.AccountID)
		if err != nil {
			bus.Settle(ctx, m, err, bus.RunOptions{Name: "filter", Logger: s.log})
			continue
		}
		// triage asks for a read of an update that leaves Type alone only
		// when it may fix a failed account.
		retry := c.ChangeType == msg.ChangeUpdate && !slices.Contains(c.ChangedFields, "Type")
		cands = append(cands, candidate{m: m, change: c, prev: prev, known: known, retry: retry})
	}
	if len(cands) == 0 {
		return
	}
	s.decide(ctx, stop, cands)
}

// triage handles what needs no record read and reports whether the change
// needs one.
func (s *Service) triage(ctx context.Context, c msg.AccountChange) (bool, error) {
	switch c.ChangeType {
	case msg.ChangeDelete, msg.ChangeGapDelete:
		// A deleted Account never leads to an SAP call.
		metrics.ChangeIgnored(metrics.WhyDeleted)
		return false, s.forgetType(ctx, c.AccountID)
	case msg.ChangeGapOverflow:
		since := c.CommitTimestamp.Add(-s.cfg.SweepMargin)
		n, err := s.Sweep(ctx, since, msg.ReasonGap)
		if err != nil {
			return false, err
		}
		s.log.Warn("filter: overflow event; swept for customers without an SAP number", "since", since, "jobs", n)
		metrics.ChangeIgnored(metrics.WhyOverflow)
		return false, nil
	case msg.ChangeGapCreate, msg.ChangeGapUpdate, msg.ChangeGapUndelete:
		return true, nil
	case msg.ChangeCreate, msg.ChangeUndelete:
		return s.typeMayConvert(ctx, c)
	case msg.ChangeUpdate:
		if s.isEcho(c) {
			metrics.ChangeIgnored(metrics.WhyEcho)
			return false, nil
		}
		if !slices.Contains(c.ChangedFields, "Type") {
			fixed, err := s.mayFixFailure(ctx, c)
			if !fixed && err == nil {
				metrics.ChangeIgnored(metrics.WhyTypeUnchanged)
			}
			return fixed, err
		}
		return s.typeMayConvert(ctx, c)
	}
	s.log.Info("filter: ignoring change type", logkey.ChangeType, c.ChangeType, logkey.AccountID, c.AccountID)
	metrics.ChangeIgnored(metrics.WhyUnknownChange)
	return false, nil
}

// typeMayConvert records a new Type that is not a customer value, which
// needs no read, and reports whether the record must be read.
func (s *Service) typeMayConvert(ctx context.Context, c msg.AccountChange) (bool, error) {
	newType, ok := c.Fields["Type"].(string)
	if ok && !slices.Contains(s.cfg.CustomerTypes, newType) {
		metrics.ChangeIgnored(metrics.WhyNotCustomer)
		return false, s.rememberType(ctx, c.AccountID, newType)
	}
	return true, nil
}

// isEcho reports whether the change is sfsap's own write-back: it changes
// only fields sfsap writes, or it was made by sfsap without touching Type.
func (s *Service) isEcho(c msg.AccountChange) bool {
	f := s.cfg.Fields
	own := []string{f.SAPID, f.SyncStatus, f.SyncError, f.SyncAttempts, f.LastSync, f.CorrelationID, "LastModifiedDate", "SystemModstamp", "LastModifiedById"}
	onlyOwn := true
	for _, f := range c.ChangedFields {
		if !slices.Contains(own, f) && !strings.HasPrefix(f, "SAP_Sync_") {
			onlyOwn = false
			break
		}
	}
	if onlyOwn {
		return true
	}
	byUs := strings.Contains(c.ChangeOrigin, "client="+s.cfg.ClientID) ||
		(s.cfg.IntegrationUser != "" && sfid.Equal(c.CommitUser, s.cfg.IntegrationUser))
	return byUs && !slices.Contains(c.ChangedFields, "Type")
}

// decide reads the current records of the candidates in one query and
// enqueues a create job for each real conversion.
func (s *Service) decide(ctx, stop context.Context, cands []candidate) {
	var ids []string
	for _, c := range cands {
		if c.change.AccountID != sfid.EmptyID && !slices.Contains(ids, c.change.AccountID) {
			ids = append(ids, c.change.AccountID)
		}
	}
	accts, ok := s.readAccounts(ctx, stop, cands, ids)
	if !ok {
		return
	}
	byID := map[string]account.Account{}
	for _, a := range accts {
		byID[a.ID] = a
	}
	for _, c := range cands {
		a, found := byID[c.change.AccountID]
		mctx, span := tracing.StartConsumer(ctx, c.m.Headers(), "filter", c.m.Subject())
		err := s.decideOne(mctx, c, a, found)
		bus.Settle(mctx, c.m, err, bus.RunOptions{Name: "filter", Logger: s.log})
		tracing.End(span, err)
	}
}

func (s *Service) decideOne(ctx context.Context, c candidate, a account.Account, found bool) error {
	id := c.change.AccountID
	if !found {
		s.log.Info("filter: account not found or deleted; nothing to do", logkey.AccountID, id)
		metrics.ChangeIgnored(metrics.WhyNotFound)
		return nil
	}
	isCustomer := slices.Contains(s.cfg.CustomerTypes, a.Type)
	fromProspect := !c.known || slices.Contains(s.cfg.ProspectTypes, c.prev)
	gap := strings.HasPrefix(c.change.ChangeType, "GAP_")
	// An operator's replay re-checks the current record, as a gap does,
	// since the last-seen Type already reflects the original event.
	replayed := c.m.Headers().Get(bus.HeaderReplayOf) != ""
	// The new Type is stored only after the job is queued. A redelivery
	// after a failed publish then still reads the previous Type and does
	// not mistake the conversion for a change between customer values.
	switch {
	case !isCustomer:
		metrics.ChangeIgnored(metrics.WhyNotCustomer)
		return s.rememberType(ctx, id, a.Type)
	case a.SAPID != "":
		s.log.Debug("filter: account already has an SAP number", logkey.AccountID, id, logkey.SAPCustomer, a.SAPID)
		metrics.ChangeIgnored(metrics.WhyHasSAPNumber)
		return s.rememberType(ctx, id, a.Type)
	case c.retry:
		return s.retryFixed(ctx, a, c.change.CommitTimestamp)
	case !fromProspect && !gap && !replayed:
		s.log.Info("filter: Type changed to a customer value from a value that is not a prospect; not a conversion",
			logkey.AccountID, id, "previous_type", c.prev, "type", a.Type)
		metrics.ChangeIgnored(metrics.WhyNotProspect)
		return s.rememberType(ctx, id, a.Type)
	}
	reason := msg.ReasonConversion
	if gap {
		reason = msg.ReasonGap
	}
	if err := s.enqueue(ctx, a, reason, c.change.CommitTimestamp); err != nil {
		return err
	}
	return s.rememberType(ctx, id, a.Type)
}

// enqueue publishes a create job. A job already pending for the account
// counts as success.
func (s *Service) enqueue(ctx context.Context, a account.Account, reason string, committed time.Time) error {
	job := msg.CreateJob{
		Schema:        msg.SchemaCreateJob,
		AccountID:     a.ID,
		Account:       a,
		Reason:        reason,
		CorrelationID: uuid.NewString(),
		CommittedAt:   committed,
		RequestedAt:   s.now().UTC(),
	}
	hdr := nats.Header{}
	hdr.Set(bus.HeaderCorrelation, job.CorrelationID)
	_, err := bus.Publish(ctx, s.js, bus.CreateJobSubject(a.ID), job, "", hdr)
	if errors.Is(err, bus.ErrAlreadyPending) {
		s.log.Info("filter: create job already pending", logkey.AccountID, a.ID)
		metrics.ChangeIgnored(metrics.WhyJobPending)
		return nil
	}
	if err != nil {
		return err
	}
	metrics.JobQueued(reason)
	s.log.Info("filter: conversion; create job queued", logkey.AccountID, a.ID, "reason", reason, logkey.CorrelationID, job.CorrelationID)
	return nil
}

func (s *Service) lastType(ctx context.Context, id string) (string, bool, error) {
	e, err := s.types.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading last Type of %s: %w", id, err)
	}
	return string(e.Value()), true, nil
}

func (s *Service) rememberType(ctx context.Context, id, t string) error {
	if _, err := s.types.PutString(ctx, id, t); err != nil {
		return fmt.Errorf("storing last Type of %s: %w", id, err)
	}
	return nil
}

func (s *Service) forgetType(ctx context.Context, id string) error {
	if err := s.types.Delete(ctx, id); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("deleting last Type of %s: %w", id, err)
	}
	return nil
}

func (s *Service) deadLetter(ctx context.Context, m jetstream.Msg, accountID string, cause error) {
	s.log.Error("filter: undecodable change event; dead-lettered", logkey.Subject, m.Subject(), logkey.Error, cause)
	metrics.ChangeIgnored(metrics.WhyDecodingFailed)
	err := bus.DeadLetter(ctx, s.js, m, msg.DeadLetter{AccountID: orUnknown(accountID), Stage: bus.StageFilter, Reason: cause.Error()})
	if err != nil {
		bus.Settle(ctx, m, err, bus.RunOptions{Name: "filter", Logger: s.log})
		return
	}
	bus.Settle(ctx, m, bus.Done(cause), bus.RunOptions{Name: "filter", Logger: s.log})
}

func decode(m jetstream.Msg) (msg.AccountChange, error) {
	var c msg.AccountChange
	if err := json.Unmarshal(m.Data(), &c); err != nil {
		return c, fmt.Errorf("decoding account change on %s: %w", m.Subject(), err)
	}
	if c.AccountID != sfid.EmptyID && !sfid.Valid(c.AccountID) {
		return c, fmt.Errorf("account change on %s has invalid account id %q", m.Subject(), c.AccountID)
	}
	return c, nil
}

func orUnknown(id string) string {
	if id == "" {
		return "unknown"
	}
	return id
}
