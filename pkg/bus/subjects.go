// Package bus holds sfsap's JetStream layout (subjects, streams,
// consumers and key-value buckets), creates it idempotently, and runs the
// consumer loop that every service shares.
//
// Subjects carry the 18-character Account id as a token, so one account's
// messages can be found, replayed and limited per subject.
package bus

// Stream names.
const (
	StreamCDC       = "SFSAP_CDC"
	StreamSAPJobs   = "SFSAP_SAP_JOBS"
	StreamWriteback = "SFSAP_WRITEBACK"
	StreamDLQ       = "SFSAP_DLQ"
	StreamResults   = "SFSAP_RESULTS"
)

// Key-value bucket names.
const (
	BucketLedger     = "SFSAP_LEDGER"
	BucketCheckpoint = "SFSAP_CHECKPOINT"
	// BucketTypes holds the last Account Type sfsap saw per account, since
	// change events never carry old values.
	BucketTypes = "SFSAP_TYPES"
	// BucketLeases holds the listener's lease, so only one replica
	// consumes Salesforce events; its TTL is the lease lifetime.
	BucketLeases = "SFSAP_LEASES"
)

// Durable consumer names.
const (
	ConsumerFilter    = "filter"
	ConsumerSAPWorker = "sapworker"
	ConsumerWriteback = "writeback"
)

// Stage names used in dead-letter subjects and results.
const (
	StageListener  = "listener"
	StageFilter    = "filter"
	StageSAPWorker = "sapworker"
	StageWriteback = "writeback"
)

// CDCSubject is the subject of one account change event.
func CDCSubject(accountID, changeType string) string {
	return "sfsap.cdc.account." + accountID + "." + changeType
}

// CreateJobSubject is the subject of an account's SAP create job.
func CreateJobSubject(accountID string) string { return "sfsap.sap.create." + accountID }

// WritebackSubject is the subject of an account's write-back job.
func WritebackSubject(accountID string) string { return "sfsap.sf.writeback." + accountID }

// DeadLetterSubject is the subject of a dead letter from one stage.
func DeadLetterSubject(stage, accountID string) string {
	return "sfsap.dlq." + stage + "." + accountID
}

// ResultSubject is the subject of a sync outcome.
func ResultSubject(outcome, accountID string) string {
	return "sfsap.result." + outcome + "." + accountID
}
