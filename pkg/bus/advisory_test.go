package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/test/natstest"
)

// nextAdvisory reads the advisory stream from seq until one arrives.
func nextAdvisory(t *testing.T, b *natstest.Bundle, seq uint64) bus.Advisory {
	t.Helper()
	ctx := context.Background()
	stream, err := b.JS.Stream(ctx, bus.StreamAdvisories)
	if err != nil {
		t.Fatalf("opening stream %s: %v", bus.StreamAdvisories, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		raw, err := stream.GetMsg(ctx, seq)
		if err == nil {
			a, err := bus.DecodeAdvisory(raw.Data)
			if err != nil {
				t.Fatalf("DecodeAdvisory(%s): %v", raw.Data, err)
			}
			return a
		}
		if !errors.Is(err, jetstream.ErrMsgNotFound) {
			t.Fatalf("reading advisory %d: %v", seq, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no advisory %d within 30s", seq)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAdvisoriesAreCaptured(t *testing.T) {
	t.Parallel()
	b := natstest.Start(t, bus.Topology{MaxDeliver: 2, SAPAckWait: time.Second})
	ctx := context.Background()
	cons, err := b.JS.Consumer(ctx, bus.StreamSAPJobs, bus.ConsumerSAPWorker)
	if err != nil {
		t.Fatalf("opening consumer: %v", err)
	}
	for _, id := range []string{acct, "001Hx00000QrStUIAV"} {
		if _, err := bus.Publish(ctx, b.JS, bus.CreateJobSubject(id), map[string]string{"account_id": id}, "", nil); err != nil {
			t.Fatalf("Publish: %v", err)
		}
	}

	// The first job is terminated, the second naked until it runs out of
	// deliveries.
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- bus.Run(runCtx, cons, bus.RunOptions{Name: "test"}, func(_ context.Context, m jetstream.Msg) error {
			if bus.AccountOfSubject(m.Subject()) == acct {
				return bus.Done(errors.New("bad data"))
			}
			return bus.Retry(errors.New("try again"), 10*time.Millisecond)
		})
	}()
	first := nextAdvisory(t, b, 1)
	second := nextAdvisory(t, b, 2)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	got := map[string]bus.Advisory{first.Type: first, second.Type: second}
	term, ok := got[bus.AdvisoryTypeTerminated]
	if !ok {
		t.Fatalf("no terminated advisory among %+v", got)
	}
	if term.Stream != bus.StreamSAPJobs || term.Consumer != bus.ConsumerSAPWorker || term.StreamSeq != 1 || term.Reason != "bad data" {
		t.Errorf("terminated advisory = %+v, want stream %s consumer %s seq 1 reason %q", term, bus.StreamSAPJobs, bus.ConsumerSAPWorker, "bad data")
	}
	maxed, ok := got[bus.AdvisoryTypeMaxDeliveries]
	if !ok {
		t.Fatalf("no max deliveries advisory among %+v", got)
	}
	if maxed.StreamSeq != 2 || maxed.Deliveries < 2 {
		t.Errorf("max deliveries advisory = %+v, want seq 2 after at least 2 deliveries", maxed)
	}

	// The exhausted job stays in the work queue until someone moves it.
	stream, err := b.JS.Stream(ctx, bus.StreamSAPJobs)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stream.GetMsg(ctx, maxed.StreamSeq)
	if err != nil {
		t.Fatalf("GetMsg(%d) after max deliveries: %v, want the message still stored", maxed.StreamSeq, err)
	}
	if err := bus.DeadLetterStored(ctx, b.JS, maxed.Stream, maxed.Consumer, raw, msg.DeadLetter{
		AccountID: bus.AccountOfSubject(raw.Subject), Stage: bus.StageOfStream(maxed.Stream), Reason: bus.ReasonMaxDeliveries, Attempts: int(maxed.Deliveries),
	}); err != nil {
		t.Fatalf("DeadLetterStored: %v", err)
	}
	// A second copy is dropped as a duplicate.
	if err := bus.DeadLetterStored(ctx, b.JS, maxed.Stream, maxed.Consumer, raw, msg.DeadLetter{
		AccountID: bus.AccountOfSubject(raw.Subject), Stage: bus.StageOfStream(maxed.Stream), Reason: bus.ReasonMaxDeliveries,
	}); err != nil {
		t.Fatalf("DeadLetterStored again: %v", err)
	}
	dlq, err := b.JS.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dlq.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("dead-letter stream holds %d messages, want 1", info.State.Msgs)
	}
	stored, err := dlq.GetMsg(ctx, info.State.FirstSeq)
	if err != nil {
		t.Fatal(err)
	}
	if want := bus.DeadLetterSubject(bus.StageSAPWorker, "001Hx00000QrStUIAV"); stored.Subject != want {
		t.Errorf("dead letter subject = %s, want %s", stored.Subject, want)
	}
	var dl msg.DeadLetter
	if err := json.Unmarshal(stored.Data, &dl); err != nil {
		t.Fatal(err)
	}
	if dl.Reason != bus.ReasonMaxDeliveries || dl.Subject != raw.Subject || string(dl.Data) != string(raw.Data) {
		t.Errorf("dead letter = %+v, want reason %q and the original %s %s", dl, bus.ReasonMaxDeliveries, raw.Subject, raw.Data)
	}
}

func TestSubjectHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		subject, account string
	}{
		{bus.CreateJobSubject(acct), acct},
		{bus.CDCSubject(acct, "UPDATE"), acct},
		{bus.WritebackSubject(acct), acct},
		{bus.DeadLetterSubject("sapworker", acct), acct},
		{"sfsap.result", ""},
		{"other.sap.create." + acct, ""},
	}
	for _, tt := range tests {
		if got := bus.AccountOfSubject(tt.subject); got != tt.account {
			t.Errorf("AccountOfSubject(%q) = %q, want %q", tt.subject, got, tt.account)
		}
	}
	stages := map[string]string{bus.StreamCDC: bus.StageFilter, bus.StreamSAPJobs: bus.StageSAPWorker, bus.StreamWriteback: bus.StageWriteback, bus.StreamDLQ: ""}
	for stream, want := range stages {
		if got := bus.StageOfStream(stream); got != want {
			t.Errorf("StageOfStream(%s) = %q, want %q", stream, got, want)
		}
	}
}

func TestDecodeAdvisoryRejectsOtherTypes(t *testing.T) {
	t.Parallel()
	for _, data := range []string{
		`{"type":"io.nats.jetstream.advisory.v1.nak","stream":"S","stream_seq":1}`,
		`{"type":"io.nats.jetstream.advisory.v1.max_deliver","stream":"S"}`,
		`not json`,
	} {
		if _, err := bus.DecodeAdvisory([]byte(data)); err == nil {
			t.Errorf("DecodeAdvisory(%s) = nil error, want one", data)
		}
	}
}

func TestStoppingFollowsRunContext(t *testing.T) {
	t.Parallel()
	b, cons := consumer(t)
	publish(t, b, 1)

	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	stopping := make(chan bool, 1)
	done := make(chan error, 1)
	go func() {
		done <- bus.Run(ctx, cons, bus.RunOptions{Name: "test", Grace: 30 * time.Second}, func(hctx context.Context, _ jetstream.Msg) error {
			before := bus.Stopping(hctx)
			close(started)
			<-ctx.Done()
			stopping <- !before && bus.Stopping(hctx) && hctx.Err() == nil
			return nil
		})
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("handler not called within 30s")
	}
	cancel()
	if ok := <-stopping; !ok {
		t.Error("Stopping was true before shutdown, or false (or the context ended) during the grace period")
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if bus.Stopping(context.Background()) {
		t.Error("Stopping(background) = true, want false")
	}
}
