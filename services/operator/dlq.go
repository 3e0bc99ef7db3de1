package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/ledger"
	"github.com/sfsap/sfsap/pkg/msg"
)

// DeadLetter is a stored dead letter with its place in the stream.
type DeadLetter struct {
	Seq uint64 `json:"seq"`
	msg.DeadLetter
}

// DeadLetters returns the stored dead letters, oldest first, of one stage
// and one account, or of all when stage or accountID is empty.
func (o *Operator) DeadLetters(ctx context.Context, stage, accountID string) ([]DeadLetter, error) {
	stageToken, idToken := "*", "*"
	if stage != "" {
		if !validStage(stage) {
			return nil, fmt.Errorf("invalid stage %q: use listener, filter, sapworker, writeback or notifier", stage)
		}
		stageToken = stage
	}
	if accountID != "" {
		id, err := normalizeID(accountID)
		if err != nil {
			return nil, err
		}
		idToken = id
	}
	ms, err := readStream(ctx, o.js, bus.StreamDLQ, []string{bus.DeadLetterSubject(stageToken, idToken)}, readFrom{})
	if err != nil {
		return nil, err
	}
	out := make([]DeadLetter, 0, len(ms))
	for _, m := range ms {
		d := DeadLetter{Seq: m.Seq}
		if err := json.Unmarshal(m.Data, &d.DeadLetter); err != nil {
			d.Stage, d.AccountID = stageOf(m.Subject), bus.AccountOfSubject(m.Subject)
			d.Reason = "undecodable dead letter: " + err.Error()
		}
		out = append(out, d)
	}
	return out, nil
}

func validStage(s string) bool {
	switch s {
	case bus.StageListener, bus.StageFilter, bus.StageSAPWorker, bus.StageWriteback, "notifier":
		return true
	}
	return false
}

// stageOf returns the stage token of a dead-letter subject.
func stageOf(subject string) string {
	tokens := strings.Split(subject, ".")
	if len(tokens) < 3 {
		return ""
	}
	return tokens[2]
}

// RetryOptions select the dead letters to retry.
type RetryOptions struct {
	// AccountID retries the dead letters of one account.
	AccountID string
	// All retries every dead letter; AccountID must then be empty.
	All bool
	// Stage limits the retry to one stage.
	Stage string
	// Refresh rebuilds a create job from the Account's current data in
	// Salesforce, so that data fixed there is used. It needs
	// Operator.Accounts.
	Refresh bool
}

// Retry outcomes.
const (
	// RetryRepublished means the original message was published again
	// and the dead letter removed.
	RetryRepublished = "republished"
	// RetryPending means a job for the account was pending already, so
	// only the dead letter was removed.
	RetryPending = "already pending"
	// RetrySkipped means the dead letter cannot be retried and stays.
	RetrySkipped = "skipped"
)

// RetryResult is the outcome of retrying one dead letter.
type RetryResult struct {
	Seq       uint64 `json:"seq"`
	AccountID string `json:"account_id"`
	Stage     string `json:"stage"`
	Subject   string `json:"subject"`
	Outcome   string `json:"outcome"`
	Detail    string `json:"detail,omitempty"`
}

// Retry publishes the original message of each selected dead letter to
// its original subject and then deletes the dead letter, so a second
// retry finds nothing to do. Before a create or write-back job is
// republished, the account's ledger entry is reset so the job is worked
// on again. Dead letters of the listener, whose original is a Salesforce
// event, are skipped: replay the change events or wait for a sweep.
func (o *Operator) Retry(ctx context.Context, opts RetryOptions) ([]RetryResult, error) {
	if opts.All == (opts.AccountID != "") {
		return nil, errors.New("retry: name one account id or --all, not both")
	}
	if opts.Refresh && o.Accounts == nil {
		return nil, errors.New("retry: refreshing Account data needs Salesforce access: configure salesforce in the config file")
	}
	dls, err := o.DeadLetters(ctx, opts.Stage, opts.AccountID)
	if err != nil {
		return nil, err
	}
	dlq, err := o.js.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", bus.StreamDLQ, err)
	}
	out := []RetryResult{}
	for _, d := range dls {
		res := RetryResult{Seq: d.Seq, AccountID: d.AccountID, Stage: d.Stage, Subject: d.Subject}
		res.Outcome, res.Detail, err = o.retryOne(ctx, d, opts.Refresh)
		if err != nil {
			return out, fmt.Errorf("retrying dead letter %d of %s: %w", d.Seq, d.AccountID, err)
		}
		if res.Outcome != RetrySkipped {
			if err := dlq.DeleteMsg(ctx, d.Seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				return out, fmt.Errorf("removing dead letter %d after its retry: %w", d.Seq, err)
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// retryOne republishes one dead letter's original message.
func (o *Operator) retryOne(ctx context.Context, d DeadLetter, refresh bool) (outcome, detail string, err error) {
	var stage string
	switch {
	case strings.HasPrefix(d.Subject, "sfsap.sap.create."):
		stage = bus.StageSAPWorker
	case strings.HasPrefix(d.Subject, "sfsap.sf.writeback."):
		stage = bus.StageWriteback
	case strings.HasPrefix(d.Subject, "sfsap.cdc.account."):
		stage = bus.StageFilter
	default:
		return RetrySkipped, "the original is not a message sfsap can publish again; replay the change events or wait for a sweep", nil
	}
	if len(d.Data) == 0 || d.Data[0] != '{' {
		return RetrySkipped, "the original message is not JSON and cannot be published again", nil
	}

	data := []byte(d.Data)
	if stage == bus.StageSAPWorker && refresh {
		if data, err = o.refreshJob(ctx, d); err != nil {
			return "", "", err
		}
	}
	if stage != bus.StageFilter {
		_, err := o.ledger.Reset(ctx, d.AccountID, fmt.Sprintf("retried by an operator from dead letter %d", d.Seq))
		var held *ledger.HeldError
		if errors.As(err, &held) {
			return RetrySkipped, fmt.Sprintf("a worker (%s) is working on the account until %s; try again later if it fails", held.Owner, held.Until.Format(time.RFC3339)), nil
		}
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return "", "", err
		}
	}

	m := nats.NewMsg(d.Subject)
	m.Data = data
	if d.CorrelationID != "" {
		m.Header.Set(bus.HeaderCorrelation, d.CorrelationID)
	}
	// The msg id makes a retry that crashed before the dead letter was
	// removed publish once when it runs again within the duplicate window.
	_, err = o.js.PublishMsg(ctx, m, jetstream.WithMsgID(fmt.Sprintf("retry.dlq.%d", d.Seq)))
	if err != nil {
		if strings.Contains(err.Error(), "maximum messages per subject exceeded") {
			return RetryPending, "a job for the account is pending already", nil
		}
		return "", "", fmt.Errorf("publishing to %s: %w", d.Subject, err)
	}
	return RetryRepublished, "", nil
}

// refreshJob returns the dead letter's create job with the Account's
// current data.
func (o *Operator) refreshJob(ctx context.Context, d DeadLetter) ([]byte, error) {
	var job msg.CreateJob
	if err := json.Unmarshal(d.Data, &job); err != nil {
		return nil, fmt.Errorf("decoding the dead create job: %w", err)
	}
	accts, err := o.Accounts.GetAccounts(ctx, []string{d.AccountID})
	if err != nil {
		return nil, fmt.Errorf("reading Account %s from Salesforce: %w", d.AccountID, err)
	}
	if len(accts) == 0 {
		return nil, fmt.Errorf("account %s not found in Salesforce: it may be deleted; drop the dead letter instead of retrying it", d.AccountID)
	}
	job.Account = accts[0]
	job.Reason = msg.ReasonRetry
	job.RequestedAt = o.now().UTC()
	return json.Marshal(job)
}
