package notifier

import (
	"strings"
	"time"

	"github.com/sfsap/sfsap/pkg/msg"
)

// fact is one labelled value of a notification.
type fact struct{ Title, Value string }

// view is the content every sink shows for one outcome.
type view struct {
	Title      string
	Summary    string
	Failure    bool
	Facts      []fact
	AccountURL string
}

// render builds the view of r. accountURL is Config.AccountURL.
func render(r msg.Result, accountURL string) view {
	name := r.AccountName
	if name == "" {
		name = r.AccountID
	}
	v := view{Failure: isFailure(r.Outcome)}
	switch r.Outcome {
	case msg.OutcomeSynced:
		v.Title = "SAP customer created: " + name
		v.Summary = "The Account has SAP customer number " + r.SAPCustomer + "."
	case msg.OutcomeAdopted:
		v.Title = "Existing SAP customer linked: " + name
		v.Summary = "SAP already had customer " + r.SAPCustomer + " for this Account, so no new customer was created."
	case msg.OutcomeWritebackFailed:
		v.Title = "SAP number not written to Salesforce: " + name
		v.Summary = r.Reason
	default:
		v.Title = "SAP sync failed: " + name
		v.Summary = r.Reason
	}
	if v.Summary == "" {
		v.Summary = "No reason was recorded."
	}

	v.Facts = append(v.Facts, fact{"Account", r.AccountID})
	if r.AccountName != "" {
		v.Facts = append(v.Facts, fact{"Account name", r.AccountName})
	}
	v.Facts = append(v.Facts, fact{"Outcome", r.Outcome})
	if r.SAPCustomer != "" {
		v.Facts = append(v.Facts, fact{"SAP customer", r.SAPCustomer})
	}
	v.Facts = append(v.Facts, fact{"Stage", r.Stage})
	if !r.CommittedAt.IsZero() {
		v.Facts = append(v.Facts, fact{"Changed in Salesforce", r.CommittedAt.UTC().Format(time.RFC3339)})
	}
	v.Facts = append(v.Facts, fact{"Recorded", r.At.UTC().Format(time.RFC3339)})
	if r.CorrelationID != "" {
		v.Facts = append(v.Facts, fact{"Correlation id", r.CorrelationID})
	}
	if accountURL != "" {
		v.AccountURL = strings.ReplaceAll(accountURL, "{id}", r.AccountID)
	}
	return v
}

// isFailure reports whether outcome is one that NotifyFailures sends.
func isFailure(outcome string) bool {
	return outcome == msg.OutcomeFailed || outcome == msg.OutcomeWritebackFailed
}

// wants reports whether a sink with the given Notify value sends outcome.
func wants(notify, outcome string) bool {
	return notify == NotifyAll || isFailure(outcome)
}

// clip shortens s to at most n runes, marking a cut with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
