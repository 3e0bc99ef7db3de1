package operator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// stored is one message read from a stream.
type stored struct {
	Seq     uint64
	Time    time.Time
	Subject string
	Header  nats.Header
	Data    []byte
}

// readFrom selects where reading a stream starts.
type readFrom struct {
	seq  uint64
	time time.Time
}

// readStream returns the messages of stream that match any of filters,
// from the start position to the last message stored when the read began.
// It reads through an ordered consumer, so the server does the filtering.
func readStream(ctx context.Context, js jetstream.JetStream, stream string, filters []string, from readFrom) ([]stored, error) {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", stream, err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 || from.seq > last {
		return nil, nil
	}

	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: filters, DeliverPolicy: jetstream.DeliverAllPolicy}
	switch {
	case from.seq > 0:
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = from.seq
	case !from.time.IsZero():
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		t := from.time
		cfg.OptStartTime = &t
	}
	cons, err := js.OrderedConsumer(ctx, stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", stream, err)
	}
	cinfo, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", stream, err)
	}
	if cinfo.NumPending == 0 {
		return nil, nil
	}

	var out []stored
	for {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return out, fmt.Errorf("reading stream %s: %w", stream, err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				return out, fmt.Errorf("reading stream %s: %w", stream, err)
			}
			if meta.Sequence.Stream > last {
				return out, nil
			}
			out = append(out, stored{Seq: meta.Sequence.Stream, Time: meta.Timestamp, Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
			if meta.NumPending == 0 || meta.Sequence.Stream == last {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			return out, fmt.Errorf("reading stream %s: %w", stream, err)
		}
		if got == 0 {
			// Nothing arrived although messages were pending: they were
			// deleted while reading.
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
	}
}
