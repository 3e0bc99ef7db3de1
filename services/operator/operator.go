// Package operator holds the actions of the operator command sfsapctl: an
// account's journey through sfsap, the dead letters and their retry, the
// replay of change events and the audit trail. Every action that changes
// something can run twice with the same end state.
package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/sfid"
)

// Accounts reads the current Account records, as the Salesforce client
// does. Ids not found are left out.
type Accounts interface {
	GetAccounts(ctx context.Context, ids []string) ([]account.Account, error)
}

// Operator runs the actions against one JetStream.
type Operator struct {
	js     jetstream.JetStream
	ledger *ledger.Ledger
	// Accounts, when set, lets a retry of a create job use the Account's
	// current data from Salesforce instead of the data in the dead letter.
	Accounts Accounts
	now      func() time.Time
}

// New returns an Operator on js, whose topology must exist.
func New(ctx context.Context, js jetstream.JetStream) (*Operator, error) {
	kv, err := js.KeyValue(ctx, bus.BucketLedger)
	if err != nil {
		return nil, fmt.Errorf("opening bucket %s: %w", bus.BucketLedger, err)
	}
	return &Operator{js: js, ledger: ledger.New(kv), now: time.Now}, nil
}

// ErrInvalidAccount is returned for an argument that is not a Salesforce
// Account id.
var ErrInvalidAccount = errors.New("invalid Account id")

// normalizeID returns the 18-character form of a 15- or 18-character id.
func normalizeID(id string) (string, error) {
	out, err := sfid.To18(strings.TrimSpace(id))
	if err != nil {
		return "", fmt.Errorf("%w %q: use the 15- or 18-character id from Salesforce: %w", ErrInvalidAccount, id, err)
	}
	return out, nil
}

// Step is one event in an account's journey.
type Step struct {
	At time.Time `json:"at"`
	// Kind is change, ledger, create_job, writeback_job, dead_letter or
	// result.
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
	// Stream and Seq locate the message the step comes from.
	Stream string `json:"stream,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
}

// Step kinds.
const (
	StepChange       = "change"
	StepLedger       = "ledger"
	StepCreateJob    = "create_job"
	StepWritebackJob = "writeback_job"
	StepDeadLetter   = "dead_letter"
	StepResult       = "result"
)

// Journey is everything sfsap stores about one account, in time order.
type Journey struct {
	AccountID string `json:"account_id"`
	// Ledger is the current ledger entry, or nil when there is none.
	Ledger *ledger.Entry `json:"ledger,omitempty"`
	Steps  []Step        `json:"steps"`
}

// Journey collects the account's change events, ledger history, pending
// jobs, dead letters and results. Times are those the NATS server stored,
// so steps from different services sort on one clock.
func (o *Operator) Journey(ctx context.Context, accountID string) (Journey, error) {
	id, err := normalizeID(accountID)
	if err != nil {
		return Journey{}, err
	}
	j := Journey{AccountID: id, Steps: []Step{}}

	changes, err := readStream(ctx, o.js, bus.StreamCDC, []string{bus.CDCSubject(id, ">")}, readFrom{})
	if err != nil {
		return j, err
	}
	for _, m := range changes {
		j.Steps = append(j.Steps, Step{At: m.Time, Kind: StepChange, Detail: describeChange(m), Stream: bus.StreamCDC, Seq: m.Seq})
	}

	if e, found, err := o.ledger.Get(ctx, id); err != nil {
		return j, err
	} else if found {
		j.Ledger = &e
	}
	hist, err := o.ledger.History(ctx, id)
	if err != nil {
		return j, err
	}
	for _, r := range hist {
		j.Steps = append(j.Steps, Step{At: r.At, Kind: StepLedger, Detail: describeLedger(r)})
	}

	for _, p := range []struct{ stream, subject, kind string }{
		{bus.StreamSAPJobs, bus.CreateJobSubject(id), StepCreateJob},
		{bus.StreamWriteback, bus.WritebackSubject(id), StepWritebackJob},
	} {
		step, found, err := o.pendingJob(ctx, p.stream, p.subject)
		if err != nil {
			return j, err
		}
		if found {
			step.Kind = p.kind
			j.Steps = append(j.Steps, step)
		}
	}

	dls, err := readStream(ctx, o.js, bus.StreamDLQ, []string{bus.DeadLetterSubject("*", id)}, readFrom{})
	if err != nil {
		return j, err
	}
	for _, m := range dls {
		j.Steps = append(j.Steps, Step{At: m.Time, Kind: StepDeadLetter, Detail: describeDeadLetter(m), Stream: bus.StreamDLQ, Seq: m.Seq})
	}

	results, err := readStream(ctx, o.js, bus.StreamResults, []string{bus.ResultSubject("*", id)}, readFrom{})
	if err != nil {
		return j, err
	}
	for _, m := range results {
		j.Steps = append(j.Steps, Step{At: m.Time, Kind: StepResult, Detail: describeResult(m), Stream: bus.StreamResults, Seq: m.Seq})
	}

	sort.SliceStable(j.Steps, func(a, b int) bool { return j.Steps[a].At.Before(j.Steps[b].At) })
	return j, nil
}

// pendingJob returns the newest job on subject in a work-queue stream.
// Such a stream rejects the ordered consumer that readStream uses, since
// it requires explicit acks, so the job is read directly.
func (o *Operator) pendingJob(ctx context.Context, stream, subject string) (Step, bool, error) {
	st, err := o.js.Stream(ctx, stream)
	if err != nil {
		return Step{}, false, fmt.Errorf("opening stream %s: %w", stream, err)
	}
	m, err := st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Step{}, false, nil
	}
	if err != nil {
		return Step{}, false, fmt.Errorf("reading the pending job on %s: %w", subject, err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return Step{}, false, fmt.Errorf("counting the pending jobs on %s: %w", subject, err)
	}
	detail := describeJob(stored{Data: m.Data})
	if n := info.State.Subjects[subject]; n > 1 {
		detail += fmt.Sprintf(" (newest of %d pending)", n)
	}
	return Step{At: m.Time, Detail: detail, Stream: stream, Seq: m.Sequence}, true, nil
}

func describeChange(m stored) string {
	var c msg.AccountChange
	if err := json.Unmarshal(m.Data, &c); err != nil {
		return "undecodable change event: " + err.Error()
	}
	var b strings.Builder
	b.WriteString(c.ChangeType)
	if len(c.ChangedFields) > 0 {
		b.WriteString(" of " + strings.Join(c.ChangedFields, ", "))
	}
	if t, ok := c.Fields["Type"].(string); ok {
		fmt.Fprintf(&b, "; Type %q", t)
	}
	if c.CommitUser != "" {
		b.WriteString(" by " + c.CommitUser)
	}
	if r := m.Header.Get(bus.HeaderReplayOf); r != "" {
		b.WriteString(" (replay of seq " + r + ")")
	}
	return b.String()
}

func describeLedger(r ledger.Revision) string {
	if r.Deleted {
		return "entry deleted"
	}
	var b strings.Builder
	b.WriteString(string(r.State))
	if r.SAPCustomer != "" {
		b.WriteString(" SAP customer " + r.SAPCustomer)
	}
	if r.State == ledger.Claimed {
		if r.Owner != "" {
			fmt.Fprintf(&b, " by %s until %s", r.Owner, r.LeaseUntil.Format(time.RFC3339))
		} else {
			b.WriteString(", released")
		}
	}
	fmt.Fprintf(&b, ", attempt %d", r.Attempt)
	if r.InDoubt {
		b.WriteString(", create in doubt")
	}
	if r.DeadLettered {
		b.WriteString(", dead-lettered")
	}
	if r.Reason != "" {
		b.WriteString(": " + r.Reason)
	}
	return b.String()
}

func describeJob(m stored) string {
	var job struct {
		Reason      string `json:"reason"`
		Status      string `json:"status"`
		SAPCustomer string `json:"sap_customer"`
	}
	_ = json.Unmarshal(m.Data, &job)
	if job.Status != "" {
		return strings.TrimSpace("pending write-back: " + job.Status + " " + job.SAPCustomer)
	}
	return "pending create job (" + job.Reason + ")"
}

func describeDeadLetter(m stored) string {
	var dl msg.DeadLetter
	if err := json.Unmarshal(m.Data, &dl); err != nil {
		return "undecodable dead letter: " + err.Error()
	}
	s := fmt.Sprintf("%s gave up after %d attempts: %s", dl.Stage, dl.Attempts, dl.Reason)
	if dl.Code != "" {
		s += " (" + dl.Code + ")"
	}
	return s
}

func describeResult(m stored) string {
	var r msg.Result
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return "undecodable result: " + err.Error()
	}
	s := r.Outcome
	if r.SAPCustomer != "" {
		s += " SAP customer " + r.SAPCustomer
	}
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}
