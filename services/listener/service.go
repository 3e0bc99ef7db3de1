package listener

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/tracing"
)

// Service is the listener.
type Service struct {
	cfg     Config
	js      jetstream.JetStream
	src     Source
	sweeper Sweeper
	ckpt    jetstream.KeyValue
	lease   *lease
	log     *slog.Logger
	now     func() time.Time
}

// checkpoint is the stored replay position.
type checkpoint struct {
	Position []byte    `json:"position"`
	SavedAt  time.Time `json:"saved_at"`
}

// New returns a listener. sweeper may be nil, in which case a rejected
// replay position is only logged.
func New(ctx context.Context, cfg Config, js jetstream.JetStream, src Source, sweeper Sweeper, log *slog.Logger) (*Service, error) {
	kv, err := js.KeyValue(ctx, bus.BucketCheckpoint)
	if err != nil {
		return nil, fmt.Errorf("listener: opening bucket %s: %w", bus.BucketCheckpoint, err)
	}
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	leases, err := openLeases(ctx, js, cfg.LeaseTTL)
	if err != nil {
		return nil, err
	}
	l := &lease{kv: leases, key: cfg.Checkpoint, owner: cfg.Instance, ttl: cfg.LeaseTTL}
	log = log.With("instance", cfg.Instance)
	return &Service{cfg: cfg, js: js, src: src, sweeper: sweeper, ckpt: kv, lease: l, log: log, now: time.Now}, nil
}

// Run consumes events until ctx ends, but only while this instance holds
// the lease on its checkpoint: the other instances wait as standbys and
// one of them takes over when the holder stops or dies. On a clean stop
// the holder releases the lease at once.
func (s *Service) Run(ctx context.Context) error {
	s.log.Info("listener: started", "checkpoint", s.cfg.Checkpoint, "lease_ttl", s.cfg.LeaseTTL)
	defer s.log.Info("listener: stopped")
	standby := false
	for ctx.Err() == nil {
		held, err := s.lease.acquire(ctx)
		switch {
		case err != nil:
			s.log.Error("listener: acquiring the lease failed", logkey.Error, err, "retry_in", s.cfg.LeaseTTL/3)
		case held:
			standby = false
			s.active(ctx)
			continue
		case !standby:
			standby = true
			s.log.Info("listener: another instance holds the lease; waiting as standby", "checkpoint", s.cfg.Checkpoint)
		}
		sleep(ctx, s.cfg.LeaseTTL/3)
	}
	return nil
}

// active consumes events while the lease is held. A goroutine renews the
// lease every third of its TTL and stops consumption when a renewal fails.
func (s *Service) active(ctx context.Context) {
	s.log.Info("listener: lease acquired; consuming events", "checkpoint", s.cfg.Checkpoint)
	metrics.ListenerActive(true)
	defer metrics.ListenerActive(false)

	runCtx, cancel := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		defer cancel()
		for {
			if err := sleepCtx(runCtx, s.cfg.LeaseTTL/3); err != nil {
				return
			}
			err := s.lease.renew(runCtx)
			if errors.Is(err, errLeaseLost) {
				s.log.Error("listener: lease lost; stopping consumption", logkey.Error, err)
				return
			}
			if err != nil && !s.lease.valid() {
				s.log.Error("listener: renewing the lease failed until it ran out; stopping consumption", logkey.Error, err)
				return
			}
			if err != nil {
				s.log.Warn("listener: renewing the lease failed; retrying", logkey.Error, err)
			}
		}
	}()
	s.consume(runCtx)
	cancel()
	<-renewed

	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if err := s.lease.release(rctx); err != nil {
		s.log.Warn("listener: releasing the lease failed; a standby takes over when it expires", logkey.Error, err)
	}
}

// consume subscribes from the stored position and keeps subscribing until
// ctx ends. A rejected position is reported once, dropped, and followed by
// a subscription at the source's preset and a sweep from the time the
// position was saved, so no conversion is skipped silently.
func (s *Service) consume(ctx context.Context) {
	for ctx.Err() == nil {
		cp, err := s.load(ctx)
		if errors.Is(err, errCorruptCheckpoint) {
			s.recover(ctx, cp, err)
			continue
		}
		if err != nil {
			s.log.Error("listener: reading checkpoint failed", logkey.Error, err)
			sleep(ctx, s.cfg.RetryDelay)
			continue
		}
		err = s.src.Subscribe(ctx, cp.Position, s.publish)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, ErrPositionRejected) && len(cp.Position) == 0:
			// The source rejected its own preset, which no stored
			// position explains, so sweeping would not help.
			s.log.Error("listener: Salesforce rejected the subscription at the preset; retrying", logkey.Error, err, "retry_in", s.cfg.RetryDelay)
			sleep(ctx, s.cfg.RetryDelay)
		case errors.Is(err, ErrPositionRejected):
			s.recover(ctx, cp, err)
		case err != nil:
			s.log.Warn("listener: subscription ended; resubscribing", logkey.Error, err, "retry_in", s.cfg.RetryDelay)
			sleep(ctx, s.cfg.RetryDelay)
		}
	}
}

// recover handles a rejected replay position.
func (s *Service) recover(ctx context.Context, cp checkpoint, cause error) {
	since := cp.SavedAt.Add(-s.cfg.SweepMargin)
	s.log.Error("listener: Salesforce rejected the stored replay position; resubscribing at the preset and sweeping",
		logkey.Error, cause, "saved_at", cp.SavedAt, "sweep_since", since)
	metrics.ReplayRejected(s.transport())
	if err := s.ckpt.Delete(ctx, s.cfg.Checkpoint); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		s.log.Error("listener: deleting rejected checkpoint failed", logkey.Error, err)
		sleep(ctx, s.cfg.RetryDelay)
		return
	}
	if s.sweeper == nil {
		s.log.Error("listener: no sweeper configured; conversions made while the position was stale need a manual sweep", "sweep_since", since)
		return
	}
	if cp.SavedAt.IsZero() {
		since = time.Time{}
	}
	// The rejected position is gone, so the sweep is the only record of
	// the gap: it retries with backoff until it succeeds or the listener
	// stops, while the subscription goes on.
	go func() {
		delay := s.cfg.RetryDelay
		for attempt := 1; ; attempt++ {
			n, err := s.sweeper.Sweep(ctx, since, msg.ReasonSweep)
			if err == nil {
				s.log.Info("listener: sweep after rejected position queued jobs", "jobs", n, logkey.Attempt, attempt)
				return
			}
			if ctx.Err() != nil {
				s.log.Error("listener: stopped before the sweep after a rejected position succeeded; run a sweep by hand", "sweep_since", since)
				return
			}
			s.log.Error("listener: sweep after rejected position failed; retrying", logkey.Error, err, "sweep_since", since, "retry_in", delay, logkey.Attempt, attempt)
			sleep(ctx, delay)
			delay = min(2*delay, 5*time.Minute)
		}
	}()
}

// publish sends each change of the event to JetStream and then stores the
// event's position. A failure leaves the position where it was, so the
// event is delivered again and deduplicated by its message ids.
func (s *Service) publish(ctx context.Context, ev Event) error {
	// A lease that may have run out means another instance may be
	// publishing; the renewal goroutine then ends this subscription.
	if !s.lease.valid() {
		return errLeaseLost
	}
	if ev.DecodeErr != nil {
		if err := s.deadLetter(ctx, ev); err != nil {
			return err
		}
	}
	for _, c := range ev.Changes {
		// Each account change starts its own trace, which every later
		// message about it continues.
		cctx, span := tracing.StartRoot(ctx, "listener change", attribute.String("sfsap.account_id", c.AccountID), attribute.String("sfsap.change_type", c.ChangeType))
		_, err := bus.Publish(cctx, s.js, bus.CDCSubject(c.AccountID, c.ChangeType), c, c.DedupID(), nil)
		tracing.End(span, err)
		if err != nil {
			return fmt.Errorf("publishing change of %s: %w", c.AccountID, err)
		}
		metrics.EventReceived(c.ChangeType)
		s.log.Debug("listener: change published", logkey.AccountID, c.AccountID, logkey.ChangeType, c.ChangeType)
	}
	if len(ev.Position) == 0 {
		return nil
	}
	data, err := json.Marshal(checkpoint{Position: ev.Position, SavedAt: s.now().UTC()})
	if err != nil {
		return err
	}
	if _, err := s.ckpt.Put(ctx, s.cfg.Checkpoint, data); err != nil {
		return fmt.Errorf("storing replay position: %w", err)
	}
	return nil
}

// deadLetter parks an event that cannot be decoded, so it neither blocks
// the stream nor disappears.
func (s *Service) deadLetter(ctx context.Context, ev Event) error {
	s.log.Error("listener: undecodable change event; dead-lettered", logkey.Error, ev.DecodeErr, logkey.ReplayID, hex.EncodeToString(ev.Position))
	data := json.RawMessage(ev.Raw)
	if !json.Valid(data) {
		data, _ = json.Marshal(string(ev.Raw))
	}
	dl := msg.DeadLetter{
		Schema: msg.SchemaDeadLetter, AccountID: "unknown", Stage: bus.StageListener,
		Reason: ev.DecodeErr.Error(), Subject: "salesforce:" + s.cfg.Checkpoint, Data: data, At: s.now().UTC(),
	}
	_, err := bus.Publish(ctx, s.js, bus.DeadLetterSubject(bus.StageListener, "unknown"), dl, "dlq.listener."+hex.EncodeToString(ev.Position), nil)
	return err
}

func (s *Service) load(ctx context.Context) (checkpoint, error) {
	e, err := s.ckpt.Get(ctx, s.cfg.Checkpoint)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return checkpoint{}, nil
	}
	if err != nil {
		return checkpoint{}, err
	}
	var cp checkpoint
	if err := json.Unmarshal(e.Value(), &cp); err != nil {
		return checkpoint{}, fmt.Errorf("%w: %w", errCorruptCheckpoint, err)
	}
	// A stored checkpoint without a position is as useless as garbage: it
	// must not read as "start at the preset" without a sweep.
	if len(cp.Position) == 0 {
		return cp, fmt.Errorf("%w: no replay position stored", errCorruptCheckpoint)
	}
	return cp, nil
}

// transport returns the name of the source's transport for metrics:
// cometd, pubsub or poll.
func (s *Service) transport() string {
	if t, ok := s.src.(interface{ Transport() string }); ok {
		return t.Transport()
	}
	return "cometd"
}

// errCorruptCheckpoint marks a stored checkpoint that cannot be decoded.
// It is handled like a position Salesforce rejected.
var errCorruptCheckpoint = errors.New("listener: stored checkpoint is corrupt")

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
