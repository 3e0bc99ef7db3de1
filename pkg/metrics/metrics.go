// Package metrics defines sfsap's Prometheus metrics and the small
// functions services call to update them. Every metric is registered with
// the default registry, which pkg/ops serves on /metrics.
//
// Labels take values from short fixed lists (change types, reasons,
// outcomes, stages), never account ids, so the number of series stays
// small.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "sfsap"

// Reasons why the filter ignores a change, the values of the why label of
// sfsap_filter_changes_ignored_total.
const (
	WhyDeleted        = "deleted"
	WhyOverflow       = "overflow"
	WhyEcho           = "echo"
	WhyTypeUnchanged  = "type_unchanged"
	WhyNotCustomer    = "not_customer"
	WhyHasSAPNumber   = "has_sap_number"
	WhyNotProspect    = "not_from_prospect"
	WhyNotFound       = "not_found"
	WhyJobPending     = "job_pending"
	WhyUnknownChange  = "unknown_change_type"
	WhyDecodingFailed = "decoding_failed"
)

// Outcomes of an SAP call, the values of the outcome label of
// sfsap_sap_calls_total.
const (
	SAPSuccess   = "success"
	SAPTransient = "transient"
	SAPPermanent = "permanent"
	SAPUnknown   = "unknown"
)

// SAP operations, the values of the operation label of
// sfsap_sap_calls_total.
const (
	OpCreate = "create"
	OpLookup = "lookup"
)

// Outcomes of a write-back attempt, the values of the outcome label of
// sfsap_writebacks_total.
const (
	WritebackWritten      = "written"
	WritebackRetry        = "retry"
	WritebackDeadLettered = "dead_lettered"
)

// Results of handling a message, the values of the result label of
// sfsap_bus_messages_handled_total.
const (
	HandledAck   = "ack"
	HandledRetry = "retry"
	HandledNak   = "nak"
	HandledTerm  = "term"
)

// Outcomes of a notification, the values of the outcome label of
// sfsap_notifications_total.
const (
	NotificationSent         = "sent"
	NotificationRetry        = "retry"
	NotificationDeadLettered = "dead_lettered"
	NotificationSkipped      = "skipped"
)

// commitToWritebackBuckets span 10 ms to 10 minutes, in seconds.
var commitToWritebackBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

var (
	eventsReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "listener", Name: "events_received_total",
		Help: "Account change events the listener published to NATS, by change type.",
	}, []string{"change_type"})

	jobsQueued = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "filter", Name: "jobs_queued_total",
		Help: "SAP create jobs the filter queued, by reason (conversion, gap, sweep, retry).",
	}, []string{"reason"})

	changesIgnored = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "filter", Name: "changes_ignored_total",
		Help: "Account changes the filter handled without queuing a job, by why.",
	}, []string{"why"})

	sapCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "sap", Name: "calls_total",
		Help: "SAP calls by operation (create, lookup) and outcome (success, transient, permanent, unknown).",
	}, []string{"operation", "outcome"})

	sapCallSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "sap", Name: "call_duration_seconds",
		Help:    "Duration of SAP calls by operation.",
		Buckets: prometheus.DefBuckets,
	}, []string{"operation"})

	writebacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "writeback", Name: "writebacks_total",
		Help: "Write-back attempts by job status (synced, failed) and outcome (written, retry, dead_lettered).",
	}, []string{"status", "outcome"})

	commitToWriteback = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "writeback", Name: "commit_to_writeback_seconds",
		Help:    "Time from the Salesforce commit of a conversion to its SAP customer number written back to the Account.",
		Buckets: commitToWritebackBuckets,
	})

	deadLetters = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "dead_letters_total",
		Help: "Messages dead-lettered, by the stage that gave up.",
	}, []string{"stage"})

	published = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "bus", Name: "messages_published_total",
		Help: "Messages stored by JetStream, by subject without the account id; duplicates dropped by JetStream are not counted.",
	}, []string{"subject"})

	handled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "bus", Name: "messages_handled_total",
		Help: "Messages settled by a consumer loop, by consumer and result (ack, retry, nak, term).",
	}, []string{"consumer", "result"})

	notifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "notifier", Name: "notifications_total",
		Help: "Notifications by sink (teams, slack, email, sharepoint) and outcome (sent, retry, dead_lettered, skipped).",
	}, []string{"sink", "outcome"})
)

func init() {
	prometheus.MustRegister(eventsReceived, jobsQueued, changesIgnored, sapCalls, sapCallSeconds,
		writebacks, commitToWriteback, deadLetters, published, handled, notifications, apiUsage)

	// Series that exist from the start read as zero instead of missing,
	// so rate() and alerts work before the first event.
	for _, op := range []string{OpCreate, OpLookup} {
		for _, outcome := range []string{SAPSuccess, SAPTransient, SAPPermanent, SAPUnknown} {
			sapCalls.WithLabelValues(op, outcome)
		}
	}
	for _, status := range []string{"synced", "failed"} {
		for _, outcome := range []string{WritebackWritten, WritebackRetry, WritebackDeadLettered} {
			writebacks.WithLabelValues(status, outcome)
		}
	}
	for _, stage := range []string{"listener", "filter", "sapworker", "writeback", "notifier"} {
		deadLetters.WithLabelValues(stage)
	}
}

// EventReceived counts one account change the listener published.
func EventReceived(changeType string) {
	eventsReceived.WithLabelValues(changeType).Inc()
}

// JobQueued counts one SAP create job the filter queued.
func JobQueued(reason string) {
	jobsQueued.WithLabelValues(reason).Inc()
}

// ChangeIgnored counts one change the filter handled without a job; why
// is one of the Why constants.
func ChangeIgnored(why string) {
	changesIgnored.WithLabelValues(why).Inc()
}

// SAPCall counts one SAP call; operation is OpCreate or OpLookup and
// outcome one of the SAP outcome constants.
func SAPCall(operation, outcome string) {
	sapCalls.WithLabelValues(operation, outcome).Inc()
}

// Writeback counts one write-back attempt; status is the job's status in
// lower case (synced or failed) and outcome one of the Writeback
// constants.
func Writeback(status, outcome string) {
	writebacks.WithLabelValues(status, outcome).Inc()
}

// ObserveCommitToWriteback records the time from the Salesforce commit to
// now. A zero commit time, as on jobs from a sweep, records nothing.
func ObserveCommitToWriteback(committed, now time.Time) {
	if committed.IsZero() {
		return
	}
	commitToWriteback.Observe(now.Sub(committed).Seconds())
}

// DeadLetter counts one dead letter from stage. bus.Publish calls it for
// every message it stores under sfsap.dlq, so services need not.
func DeadLetter(stage string) {
	deadLetters.WithLabelValues(stage).Inc()
}

// Published counts one message JetStream stored; subjectKind is the
// subject without its account id, such as "sfsap.sap.create".
func Published(subjectKind string) {
	published.WithLabelValues(subjectKind).Inc()
}

// Handled counts one settled message; result is one of the Handled
// constants.
func Handled(consumer, result string) {
	handled.WithLabelValues(consumer, result).Inc()
}

// Notification counts one notification outcome for sink.
func Notification(sink, outcome string) {
	notifications.WithLabelValues(sink, outcome).Inc()
}
