// Package logkey lists the attribute keys of sfsap's structured logs, so
// every service names the same thing the same way.
package logkey

// Attribute keys.
const (
	AccountID     = "account_id"
	Subject       = "subject"
	StreamSeq     = "stream_seq"
	Attempt       = "attempt"
	SAPCustomer   = "sap_customer"
	Error         = "error"
	CorrelationID = "correlation_id"
	ChangeType    = "change_type"
	ReplayID      = "replay_id"
	Code          = "code"
)
