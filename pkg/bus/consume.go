package bus

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/tracing"
)

// RetryError makes the consumer loop redeliver the message after a delay.
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }
func (e *RetryError) Unwrap() error { return e.Err }

// Retry wraps err so the message is redelivered after the given delay.
func Retry(err error, after time.Duration) error { return &RetryError{Err: err, After: after} }

// DoneError marks a failure that the handler has dealt with for good,
// usually by dead-lettering it. The consumer loop terminates the message,
// so it is never redelivered.
type DoneError struct{ Err error }

func (e *DoneError) Error() string { return e.Err.Error() }
func (e *DoneError) Unwrap() error { return e.Err }

// Done wraps err so the message is terminated.
func Done(err error) error { return &DoneError{Err: err} }

// RunOptions configure a consumer loop.
type RunOptions struct {
	// Name prefixes log messages. Required.
	Name string
	// Concurrency is the number of messages handled at once. Defaults to 1.
	Concurrency int
	// Grace is how long in-flight handlers may run after the loop's context
	// ends. Handlers still running then see their context cancelled.
	// Defaults to 10s.
	Grace time.Duration
	// Backoff returns the redelivery delay for a plain error on the given
	// delivery (1 on the first). Defaults to DefaultBackoff.
	Backoff func(delivery uint64) time.Duration
	// FetchWait bounds one pull request. Defaults to 1s.
	FetchWait time.Duration
	Logger    *slog.Logger
}

// DefaultBackoff waits 1s, 5s, 15s, 30s, 1m, then 2m for each redelivery.
func DefaultBackoff(delivery uint64) time.Duration {
	steps := []time.Duration{time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute}
	if delivery >= 1 && int(delivery) <= len(steps) {
		return steps[delivery-1]
	}
	return 2 * time.Minute
}

func (o RunOptions) withDefaults() RunOptions {
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.Grace <= 0 {
		o.Grace = 10 * time.Second
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.FetchWait <= 0 {
		o.FetchWait = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Handler processes one message. Returning nil acks it; a *RetryError or
// any other error naks it with a delay; a *DoneError terminates it.
type Handler func(ctx context.Context, m jetstream.Msg) error

// BatchHandler processes a batch of messages and must ack, nak or
// terminate each one itself, for example with Settle. To continue each
// message's trace, it starts a span per message with
// tracing.StartConsumer.
type BatchHandler func(ctx context.Context, ms []jetstream.Msg)

// Run pulls messages from cons and calls h for each, with up to
// Concurrency handlers at once, until ctx ends. Then it stops pulling and
// waits up to Grace for in-flight handlers before it returns. Only the
// messages it fetched are in flight, so nothing is left buffered. Each
// handler's context carries a span that continues the trace of the
// message's traceparent header.
func Run(ctx context.Context, cons jetstream.Consumer, opts RunOptions, h Handler) error {
	opts = opts.withDefaults()
	hctx, cancel := graceContext(ctx, opts.Grace)
	defer cancel()

	slots := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		// Fetch only as many messages as there are free handlers.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		free := 1
	claim:
		for free < opts.Concurrency {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break claim
			}
		}
		ms := fetch(ctx, cons, opts, free)
		for range free - len(ms) {
			<-slots
		}
		for _, m := range ms {
			wg.Go(func() {
				defer func() { <-slots }()
				mctx, span := tracing.StartConsumer(hctx, m.Headers(), opts.Name, m.Subject())
				err := h(mctx, m)
				Settle(mctx, m, err, opts)
				tracing.End(span, err)
			})
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// RunBatches is Run for handlers that work on batches of up to maxBatch
// messages, such as a filter that reads many records in one query.
func RunBatches(ctx context.Context, cons jetstream.Consumer, opts RunOptions, maxBatch int, h BatchHandler) error {
	return runBatches(ctx, cons, opts.withDefaults(), maxBatch, h)
}

func runBatches(ctx context.Context, cons jetstream.Consumer, opts RunOptions, maxBatch int, h BatchHandler) error {
	hctx, cancel := graceContext(ctx, opts.Grace)
	defer cancel()

	slots := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		ms := fetch(ctx, cons, opts, maxBatch)
		if len(ms) == 0 {
			<-slots
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			h(hctx, ms)
		})
	}
}

type stoppingKey struct{}

// Stopping reports whether the consumer loop that passed ctx to a handler
// is shutting down. A handler should then start no new slow work, such as
// an SAP create, and release what it holds instead.
func Stopping(ctx context.Context) bool {
	done, _ := ctx.Value(stoppingKey{}).(<-chan struct{})
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// graceContext returns a context for handlers that outlives ctx by grace,
// so in-flight work can finish after a shutdown signal.
func graceContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	hctx, cancel := context.WithCancel(context.WithValue(context.WithoutCancel(ctx), stoppingKey{}, ctx.Done()))
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(grace, cancel)
	})
	return hctx, func() {
		stop()
		cancel()
	}
}

// fetch returns up to n messages: those available at once, or else the
// first one to arrive within FetchWait together with any that are then
// available. It never holds a pull request open past what it returns.
// Messages that arrive after ctx ended are handed back with a nak.
func fetch(ctx context.Context, cons jetstream.Consumer, opts RunOptions, n int) []jetstream.Msg {
	ms, err := collect(cons.FetchNoWait(n))
	if err == nil && len(ms) == 0 {
		ms, err = collect(cons.Fetch(1, jetstream.FetchMaxWait(opts.FetchWait)))
		if err == nil && len(ms) == 1 && n > 1 {
			var more []jetstream.Msg
			more, err = collect(cons.FetchNoWait(n - 1))
			ms = append(ms, more...)
		}
	}
	if err != nil && ctx.Err() == nil {
		opts.Logger.Warn(opts.Name+": fetching messages failed", "error", err)
		sleep(ctx, time.Second)
	}
	if ctx.Err() != nil {
		for _, m := range ms {
			_ = m.Nak()
		}
		return nil
	}
	return ms
}

func collect(batch jetstream.MessageBatch, err error) ([]jetstream.Msg, error) {
	if err != nil {
		return nil, err
	}
	var ms []jetstream.Msg
	for m := range batch.Messages() {
		ms = append(ms, m)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
		return ms, err
	}
	return ms, nil
}

// Settle acks, naks or terminates m according to the handler's result.
func Settle(ctx context.Context, m jetstream.Msg, err error, opts RunOptions) {
	opts = opts.withDefaults()
	var retry *RetryError
	var done *DoneError
	switch {
	case err == nil:
		metrics.Handled(opts.Name, metrics.HandledAck)
		if aerr := m.DoubleAck(ctx); aerr != nil {
			opts.Logger.Warn(opts.Name+": ack failed; the message will be redelivered", "subject", m.Subject(), "error", aerr)
		}
	case errors.As(err, &done):
		metrics.Handled(opts.Name, metrics.HandledTerm)
		_ = m.TermWithReason(truncate(done.Error(), 200))
	case errors.As(err, &retry):
		metrics.Handled(opts.Name, metrics.HandledRetry)
		_ = m.NakWithDelay(retry.After)
	default:
		metrics.Handled(opts.Name, metrics.HandledNak)
		delivery := uint64(1)
		if meta, merr := m.Metadata(); merr == nil {
			delivery = meta.NumDelivered
		}
		delay := opts.Backoff(delivery)
		opts.Logger.Warn(opts.Name+": handling failed; redelivering", "subject", m.Subject(), "attempt", delivery, "retry_in", delay, "error", err)
		_ = m.NakWithDelay(delay)
	}
}

// KeepAlive sends in-progress acks for m every interval until the returned
// stop function is called, so a slow handler keeps its message.
func KeepAlive(m jetstream.Msg, every time.Duration) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = m.InProgress()
			case <-done:
				return
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
