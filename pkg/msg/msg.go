// Package msg defines the messages that sfsap's services exchange over
// NATS JetStream. Each type has a JSON Schema in schemas/ named after its
// Schema constant; the version suffix changes when a field changes meaning.
package msg

import (
	"encoding/json"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
)

// Schema identifiers carried in every message's "schema" field.
const (
	SchemaAccountChange = "sfsap.account-change.v1"
	SchemaCreateJob     = "sfsap.create-job.v1"
	SchemaWritebackJob  = "sfsap.writeback-job.v1"
	SchemaResult        = "sfsap.result.v1"
	SchemaDeadLetter    = "sfsap.dead-letter.v1"
)

// Change types from the Salesforce ChangeEventHeader.
const (
	ChangeCreate      = "CREATE"
	ChangeUpdate      = "UPDATE"
	ChangeDelete      = "DELETE"
	ChangeUndelete    = "UNDELETE"
	ChangeGapCreate   = "GAP_CREATE"
	ChangeGapUpdate   = "GAP_UPDATE"
	ChangeGapDelete   = "GAP_DELETE"
	ChangeGapUndelete = "GAP_UNDELETE"
	ChangeGapOverflow = "GAP_OVERFLOW"
)

// AccountChange is one Account change event for one record id. The
// listener splits a change event that names several records into one
// AccountChange per id, whatever transport it arrived on.
type AccountChange struct {
	Schema    string `json:"schema"`
	AccountID string `json:"account_id"`
	// ChangeType is the header's changeType, such as UPDATE or GAP_UPDATE.
	ChangeType string `json:"change_type"`
	// ChangedFields names the changed fields; compound components appear
	// as "BillingAddress.City". Empty for CREATE and gap events.
	ChangedFields []string `json:"changed_fields"`
	// NulledFields names fields set to null. Only the Pub/Sub API reports
	// them; over CometD a field set to null is simply absent.
	NulledFields []string `json:"nulled_fields,omitempty"`
	// Fields holds the non-null field values of the event body, keyed by
	// field name, with compound fields flattened ("BillingAddress.City").
	// An absent field means unchanged or unknown, never empty.
	Fields          map[string]any `json:"fields,omitempty"`
	TransactionKey  string         `json:"transaction_key"`
	SequenceNumber  int            `json:"sequence_number"`
	CommitTimestamp time.Time      `json:"commit_timestamp"`
	CommitUser      string         `json:"commit_user,omitempty"`
	ChangeOrigin    string         `json:"change_origin,omitempty"`
}

// DedupID returns the JetStream message id that makes a redelivered or
// replayed change event land only once per record.
func (c AccountChange) DedupID() string {
	return "cdc." + c.TransactionKey + "." + itoa(c.SequenceNumber) + "." + c.AccountID
}

// CreateJob is a request to the SAP worker to create the customer for one
// Account.
type CreateJob struct {
	Schema    string          `json:"schema"`
	AccountID string          `json:"account_id"`
	Account   account.Account `json:"account"`
	// Reason is why the job exists: conversion, gap, sweep or retry.
	Reason        string `json:"reason"`
	CorrelationID string `json:"correlation_id"`
	// CommittedAt is the Salesforce commit time of the change that led to
	// the job, used to measure the end-to-end latency.
	CommittedAt time.Time `json:"committed_at,omitzero"`
	RequestedAt time.Time `json:"requested_at"`
}

// Job reasons.
const (
	ReasonConversion = "conversion"
	ReasonGap        = "gap"
	ReasonSweep      = "sweep"
	ReasonRetry      = "retry"
)

// WritebackJob is a request to the writeback service to record an outcome
// on the Account: the SAP customer number after a create, or a failure
// reason.
type WritebackJob struct {
	Schema    string `json:"schema"`
	AccountID string `json:"account_id"`
	// Status is account.StatusSynced or account.StatusFailed.
	Status        string    `json:"status"`
	SAPCustomer   string    `json:"sap_customer,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	Attempts      int       `json:"attempts"`
	CorrelationID string    `json:"correlation_id"`
	CommittedAt   time.Time `json:"committed_at,omitzero"`
	RequestedAt   time.Time `json:"requested_at"`
}

// Result records a final outcome for the audit trail and notifications.
type Result struct {
	Schema      string `json:"schema"`
	AccountID   string `json:"account_id"`
	AccountName string `json:"account_name,omitempty"`
	// Outcome is one of the Outcome constants.
	Outcome       string    `json:"outcome"`
	SAPCustomer   string    `json:"sap_customer,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	Stage         string    `json:"stage"`
	CorrelationID string    `json:"correlation_id"`
	CommittedAt   time.Time `json:"committed_at,omitzero"`
	At            time.Time `json:"at"`
}

// Outcomes of a sync.
const (
	OutcomeSynced = "synced"
	OutcomeFailed = "failed"
	// OutcomeAdopted means SAP already had a customer for the Account,
	// found by its external reference, and no new one was created.
	OutcomeAdopted = "adopted"
	// OutcomeWritebackFailed means the SAP customer exists but its number
	// could not be written to Salesforce.
	OutcomeWritebackFailed = "writeback_failed"
)

// DeadLetter is work that failed for good, kept with its reason.
type DeadLetter struct {
	Schema    string `json:"schema"`
	AccountID string `json:"account_id"`
	// Stage is the service that gave up: filter, sapworker or writeback.
	Stage  string `json:"stage"`
	Reason string `json:"reason"`
	// Code is the machine-readable error code, such as a BAPI message id
	// or a Salesforce errorCode.
	Code        string `json:"code,omitempty"`
	SAPCustomer string `json:"sap_customer,omitempty"`
	// Messages is the whole message list the remote system returned with
	// the failure, such as a BAPI RETURN table or OData error details, so
	// operators see warnings and follow-up errors too.
	Messages []Message `json:"messages,omitempty"`
	Attempts int       `json:"attempts"`
	// Subject and Data are the original message, so it can be retried.
	Subject       string          `json:"subject"`
	Data          json.RawMessage `json:"data"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	At            time.Time       `json:"at"`
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// Message is one message of an SAP response: TYPE (S, E, W, I or A), the
// message class and number, and the text.
type Message struct {
	Type    string `json:"type"`
	ID      string `json:"id,omitempty"`
	Number  string `json:"number,omitempty"`
	Message string `json:"message"`
}
