package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/tracing"
	"github.com/sfsap/sfsap/test/natstest"
)

func TestRunHandlerContinuesTrace(t *testing.T) {
	t.Parallel()
	b, cons := consumer(t)
	root, span := tracing.StartRoot(context.Background(), "test root")
	defer span.End()
	if _, err := bus.Publish(root, b.JS, bus.WritebackSubject(acct), map[string]int{"i": 1}, "", nil); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	got := make(chan [2]string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = bus.Run(ctx, cons, bus.RunOptions{Name: "test"}, func(hctx context.Context, m jetstream.Msg) error {
			got <- [2]string{tracing.TraceID(hctx), tracing.TraceIDFromHeader(m.Headers())}
			return nil
		})
	}()

	var ids [2]string
	select {
	case ids = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("handler not called within 30s")
	}
	want := tracing.TraceID(root)
	if ids[1] != want {
		t.Errorf("message traceparent has trace id %q, want the publisher's %q", ids[1], want)
	}
	if ids[0] != want {
		t.Errorf("handler context has trace id %q, want the publisher's %q", ids[0], want)
	}
}

func TestPublishWithoutSpanStartsTrace(t *testing.T) {
	t.Parallel()
	b := natstest.Start(t, bus.Topology{})
	if _, err := bus.Publish(context.Background(), b.JS, bus.WritebackSubject(acct), map[string]int{"i": 1}, "", nil); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	stream, err := b.JS.Stream(context.Background(), bus.StreamWriteback)
	if err != nil {
		t.Fatalf("opening stream %s: %v", bus.StreamWriteback, err)
	}
	m, err := stream.GetLastMsgForSubject(context.Background(), bus.WritebackSubject(acct))
	if err != nil {
		t.Fatalf("reading message back: %v", err)
	}
	if id := tracing.TraceIDFromHeader(m.Header); id == "" {
		t.Fatalf("message header %v has no trace id, want a new trace", m.Header)
	}
}

// TestDeadLetterPerConsumer checks that two consumers of one stream can
// each dead-letter the same message, while one consumer dead-lettering it
// twice stores it once.
func TestDeadLetterPerConsumer(t *testing.T) {
	t.Parallel()
	b := natstest.Start(t, bus.Topology{})
	ctx := context.Background()
	res := msg.Result{Schema: msg.SchemaResult, AccountID: acct, Outcome: msg.OutcomeFailed, Stage: bus.StageWriteback, At: time.Now().UTC()}
	if _, err := bus.Publish(ctx, b.JS, bus.ResultSubject(msg.OutcomeFailed, acct), res, "", nil); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	for _, name := range []string{"first", "second"} {
		cons, err := b.JS.CreateOrUpdateConsumer(ctx, bus.StreamResults, jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatalf("creating consumer %s: %v", name, err)
		}
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			t.Fatalf("fetching from %s: %v", name, err)
		}
		for m := range batch.Messages() {
			for range 2 {
				if err := bus.DeadLetter(ctx, b.JS, m, msg.DeadLetter{AccountID: acct, Stage: bus.StageWriteback, Reason: "test"}); err != nil {
					t.Fatalf("DeadLetter from %s: %v", name, err)
				}
			}
		}
	}

	info, err := b.JS.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		t.Fatalf("opening stream %s: %v", bus.StreamDLQ, err)
	}
	if n := info.CachedInfo().State.Msgs; n != 2 {
		t.Fatalf("dead-letter stream holds %d messages, want 2 (one per consumer)", n)
	}
}
