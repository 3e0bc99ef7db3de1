package pubsub

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/status"

	"github.com/sfsap/sfsap/pkg/cdc"
	"github.com/sfsap/sfsap/pkg/logkey"
	pb "github.com/sfsap/sfsap/pkg/pubsub/eventbusv1"
)

// ReplayPreset is the start of a subscription without a replay id.
type ReplayPreset int

// Replay presets.
const (
	// ReplayLatest starts with the events published after the subscription
	// opens.
	ReplayLatest ReplayPreset = iota
	// ReplayEarliest starts with the oldest retained event.
	ReplayEarliest
)

func (p ReplayPreset) proto() pb.ReplayPreset {
	if p == ReplayEarliest {
		return pb.ReplayPreset_EARLIEST
	}
	return pb.ReplayPreset_LATEST
}

func (p ReplayPreset) String() string {
	if p == ReplayEarliest {
		return "EARLIEST"
	}
	return "LATEST"
}

// Event is one item of a subscription: a change event, or a keepalive
// that only moves the position forward.
type Event struct {
	// ReplayID is the position after this item: the event's replay id, or
	// the subscription's latest replay id for a keepalive. Store the bytes
	// unchanged to resume after it.
	ReplayID []byte
	// Keepalive marks a FetchResponse without events. Only ReplayID is
	// set. Subscribe delivers one only when the server still held credits,
	// so no event can sit between the last one delivered and ReplayID.
	Keepalive bool
	// ID and SchemaID are the ProducerEvent's id and schema id.
	ID       string
	SchemaID string
	// Payload is the event's Avro encoding as received.
	Payload []byte
	// Change is the decoded change event.
	Change cdc.Event
	// DecodeErr is set instead of Change when the payload cannot be
	// decoded, such as when its schema is unknown or does not match.
	DecodeErr error
}

// Subscribe receives the events of the configured topic and calls handler
// for each, in order, until ctx ends. replayID is the replay id to start
// after, as a previous Event.ReplayID gave it; nil starts at preset.
//
// The position advances only when handler returns nil. A handler error is
// logged and the same event is handed over again after a backoff, so
// events are never skipped. When the stream ends (the server closed it,
// the connection dropped, nothing arrived within StreamTimeout, or
// Salesforce rejected the token), Subscribe handles the events it already
// received and subscribes again after a backoff from the last position
// the handler accepted. A rejected token is reported to TokenRejected
// first.
//
// Subscribe returns ctx.Err() when ctx ends. It returns a
// *ReplayInvalidError when Salesforce rejects the replay id, and an *Error
// when Salesforce rejects the subscription for a reason that retrying
// cannot fix, such as an unknown topic.
func (c *Client) Subscribe(ctx context.Context, replayID []byte, preset ReplayPreset, handler func(ctx context.Context, ev Event) error) error {
	if handler == nil {
		return errors.New("pubsub: Subscribe needs a handler; pass a function that processes each event")
	}
	s := &subscription{
		client:   c,
		handler:  handler,
		preset:   preset,
		position: bytes.Clone(replayID),
	}

	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.failures > 0 {
			delay := c.backoff(s.failures - 1)
			c.log.Info("pubsub: subscribing again after backoff", "retry_in", delay, logkey.Attempt, s.failures)
			if err := c.sleep(ctx, delay); err != nil {
				return err
			}
		}

		err := s.run(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if invalid, ok := errors.AsType[*ReplayInvalidError](err); ok {
			c.log.Error("pubsub: replay id rejected; not retrying", logkey.ReplayID, hexID(invalid.ReplayID), logkey.Error, err)
			return err
		}
		if e, ok := errors.AsType[*Error](err); ok {
			switch {
			case e.authFailed():
				c.log.Warn("pubsub: token rejected; fetching a new one", logkey.Code, e.ErrorCode)
				c.rejectToken(s.token)
			case finalCode(e.Code):
				c.log.Error("pubsub: subscription rejected; not retrying", logkey.Error, err)
				return err
			}
		}
		if s.received {
			s.failures = 0
		}
		s.failures++
		c.log.Warn("pubsub: stream ended; subscribing again", logkey.ReplayID, hexID(s.position), logkey.Attempt, s.failures, logkey.Error, err)
	}
}

// subscription is the state of one Subscribe call across its streams.
type subscription struct {
	client  *Client
	handler func(ctx context.Context, ev Event) error
	preset  ReplayPreset

	// position is the replay id of the last item the handler accepted, or
	// nil until it accepted one when starting from the preset.
	position []byte
	// failures counts streams that failed since one last delivered
	// something. It sets the backoff before the next attempt.
	failures int
	// received reports whether the last stream received a FetchResponse.
	received bool
	// token is the access token of the current stream.
	token string
}

// item is one entry of the buffer between receiving and handling.
type item struct {
	event *pb.ConsumerEvent
	// keepalive is the latest_replay_id of a FetchResponse without events.
	keepalive []byte
}

// run opens one stream and hands its events to the handler until the
// stream ends. It returns why the stream ended.
func (s *subscription) run(ctx context.Context) error {
	c := s.client
	s.received = false
	token, err := c.cfg.TokenSource(ctx)
	if err != nil {
		return fmt.Errorf("getting access token: %w", err)
	}
	s.token = token

	streamCtx, cancel := context.WithCancel(c.outgoing(ctx, token))
	defer cancel()
	stream, err := c.api.Subscribe(streamCtx)
	if err != nil {
		return newError("Subscribe", err, nil)
	}
	first := &pb.FetchRequest{TopicName: c.cfg.TopicName, ReplayPreset: s.preset.proto()}
	start := bytes.Clone(s.position)
	if start != nil {
		first.ReplayPreset = pb.ReplayPreset_CUSTOM
		first.ReplayId = start
	}
	f := &flow{stream: stream, batch: c.cfg.BatchSize, buffer: c.cfg.BufferSize}
	if err := f.open(first); err != nil {
		if errors.Is(err, io.EOF) {
			// The server ended the stream; Recv returns its status.
			_, err = stream.Recv()
		}
		return s.streamError(stream, start, err)
	}
	c.log.Debug("pubsub: stream opened", logkey.ReplayID, hexID(start), "replay_preset", first.ReplayPreset.String())

	items := make(chan item, c.cfg.BufferSize)
	recvErr := make(chan error, 1)
	go s.receive(streamCtx, cancel, f, items, recvErr)

	for it := range items {
		if err := s.deliver(ctx, it); err != nil {
			cancel()
			for range items {
				// Drain, so the receiver can exit.
			}
			<-recvErr
			return err
		}
		if it.event != nil {
			f.handled()
		}
	}
	return s.streamError(stream, start, <-recvErr)
}

// receive reads FetchResponses into items until the stream ends, and
// requests more events while the buffer has room. It closes items and
// then sends why the stream ended to done.
func (s *subscription) receive(ctx context.Context, cancel context.CancelFunc, f *flow, items chan<- item, done chan<- error) {
	c := s.client
	defer close(items)
	var silent atomic.Bool
	watchdog := time.AfterFunc(c.cfg.StreamTimeout, func() {
		silent.Store(true)
		cancel()
	})
	defer watchdog.Stop()

	for {
		resp, err := f.stream.Recv()
		if err != nil {
			if silent.Load() {
				err = fmt.Errorf("no FetchResponse or keepalive within %s", c.cfg.StreamTimeout)
			}
			done <- err
			return
		}
		watchdog.Reset(c.cfg.StreamTimeout)
		s.received = true
		f.received(len(resp.GetEvents()))

		for _, ev := range resp.GetEvents() {
			select {
			case items <- item{event: ev}:
			case <-ctx.Done():
				done <- ctx.Err()
				return
			}
		}
		// A keepalive position is safe to store only when the server
		// still held credits: it had nothing more to send, so no event
		// lies between the last one sent and this position.
		if len(resp.GetEvents()) == 0 && len(resp.GetLatestReplayId()) > 0 && resp.GetPendingNumRequested() > 0 {
			select {
			case items <- item{keepalive: bytes.Clone(resp.GetLatestReplayId())}:
			default:
				// The buffer is full of events; a later keepalive will
				// carry the position.
			}
		}
		if err := f.topUp(); err != nil {
			c.log.Debug("pubsub: sending FetchRequest failed", logkey.Error, err)
		}
	}
}

// deliver hands one item to the handler, retrying with backoff until the
// handler accepts it. It returns an error only when ctx ends.
func (s *subscription) deliver(ctx context.Context, it item) error {
	c := s.client
	if it.keepalive != nil && bytes.Equal(it.keepalive, s.position) {
		return nil
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, c.backoff(attempt-1)); err != nil {
				return err
			}
		}
		ev, err := s.event(ctx, it)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.log.Warn("pubsub: fetching event schema failed; retrying", logkey.ReplayID, hexID(ev.ReplayID), logkey.Attempt, attempt+1, logkey.Error, err)
			continue
		}
		err = s.handler(ctx, ev)
		if err == nil {
			s.position = ev.ReplayID
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c.log.Warn("pubsub: handler failed; retrying the event", logkey.ReplayID, hexID(ev.ReplayID), logkey.Attempt, attempt+1, logkey.Error, err)
	}
}

// event builds the Event of an item. It returns an error only when
// fetching the schema failed for a reason that may pass, so the caller
// retries. A payload that cannot be decoded yields an Event with
// DecodeErr.
func (s *subscription) event(ctx context.Context, it item) (Event, error) {
	if it.event == nil {
		return Event{ReplayID: it.keepalive, Keepalive: true}, nil
	}
	producer := it.event.GetEvent()
	ev := Event{
		ReplayID: bytes.Clone(it.event.GetReplayId()),
		ID:       producer.GetId(),
		SchemaID: producer.GetSchemaId(),
		Payload:  producer.GetPayload(),
	}
	schema, err := s.client.Schema(ctx, ev.SchemaID)
	if e, ok := errors.AsType[*Error](err); ok && finalCode(e.Code) {
		ev.DecodeErr = err
		return ev, nil
	}
	if err != nil {
		return ev, err
	}
	ev.Change, ev.DecodeErr = schema.DecodeEvent(ev.Payload)
	return ev, nil
}

// streamError converts why a stream ended to the error run returns.
func (s *subscription) streamError(stream pb.PubSub_SubscribeClient, start []byte, err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("Subscribe stream ended by the server without a status")
	}
	if _, ok := status.FromError(err); !ok {
		return err
	}
	e := newError("Subscribe", err, stream.Trailer())
	if e.ErrorCode == ErrorCodeReplayCorrupted {
		return &ReplayInvalidError{Topic: s.client.cfg.TopicName, ReplayID: start, Err: e}
	}
	return e
}

// flow tracks the credits of one stream and sends FetchRequests. The
// receiver and the handler both call it, so it serialises Send.
type flow struct {
	mu     sync.Mutex
	stream pb.PubSub_SubscribeClient
	batch  int
	buffer int
	// outstanding is the number of events requested and not yet received.
	outstanding int
	// buffered is the number of events received and not yet handled.
	buffered int
}

func (f *flow) open(first *pb.FetchRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	first.NumRequested = int32(f.batch)
	f.outstanding = f.batch
	return f.stream.Send(first)
}

func (f *flow) received(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outstanding = max(f.outstanding-n, 0)
	f.buffered += n
}

func (f *flow) handled() {
	f.mu.Lock()
	f.buffered--
	f.mu.Unlock()
	_ = f.topUp() // A failed Send also ends Recv, which reports the cause.
}

// topUp requests more events once half the requested ones have arrived,
// so the server does not run out of credits while the handler keeps up.
// It requests no more than the buffer can hold.
func (f *flow) topUp() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.outstanding > f.batch/2 {
		return nil
	}
	n := min(f.batch-f.outstanding, f.buffer-f.buffered-f.outstanding)
	if n <= 0 {
		return nil
	}
	if err := f.stream.Send(&pb.FetchRequest{NumRequested: int32(n)}); err != nil {
		return err
	}
	f.outstanding += n
	return nil
}

// backoff returns the delay before retry number attempt (0 for the first
// retry): RetryBaseDelay doubled per attempt and capped at RetryMaxDelay,
// less a random jitter of up to half, so that many clients do not retry in
// step.
func (c *Client) backoff(attempt int) time.Duration {
	delay := c.cfg.RetryBaseDelay
	for range attempt {
		if delay > c.cfg.RetryMaxDelay/2 {
			delay = c.cfg.RetryMaxDelay
			break
		}
		delay *= 2
	}
	delay = min(delay, c.cfg.RetryMaxDelay)
	return delay - rand.N(delay/2+1)
}

// hexID formats a replay id for logs.
func hexID(id []byte) string {
	return hex.EncodeToString(id)
}
