// Package notifier sends sync outcomes from the audit trail (the
// SFSAP_RESULTS stream) to people: a Microsoft Teams or Slack incoming
// webhook, e-mail over SMTP, and items of a SharePoint Online list
// through Microsoft Graph.
//
// Each sink has its own durable consumer, notifier-<sink>, so a sink that
// is down delays only its own notifications and a retry never repeats a
// notification to a sink that already has it. A send that fails is
// retried with backoff, and a server's Retry-After is honoured. After the
// last attempt, or at once for a permanent failure, the outcome is
// dead-lettered with the sink's name as its code.
package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// Stage names the notifier in dead letters.
const Stage = "notifier"

// ConsumerPrefix starts the durable consumer name of every sink.
const ConsumerPrefix = "notifier-"

// sink delivers one outcome to one destination.
type sink interface {
	name() string
	send(ctx context.Context, r msg.Result) error
}

// Service is the notifier.
type Service struct {
	cfg   Config
	js    jetstream.JetStream
	sinks []sink
	// notify is each sink's Notify value, by sink name.
	notify map[string]string
	log    *slog.Logger
}

// New validates cfg, builds its sinks and creates or updates their
// consumers. It fails when no sink is configured.
func New(ctx context.Context, cfg Config, js jetstream.JetStream, log *slog.Logger) (*Service, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("notifier: no sink is configured: set notifier.teams.webhook_url, notifier.slack.webhook_url, notifier.email.host or notifier.sharepoint.site_id")
	}
	if log == nil {
		log = slog.Default()
	}

	s := &Service{cfg: cfg, js: js, notify: map[string]string{}, log: log}
	hc := &http.Client{Timeout: cfg.Timeout}
	if cfg.Teams.WebhookURL != "" {
		s.add(newTeams(cfg.Teams.WebhookURL, cfg.AccountURL, hc), cfg.Teams.Notify)
	}
	if cfg.Slack.WebhookURL != "" {
		s.add(newSlack(cfg.Slack.WebhookURL, cfg.AccountURL, hc), cfg.Slack.Notify)
	}
	if cfg.Email.Host != "" {
		email, err := newEmail(cfg.Email, cfg.AccountURL, cfg.Timeout)
		if err != nil {
			return nil, err
		}
		s.add(email, cfg.Email.Notify)
	}
	if cfg.SharePoint.SiteID != "" {
		s.add(newSharePoint(cfg.SharePoint, cfg.AccountURL, hc), cfg.SharePoint.Notify)
	}

	for _, sk := range s.sinks {
		if err := s.ensureConsumer(ctx, sk.name()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *Service) add(sk sink, notify string) {
	s.sinks = append(s.sinks, sk)
	s.notify[sk.name()] = notify
}

// ensureConsumer creates or updates the sink's durable consumer. With
// NotifyFailures the server filters the subjects, so successes never
// reach the notifier.
func (s *Service) ensureConsumer(ctx context.Context, name string) error {
	subjects := []string{"sfsap.result.>"}
	if s.notify[name] == NotifyFailures {
		subjects = []string{
			bus.ResultSubject(msg.OutcomeFailed, "*"),
			bus.ResultSubject(msg.OutcomeWritebackFailed, "*"),
		}
	}
	deliver := jetstream.DeliverNewPolicy
	if s.cfg.Start == StartAll {
		deliver = jetstream.DeliverAllPolicy
	}
	cc := jetstream.ConsumerConfig{
		Durable:        ConsumerPrefix + name,
		Description:    "notifier: sends sync outcomes to " + name,
		DeliverPolicy:  deliver,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        s.cfg.Timeout + 30*time.Second,
		MaxDeliver:     -1, // the handler dead-letters after MaxAttempts
		MaxAckPending:  s.cfg.Concurrency,
		FilterSubjects: subjects,
	}
	if _, err := s.js.CreateOrUpdateConsumer(ctx, bus.StreamResults, cc); err != nil {
		return fmt.Errorf("notifier: creating consumer %s on %s: %w; if notifier.start changed, delete the consumer first", cc.Durable, bus.StreamResults, err)
	}
	return nil
}

// Run sends outcomes to every sink until ctx ends, then lets in-flight
// sends finish within the send timeout.
func (s *Service) Run(ctx context.Context) error {
	names := make([]string, len(s.sinks))
	for i, sk := range s.sinks {
		names[i] = sk.name()
	}
	s.log.Info("notifier: started", "sinks", names, "notify", s.cfg.Notify)
	defer s.log.Info("notifier: stopped")

	var wg sync.WaitGroup
	errs := make([]error, len(s.sinks))
	for i, sk := range s.sinks {
		cons, err := s.js.Consumer(ctx, bus.StreamResults, ConsumerPrefix+sk.name())
		if err != nil {
			if ctx.Err() != nil {
				// Stopped before the service began; nothing was in flight.
				return nil
			}
			return fmt.Errorf("notifier: opening consumer %s: %w", ConsumerPrefix+sk.name(), err)
		}
		opts := bus.RunOptions{
			Name:        ConsumerPrefix + sk.name(),
			Concurrency: s.cfg.Concurrency,
			Grace:       s.cfg.Timeout,
			Logger:      s.log,
		}
		wg.Go(func() { errs[i] = bus.Run(ctx, cons, opts, s.handler(sk)) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// handler returns the message handler of one sink.
func (s *Service) handler(sk sink) bus.Handler {
	return func(ctx context.Context, m jetstream.Msg) error {
		var r msg.Result
		if err := json.Unmarshal(m.Data(), &r); err != nil || !sfid.Valid(r.AccountID) {
			if err == nil {
				err = fmt.Errorf("result on %s has invalid account id %q", m.Subject(), r.AccountID)
			}
			s.log.Error("notifier: undecodable result; dead-lettered", "sink", sk.name(), logkey.Subject, m.Subject(), logkey.Error, err)
			return s.deadLetter(ctx, m, sk, r, fmt.Errorf("decoding result: %w", err))
		}
		if !wants(s.notify[sk.name()], r.Outcome) {
			metrics.Notification(sk.name(), metrics.NotificationSkipped)
			return nil
		}
		attempt := uint64(1)
		if meta, err := m.Metadata(); err == nil {
			attempt = meta.NumDelivered
		}
		log := s.log.With("sink", sk.name(), logkey.AccountID, r.AccountID, logkey.CorrelationID, r.CorrelationID, logkey.Attempt, attempt)

		sendCtx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		err := sk.send(sendCtx, r)
		cancel()
		if err == nil {
			metrics.Notification(sk.name(), metrics.NotificationSent)
			log.Info("notifier: outcome sent", "outcome", r.Outcome)
			return nil
		}
		if IsPermanent(err) || attempt >= uint64(s.cfg.MaxAttempts) {
			log.Error("notifier: sending failed for good; dead-lettered", logkey.Error, err)
			return s.deadLetter(ctx, m, sk, r, err)
		}
		delay := s.retryDelay(attempt, retryAfterOf(err))
		metrics.Notification(sk.name(), metrics.NotificationRetry)
		log.Warn("notifier: sending failed; will retry", logkey.Error, err, "retry_in", delay)
		return bus.Retry(err, delay)
	}
}

// retryDelay returns the wait before the next attempt after attempt
// (1 for the first): Backoff doubled per attempt, or the server's
// Retry-After when that is longer, capped at MaxBackoff.
func (s *Service) retryDelay(attempt uint64, retryAfter time.Duration) time.Duration {
	delay := s.cfg.Backoff
	for i := uint64(1); i < attempt && delay < s.cfg.MaxBackoff; i++ {
		delay *= 2
	}
	delay = max(delay, retryAfter)
	return min(delay, s.cfg.MaxBackoff)
}

// deadLetter parks the outcome with the sink's name as code, so an
// operator can fix the sink and replay it.
func (s *Service) deadLetter(ctx context.Context, m jetstream.Msg, sk sink, r msg.Result, cause error) error {
	id := r.AccountID
	if !sfid.Valid(id) {
		id = "unknown"
	}
	err := bus.DeadLetter(context.WithoutCancel(ctx), s.js, m, msg.DeadLetter{
		AccountID: id, Stage: Stage, Code: sk.name(), CorrelationID: r.CorrelationID,
		Reason: "notification to " + sk.name() + " failed: " + cause.Error(),
	})
	if err != nil {
		return err
	}
	metrics.Notification(sk.name(), metrics.NotificationDeadLettered)
	return bus.Done(cause)
}
