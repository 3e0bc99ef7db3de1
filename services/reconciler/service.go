package reconciler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
)

// Service is the reconciler.
type Service struct {
	cfg      Config
	js       jetstream.JetStream
	ledger   *ledger.Ledger
	ckpt     jetstream.KeyValue
	sweeper  Sweeper
	accounts Accounts
	log      *slog.Logger
	now      func() time.Time

	// stalls records since when each consumer has been full.
	mu     sync.Mutex
	stalls map[string]stall
}

// New returns a reconciler. sweeper and accounts may be nil: without a
// sweeper no sweep runs, and without accounts expired claims are only
// logged, since a new create job needs the Account's data.
func New(ctx context.Context, cfg Config, js jetstream.JetStream, sweeper Sweeper, accounts Accounts, log *slog.Logger) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, bus.BucketLedger)
	if err != nil {
		return nil, fmt.Errorf("reconciler: opening bucket %s: %w", bus.BucketLedger, err)
	}
	ckpt, err := js.KeyValue(ctx, bus.BucketCheckpoint)
	if err != nil {
		return nil, fmt.Errorf("reconciler: opening bucket %s: %w", bus.BucketCheckpoint, err)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{
		cfg: cfg, js: js, ledger: ledger.New(kv), ckpt: ckpt, sweeper: sweeper, accounts: accounts,
		log: log, now: time.Now, stalls: map[string]stall{},
	}, nil
}

// Run moves dead letters continuously and runs a pass every Interval,
// with a sweep every SweepInterval, until ctx ends. The first pass and
// sweep run at once.
func (s *Service) Run(ctx context.Context) error {
	cons, err := s.js.Consumer(ctx, bus.StreamAdvisories, bus.ConsumerDLQMover)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped before the service began; nothing was in flight.
			return nil
		}
		return fmt.Errorf("reconciler: opening consumer %s: %w", bus.ConsumerDLQMover, err)
	}
	s.log.Info("reconciler: started", "interval", s.cfg.Interval, "sweep_interval", s.cfg.SweepInterval)
	defer s.log.Info("reconciler: stopped")

	moverErr := make(chan error, 1)
	go func() {
		moverErr <- bus.Run(ctx, cons, bus.RunOptions{Name: "reconciler", Logger: s.log}, s.moveDeadLetter)
	}()

	var lastSweep time.Time
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := s.Reconcile(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("reconciler: pass failed; retrying at the next interval", "error", err)
		}
		s.CheckConsumers(ctx)
		if s.sweeper != nil && !s.cfg.DisableSweep && s.now().Sub(lastSweep) >= s.cfg.SweepInterval {
			if _, err := s.Sweep(ctx); err != nil {
				if ctx.Err() == nil {
					s.log.Error("reconciler: sweep failed; retrying at the next interval", "error", err)
				}
			} else {
				lastSweep = s.now()
			}
		}
		select {
		case <-ctx.Done():
			return <-moverErr
		case <-t.C:
		}
	}
}

// Report counts what one pass did.
type Report struct {
	// Entries is the number of ledger entries read.
	Entries int `json:"entries"`
	// Claims is the number of create jobs queued for expired claims.
	Claims int `json:"claims"`
	// Writebacks is the number of write-back jobs queued for customers
	// created but not written back.
	Writebacks int `json:"writebacks"`
}

// Reconcile runs one pass over the ledger. It queues a create job for
// every claim that has been free for ClaimGrace with no job pending, and
// a write-back job for every customer created WritebackAfter ago or
// earlier and still not written back, with none pending. Entries parked
// in the dead-letter stream are left to the operator. Every job it
// publishes has a msg id made of the account and the entry's revision, so
// passes that overlap queue it once.
func (s *Service) Reconcile(ctx context.Context) (Report, error) {
	entries, err := s.ledger.List(ctx)
	rep := Report{Entries: len(entries)}
	if err != nil && !errors.Is(err, ledger.ErrCorrupt) {
		return rep, err
	}
	if err != nil {
		s.log.Error("reconciler: some ledger entries cannot be decoded; fix or delete them by hand", "error", err)
	}

	now := s.now()
	var claims, writebacks []ledger.Entry
	for _, e := range entries {
		switch {
		case e.DeadLettered:
		case e.State == ledger.Claimed && now.After(e.FreeAt(s.cfg.Settle).Add(s.cfg.ClaimGrace)):
			claims = append(claims, e)
		case e.State == ledger.Created && now.Sub(e.UpdatedAt) >= s.cfg.WritebackAfter:
			writebacks = append(writebacks, e)
		}
	}

	var errs []error
	n, err := s.redriveClaims(ctx, claims)
	rep.Claims = n
	errs = append(errs, err)
	n, err = s.redriveWritebacks(ctx, writebacks)
	rep.Writebacks = n
	errs = append(errs, err)
	if rep.Claims > 0 || rep.Writebacks > 0 {
		s.log.Info("reconciler: pass re-drove stuck accounts", "entries", rep.Entries, "claims", rep.Claims, "writebacks", rep.Writebacks)
	}
	return rep, errors.Join(errs...)
}
