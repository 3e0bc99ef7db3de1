package metrics

import "github.com/prometheus/client_golang/prometheus"

// Alarm kinds, the values of the kind label of sfsap_alarms_total.
const (
	// AlarmConflictingCustomer is an account with two different SAP
	// customer numbers: a duplicate slipped through.
	AlarmConflictingCustomer = "conflicting_customer"
	// AlarmDuplicateInSAP is an external reference that SAP finds on
	// several customers: a duplicate exists in SAP and needs merging.
	AlarmDuplicateInSAP = "duplicate_in_sap"
	// AlarmConsumerStalled is a consumer whose in-flight messages have
	// filled MaxAckPending for too long.
	AlarmConsumerStalled = "consumer_stalled"
)

var alarms = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: namespace, Name: "alarms_total",
	Help: "Conditions that need an operator, by kind (conflicting_customer, duplicate_in_sap, consumer_stalled).",
}, []string{"kind"})

func init() {
	prometheus.MustRegister(alarms)
	for _, kind := range []string{AlarmConflictingCustomer, AlarmConsumerStalled} {
		alarms.WithLabelValues(kind)
	}
}

// Alarm counts one alarm of kind, one of the Alarm constants.
func Alarm(kind string) {
	alarms.WithLabelValues(kind).Inc()
}
