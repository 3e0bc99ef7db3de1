package reconciler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/logkey"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// moveDeadLetter handles one advisory from the advisory stream. A
// terminated message was dead-lettered by its handler and is only logged.
// A message that ran out of deliveries is moved to the dead-letter stream
// unless its account is done or held by a worker.
func (s *Service) moveDeadLetter(ctx context.Context, m jetstream.Msg) error {
	a, err := bus.DecodeAdvisory(m.Data())
	if err != nil {
		s.log.Error("reconciler: undecodable advisory; skipping it", logkey.Subject, m.Subject(), logkey.Error, err)
		return bus.Done(err)
	}
	log := s.log.With("stream", a.Stream, "consumer", a.Consumer, logkey.StreamSeq, a.StreamSeq)
	if a.Type == bus.AdvisoryTypeTerminated {
		log.Info("reconciler: message terminated by its handler", "reason", a.Reason, "deliveries", a.Deliveries)
		return nil
	}
	return s.moveExhausted(ctx, a, log)
}

// moveExhausted dead-letters the message named by a MAX_DELIVERIES
// advisory and deletes it from a work-queue stream, where it would
// otherwise block the account's next job.
func (s *Service) moveExhausted(ctx context.Context, a bus.Advisory, log *slog.Logger) error {
	stage := bus.StageOfStream(a.Stream)
	if stage == "" {
		log.Warn("reconciler: max deliveries advisory for a stream sfsap does not consume; ignoring it")
		return nil
	}
	stream, err := s.js.Stream(ctx, a.Stream)
	if err != nil {
		return fmt.Errorf("opening stream %s: %w", a.Stream, err)
	}
	raw, err := stream.GetMsg(ctx, a.StreamSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		log.Info("reconciler: message that reached max deliveries is gone already; nothing to move")
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s message %d: %w", a.Stream, a.StreamSeq, err)
	}
	id := bus.AccountOfSubject(raw.Subject)
	log = log.With(logkey.AccountID, id, logkey.Subject, raw.Subject)

	lastError := ""
	if sfid.Valid(id) && stage != bus.StageFilter {
		e, found, err := s.ledger.Get(ctx, id)
		if errors.Is(err, ledger.ErrCorrupt) {
			// The entry cannot say whether the work is moot; park it.
			log.Error("reconciler: ledger entry cannot be decoded; dead-lettering the work", logkey.Error, err)
			lastError, found = err.Error(), false
		} else if err != nil {
			return err
		}
		if lastError == "" {
			lastError = e.Reason
		}
		if found && s.needsNoDeadLetter(e, stage) {
			log.Info("reconciler: message reached max deliveries but its account is done or held by a worker; deleting it",
				"state", e.State, "owner", e.Owner)
			return s.deleteWork(ctx, stream, a)
		}
	}

	reason := fmt.Sprintf("%s: gave up after %d deliveries without an acknowledgement", bus.ReasonMaxDeliveries, a.Deliveries)
	if lastError != "" {
		// The worker records each failed attempt's error in the ledger;
		// the last one usually says why the deliveries ran out.
		reason += "; last error: " + lastError
	}
	dl := msg.DeadLetter{
		AccountID: orUnknown(id), Stage: stage, Reason: reason, Code: "MAX_DELIVERIES",
		Attempts: int(a.Deliveries), CorrelationID: correlationOf(raw),
	}
	if err := bus.DeadLetterStored(ctx, s.js, a.Stream, a.Consumer, raw, dl); err != nil {
		return err
	}
	if sfid.Valid(id) && stage != bus.StageFilter {
		if err := s.ledger.MarkFailed(ctx, id, reason); err != nil && !errors.Is(err, ledger.ErrCorrupt) {
			return err
		}
	}
	if sfid.Valid(id) && stage == bus.StageSAPWorker {
		if err := s.writeFailure(ctx, raw, id, int(a.Deliveries)); err != nil {
			return err
		}
	}
	log.Error("reconciler: message reached max deliveries; moved it to the dead-letter stream", "deliveries", a.Deliveries, "stage", stage)
	return s.deleteWork(ctx, stream, a)
}

// needsNoDeadLetter reports whether a message that ran out of deliveries
// is moot, because its customer is created (for a create job) or written
// back. A create job is moot too while a worker holds a valid claim on
// the account. If that worker fails, the re-drive of expired claims
// queues a new job.
func (s *Service) needsNoDeadLetter(e ledger.Entry, stage string) bool {
	switch {
	case e.State == ledger.WrittenBack:
		return true
	case stage == bus.StageSAPWorker && e.State == ledger.Created:
		return true
	case stage == bus.StageSAPWorker && e.State == ledger.Claimed && e.Owner != "" && s.now().Before(e.FreeAt(s.cfg.Settle)):
		return true
	}
	return false
}

// writeFailure queues a write-back of the failure, so the Account shows
// the sales rep that the sync gave up.
func (s *Service) writeFailure(ctx context.Context, raw *jetstream.RawStreamMsg, id string, deliveries int) error {
	var job msg.CreateJob
	_ = json.Unmarshal(raw.Data, &job)
	wb := msg.WritebackJob{
		Schema:    msg.SchemaWritebackJob,
		AccountID: id,
		Status:    account.StatusFailed,
		Reason: fmt.Sprintf("The SAP customer could not be created after %d attempts. "+
			"The job is parked for an operator, who can retry it once SAP is reachable.", deliveries),
		Attempts:      deliveries,
		CorrelationID: orNew(job.CorrelationID, id, raw.Sequence),
		CommittedAt:   job.CommittedAt,
		RequestedAt:   s.now().UTC(),
	}
	hdr := nats.Header{}
	hdr.Set(bus.HeaderCorrelation, wb.CorrelationID)
	msgID := fmt.Sprintf("wb.%s.failed.maxdeliver.%d", id, raw.Sequence)
	_, err := bus.Publish(ctx, s.js, bus.WritebackSubject(id), wb, msgID, hdr)
	return err
}

// deleteWork deletes the message from a work-queue stream. Messages in
// the change-event stream stay, since it is the replay source and its
// consumer does not deliver them again.
func (s *Service) deleteWork(ctx context.Context, stream jetstream.Stream, a bus.Advisory) error {
	if a.Stream == bus.StreamCDC {
		return nil
	}
	err := stream.DeleteMsg(ctx, a.StreamSeq)
	if err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) && !isNoMessage(err) {
		return fmt.Errorf("deleting %s message %d: %w", a.Stream, a.StreamSeq, err)
	}
	return nil
}

// isNoMessage reports whether err is the server's error for the delete
// of a message that is gone already, whose description ends in "no
// message found" (nats-server 2.15).
func isNoMessage(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeMessageNotFound || strings.Contains(apiErr.Description, "no message found")
}

// correlationOf returns the correlation id of a stored message, from its
// header or else from the correlation_id field that sfsap's jobs carry.
func correlationOf(m *jetstream.RawStreamMsg) string {
	if c := m.Header.Get(bus.HeaderCorrelation); c != "" {
		return c
	}
	var body struct {
		CorrelationID string `json:"correlation_id"`
	}
	_ = json.Unmarshal(m.Data, &body)
	return body.CorrelationID
}

func orUnknown(id string) string {
	if sfid.Valid(id) {
		return id
	}
	return "unknown"
}
