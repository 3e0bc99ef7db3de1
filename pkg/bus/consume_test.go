package bus_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/test/natstest"
)

const acct = "001Hx00000ABcDeIAL"

// consumer returns the writeback consumer with fast redelivery.
func consumer(t *testing.T) (*natstest.Bundle, jetstream.Consumer) {
	t.Helper()
	b := natstest.Start(t, bus.Topology{AckWait: 2 * time.Second})
	cons, err := b.JS.Consumer(context.Background(), bus.StreamWriteback, bus.ConsumerWriteback)
	if err != nil {
		t.Fatalf("opening consumer: %v", err)
	}
	return b, cons
}

func publish(t *testing.T, b *natstest.Bundle, n int) {
	t.Helper()
	for i := range n {
		if _, err := bus.Publish(context.Background(), b.JS, bus.WritebackSubject(acct), map[string]int{"i": i}, "", nil); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}
}

func TestRunAcksRetriesAndTerminates(t *testing.T) {
	t.Parallel()
	b, cons := consumer(t)
	publish(t, b, 3)

	var calls sync.Map // stream sequence -> deliveries
	var acked, termed atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- bus.Run(ctx, cons, bus.RunOptions{Name: "test", Concurrency: 2}, func(_ context.Context, m jetstream.Msg) error {
			meta, _ := m.Metadata()
			n, _ := calls.LoadOrStore(meta.Sequence.Stream, new(atomic.Int32))
			count := n.(*atomic.Int32).Add(1)
			switch meta.Sequence.Stream {
			case 1:
				acked.Add(1)
				return nil
			case 2:
				if count == 1 {
					return bus.Retry(errors.New("try again"), 10*time.Millisecond)
				}
				acked.Add(1)
				return nil
			default:
				termed.Add(1)
				return bus.Done(errors.New("give up"))
			}
		})
	}()

	deadline := time.Now().Add(20 * time.Second)
	for acked.Load() < 2 || termed.Load() < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("acked %d, terminated %d; want 2 and 1", acked.Load(), termed.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 {
		t.Errorf("pending %d, ack pending %d after the loop; want 0 and 0", info.NumPending, info.NumAckPending)
	}
	n, _ := calls.Load(uint64(2))
	if got := n.(*atomic.Int32).Load(); got != 2 {
		t.Errorf("retried message handled %d times, want 2", got)
	}
	n, _ = calls.Load(uint64(3))
	if got := n.(*atomic.Int32).Load(); got != 1 {
		t.Errorf("terminated message handled %d times, want 1", got)
	}
}

func TestRunFinishesInFlightWorkOnStop(t *testing.T) {
	t.Parallel()
	b, cons := consumer(t)
	publish(t, b, 1)

	started := make(chan struct{})
	var finished atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- bus.Run(ctx, cons, bus.RunOptions{Name: "test", Grace: 10 * time.Second}, func(hctx context.Context, _ jetstream.Msg) error {
			close(started)
			select {
			case <-time.After(300 * time.Millisecond):
				finished.Store(true)
				return nil
			case <-hctx.Done():
				return hctx.Err()
			}
		})
	}()
	<-started
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !finished.Load() {
		t.Fatal("handler was cut off by the stop, want it to finish within the grace period")
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumAckPending != 0 || info.NumPending != 0 {
		t.Errorf("after stop: ack pending %d, pending %d; want the finished message acked", info.NumAckPending, info.NumPending)
	}
}

func TestPublishReportsPendingJob(t *testing.T) {
	t.Parallel()
	b := natstest.Start(t, bus.Topology{})
	ctx := context.Background()
	if _, err := bus.Publish(ctx, b.JS, bus.CreateJobSubject(acct), map[string]string{"a": "1"}, "", nil); err != nil {
		t.Fatalf("first Publish: %v", err)
	}
	_, err := bus.Publish(ctx, b.JS, bus.CreateJobSubject(acct), map[string]string{"a": "2"}, "", nil)
	if !errors.Is(err, bus.ErrAlreadyPending) {
		t.Fatalf("second job for the same account: err = %v, want ErrAlreadyPending", err)
	}
	if _, err := bus.Publish(ctx, b.JS, bus.CreateJobSubject("001Hx00000QrStUIAV"), map[string]string{"a": "3"}, "", nil); err != nil {
		t.Fatalf("job for another account: %v", err)
	}
}

func TestEnsureIsIdempotent(t *testing.T) {
	t.Parallel()
	b := natstest.Start(t, bus.Topology{})
	for range 2 {
		if err := bus.Ensure(context.Background(), b.JS, bus.Topology{}); err != nil {
			t.Fatalf("Ensure again: %v", err)
		}
	}
	names := b.JS.StreamNames(context.Background())
	var got []string
	for n := range names.Name() {
		got = append(got, n)
	}
	topo := bus.Topology{}
	if want := len(topo.Streams()) + len(topo.Buckets()); len(got) != want {
		t.Errorf("streams after repeated Ensure: %v, want %d (every stream and bucket once)", got, want)
	}
}
