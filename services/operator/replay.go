package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/msg"
)

// ReplayOptions select the change events to replay. At least one field
// must be set; Since and Seq exclude each other.
type ReplayOptions struct {
	// Since replays the events stored at or after this time.
	Since time.Time
	// Seq replays the events from this stream sequence on.
	Seq uint64
	// AccountID replays only this account's events.
	AccountID string
}

// ReplayReport counts what a replay did.
type ReplayReport struct {
	// Read is the number of change events read.
	Read int `json:"read"`
	// Republished is the number published again.
	Republished int `json:"republished"`
	// Duplicates is the number JetStream dropped because the same event
	// was replayed within the stream's duplicate window.
	Duplicates int `json:"duplicates"`
	// Skipped is the number of earlier replays left out.
	Skipped int `json:"skipped"`
}

// Replay publishes stored change events again, so the filter decides on
// them once more against the current Salesforce record. Each copy
// carries the HeaderReplayOf header, which makes the filter re-check a
// conversion instead of comparing with the Type it saw last, and the msg
// id replay.<seq>, so a second replay within the change-event stream's
// duplicate window (1h) publishes nothing. Copies of earlier replays are
// not replayed again. An account that SAP already has ends as a no-op in
// the SAP worker's ledger.
func (o *Operator) Replay(ctx context.Context, opts ReplayOptions) (ReplayReport, error) {
	var rep ReplayReport
	if opts.Since.IsZero() && opts.Seq == 0 && opts.AccountID == "" {
		return rep, errors.New("replay: name --since, --seq or --account, so not every stored event is replayed by accident")
	}
	if !opts.Since.IsZero() && opts.Seq != 0 {
		return rep, errors.New("replay: --since and --seq exclude each other: use one")
	}
	filter := "sfsap.cdc.account.>"
	if opts.AccountID != "" {
		id, err := normalizeID(opts.AccountID)
		if err != nil {
			return rep, err
		}
		filter = bus.CDCSubject(id, ">")
	}
	ms, err := readStream(ctx, o.js, bus.StreamCDC, []string{filter}, readFrom{seq: opts.Seq, time: opts.Since})
	if err != nil {
		return rep, err
	}
	for _, m := range ms {
		rep.Read++
		if m.Header.Get(bus.HeaderReplayOf) != "" {
			rep.Skipped++
			continue
		}
		dup, err := o.republish(ctx, m)
		if err != nil {
			return rep, err
		}
		if dup {
			rep.Duplicates++
		} else {
			rep.Republished++
		}
	}
	return rep, nil
}

// republish publishes a copy of a stored change event and reports whether
// JetStream dropped it as a duplicate.
func (o *Operator) republish(ctx context.Context, m stored) (bool, error) {
	var c msg.AccountChange
	if err := json.Unmarshal(m.Data, &c); err != nil {
		return false, fmt.Errorf("change event %d is not valid JSON: %w", m.Seq, err)
	}
	out := nats.NewMsg(m.Subject)
	out.Data = m.Data
	for k, vs := range m.Header {
		if k == jetstream.MsgIDHeader {
			continue
		}
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	out.Header.Set(bus.HeaderReplayOf, strconv.FormatUint(m.Seq, 10))
	ack, err := o.js.PublishMsg(ctx, out, jetstream.WithMsgID("replay."+strconv.FormatUint(m.Seq, 10)))
	if err != nil {
		return false, fmt.Errorf("publishing replay of change event %d: %w", m.Seq, err)
	}
	return ack.Duplicate, nil
}

// AuditEntry is one result from the audit trail.
type AuditEntry struct {
	Seq uint64 `json:"seq"`
	msg.Result
}

// Audit returns the results of the audit trail, oldest first, of one
// account or all when accountID is empty, stored at or after since (all
// when since is zero).
func (o *Operator) Audit(ctx context.Context, accountID string, since time.Time) ([]AuditEntry, error) {
	filter := "sfsap.result.>"
	if accountID != "" {
		id, err := normalizeID(accountID)
		if err != nil {
			return nil, err
		}
		filter = bus.ResultSubject("*", id)
	}
	ms, err := readStream(ctx, o.js, bus.StreamResults, []string{filter}, readFrom{time: since})
	if err != nil {
		return nil, err
	}
	out := make([]AuditEntry, 0, len(ms))
	for _, m := range ms {
		e := AuditEntry{Seq: m.Seq}
		if err := json.Unmarshal(m.Data, &e.Result); err != nil {
			e.AccountID = bus.AccountOfSubject(m.Subject)
			e.Reason = "undecodable result: " + err.Error()
		}
		if e.At.IsZero() {
			e.At = m.Time
		}
		out = append(out, e)
	}
	return out, nil
}
