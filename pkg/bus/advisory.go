package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/msg"
)

// StreamAdvisories captures the JetStream advisories about messages that
// a work consumer gave up on, so that none of them sits unseen.
const StreamAdvisories = "SFSAP_ADVISORIES"

// ConsumerDLQMover is the durable consumer that moves messages named by
// MAX_DELIVERIES advisories to the dead-letter stream.
const ConsumerDLQMover = "dlqmover"

// Subject prefixes of the consumer advisories the server publishes. The
// stream and consumer names follow as two more tokens.
const (
	AdvisoryMaxDeliveriesPrefix = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
	AdvisoryTerminatedPrefix    = "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED"
)

// Advisory types, as in the advisory's "type" field.
const (
	AdvisoryTypeMaxDeliveries = "io.nats.jetstream.advisory.v1.max_deliver"
	AdvisoryTypeTerminated    = "io.nats.jetstream.advisory.v1.terminated"
)

// ReasonMaxDeliveries is the dead-letter reason of a message that was
// delivered MaxDeliver times without being acknowledged or terminated.
const ReasonMaxDeliveries = "max deliveries reached"

// workStreams are the streams whose consumers hand out work, with the
// stage that consumes each.
var workStreams = []struct{ stream, stage string }{
	{StreamCDC, StageFilter},
	{StreamSAPJobs, StageSAPWorker},
	{StreamWriteback, StageWriteback},
}

// Advisory is a MAX_DELIVERIES or MSG_TERMINATED advisory: the server
// gave up on one message of a consumer, or a handler terminated it.
type Advisory struct {
	Type        string    `json:"type"`
	ID          string    `json:"id"`
	Time        time.Time `json:"timestamp"`
	Stream      string    `json:"stream"`
	Consumer    string    `json:"consumer"`
	StreamSeq   uint64    `json:"stream_seq"`
	ConsumerSeq uint64    `json:"consumer_seq,omitempty"`
	Deliveries  uint64    `json:"deliveries"`
	// Reason is the reason given with a terminate, if any.
	Reason string `json:"reason,omitempty"`
}

// DecodeAdvisory decodes a consumer advisory. It rejects advisories of
// other types and those without a stream sequence.
func DecodeAdvisory(data []byte) (Advisory, error) {
	var a Advisory
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("decoding consumer advisory: %w", err)
	}
	if a.Type != AdvisoryTypeMaxDeliveries && a.Type != AdvisoryTypeTerminated {
		return a, fmt.Errorf("decoding consumer advisory: type %q is neither %s nor %s", a.Type, AdvisoryTypeMaxDeliveries, AdvisoryTypeTerminated)
	}
	if a.Stream == "" || a.StreamSeq == 0 {
		return a, fmt.Errorf("decoding consumer advisory %s: stream %q or stream_seq %d missing", a.ID, a.Stream, a.StreamSeq)
	}
	return a, nil
}

// StageOfStream returns the stage that consumes a work stream, or "" for
// other streams.
func StageOfStream(stream string) string {
	for _, w := range workStreams {
		if w.stream == stream {
			return w.stage
		}
	}
	return ""
}

// AccountOfSubject returns the Account id token of an sfsap subject, such
// as sfsap.sap.create.<id> or sfsap.cdc.account.<id>.UPDATE, or "" when
// the subject has none.
func AccountOfSubject(subject string) string {
	tokens := strings.Split(subject, ".")
	if len(tokens) < 4 || tokens[0] != "sfsap" {
		return ""
	}
	return tokens[3]
}

// advisoryStream returns the configuration of the advisory stream. Each
// work stream needs its own pair of subjects, because a wildcard must
// stand for a whole token.
func advisoryStream(t Topology) jetstream.StreamConfig {
	var subjects []string
	for _, w := range workStreams {
		subjects = append(subjects,
			AdvisoryMaxDeliveriesPrefix+"."+w.stream+".*",
			AdvisoryTerminatedPrefix+"."+w.stream+".*")
	}
	return jetstream.StreamConfig{
		Name:        StreamAdvisories,
		Description: "Advisories of messages a work consumer gave up on (max deliveries) or terminated",
		Subjects:    subjects,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      30 * 24 * time.Hour,
		Storage:     jetstream.FileStorage,
		Replicas:    t.Replicas,
	}
}

// dlqMoverConsumer returns the configuration of the consumer that reads
// the advisory stream.
func dlqMoverConsumer(t Topology) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       ConsumerDLQMover,
		Description:   "reconciler: moves messages that reached max deliveries to the dead-letter stream",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       t.AckWait,
		MaxDeliver:    t.MaxDeliver,
		MaxAckPending: 64,
	}
}

// DeadLetterStored publishes a dead letter for a message that consumer
// gave up on, read from stream by sequence, as the dead-letter mover does.
// It uses the same msg id as DeadLetter, so a message that its handler
// dead-lettered just before it crashed is stored once within the
// dead-letter stream's duplicate window.
func DeadLetterStored(ctx context.Context, js jetstream.JetStream, stream, consumer string, m *jetstream.RawStreamMsg, dl msg.DeadLetter) error {
	dl.Schema = msg.SchemaDeadLetter
	if dl.At.IsZero() {
		dl.At = time.Now().UTC()
	}
	dl.Subject = m.Subject
	dl.Data = json.RawMessage(m.Data)
	if !json.Valid(dl.Data) {
		quoted, _ := json.Marshal(string(m.Data))
		dl.Data = quoted
	}
	hdr := nats.Header{}
	if c := m.Header.Get(HeaderCorrelation); c != "" && dl.CorrelationID == "" {
		dl.CorrelationID = c
	}
	if dl.CorrelationID != "" {
		hdr.Set(HeaderCorrelation, dl.CorrelationID)
	}
	msgID := fmt.Sprintf("dlq.%s.%s.%d", stream, consumer, m.Sequence)
	_, err := Publish(ctx, js, DeadLetterSubject(dl.Stage, dl.AccountID), dl, msgID, hdr)
	return err
}
