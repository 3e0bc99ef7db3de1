package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/sfsap/sfsap/pkg/metrics"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/tracing"
)

// Header names sfsap sets on its messages.
const (
	// HeaderCorrelation carries the id that ties every message, ledger entry
	// and Salesforce status of one sync together.
	HeaderCorrelation = "Sfsap-Correlation-Id"
	// HeaderSchema repeats the message's schema id, so tools can route
	// without decoding.
	HeaderSchema = "Sfsap-Schema"
	// HeaderReplayOf marks a change event that an operator replayed, with
	// the stream sequence of the original. The filter checks a replayed
	// conversion against the current record instead of the last-seen Type.
	HeaderReplayOf = "Sfsap-Replay-Of"
)

// ErrAlreadyPending is returned by Publish when the stream already holds a
// message for the subject and allows only one, as the SAP job stream does.
var ErrAlreadyPending = errors.New("bus: a message for this subject is already pending")

// Publish encodes v as JSON and publishes it to subject, waiting for the
// stream's acknowledgement. A non-empty msgID makes JetStream drop
// duplicates within the stream's duplicate window. The message's
// traceparent header continues the trace in ctx, or starts a new one. It
// returns ErrAlreadyPending when a per-subject limit rejects the message.
func Publish(ctx context.Context, js jetstream.JetStream, subject string, v any, msgID string, header nats.Header) (*jetstream.PubAck, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding message for %s: %w", subject, err)
	}
	m := nats.NewMsg(subject)
	m.Data = data
	for k, vs := range header {
		for _, v := range vs {
			m.Header.Add(k, v)
		}
	}
	if s := schemaOf(v); s != "" {
		m.Header.Set(HeaderSchema, s)
	}

	ctx, span := tracing.StartPublish(ctx, subject)
	defer span.End()
	tracing.Inject(ctx, m.Header)

	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	// Retry a publish that found no responder (a server restarting or a
	// leader moving); the msg id keeps the retries from duplicating.
	opts = append(opts, jetstream.WithRetryAttempts(5), jetstream.WithRetryWait(250*time.Millisecond))
	ack, err := js.PublishMsg(ctx, m, opts...)

	if err != nil {
		if isPerSubjectLimit(err) {
			return nil, ErrAlreadyPending
		}
		tracing.End(span, err)
		return nil, fmt.Errorf("publishing to %s: %w", subject, err)
	}
	if !ack.Duplicate {
		countPublished(subject)
	}
	return ack, nil
}

// countPublished updates the generic message counters, and the dead-letter
// counter for subjects under sfsap.dlq.
func countPublished(subject string) {
	kind := tracing.SubjectKind(subject)
	metrics.Published(kind)
	if stage, ok := strings.CutPrefix(kind, "sfsap.dlq."); ok {
		metrics.DeadLetter(stage)
	}
}

func isPerSubjectLimit(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return strings.Contains(apiErr.Description, "maximum messages per subject exceeded")
	}
	return strings.Contains(err.Error(), "maximum messages per subject exceeded")
}

func schemaOf(v any) string {
	switch m := v.(type) {
	case msg.AccountChange:
		return m.Schema
	case *msg.AccountChange:
		return m.Schema
	case msg.CreateJob:
		return m.Schema
	case *msg.CreateJob:
		return m.Schema
	case msg.WritebackJob:
		return m.Schema
	case *msg.WritebackJob:
		return m.Schema
	case msg.Result:
		return m.Schema
	case *msg.Result:
		return m.Schema
	case msg.DeadLetter:
		return m.Schema
	case *msg.DeadLetter:
		return m.Schema
	}
	return ""
}

// DeadLetter publishes a dead letter for the message m. The stream and
// sequence of m make the dead letter's msg id, so dead-lettering the same
// delivery twice stores it once.
func DeadLetter(ctx context.Context, js jetstream.JetStream, m jetstream.Msg, dl msg.DeadLetter) error {
	dl.Schema = msg.SchemaDeadLetter
	if dl.At.IsZero() {
		dl.At = time.Now().UTC()
	}
	dl.Subject = m.Subject()
	dl.Data = json.RawMessage(m.Data())
	if !json.Valid(dl.Data) {
		quoted, _ := json.Marshal(string(m.Data()))
		dl.Data = quoted
	}
	msgID := ""
	if meta, err := m.Metadata(); err == nil {
		dl.Attempts = int(meta.NumDelivered)
		// Several consumers of one stream may each dead-letter a message,
		// so the consumer is part of the id.
		msgID = fmt.Sprintf("dlq.%s.%s.%d", meta.Stream, meta.Consumer, meta.Sequence.Stream)
	}
	hdr := nats.Header{}
	if dl.CorrelationID != "" {
		hdr.Set(HeaderCorrelation, dl.CorrelationID)
	}
	_, err := Publish(ctx, js, DeadLetterSubject(dl.Stage, dl.AccountID), dl, msgID, hdr)
	return err
}
