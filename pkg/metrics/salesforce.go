package metrics

import "github.com/prometheus/client_golang/prometheus"

// Reasons for pausing Salesforce-bound work, the values of the reason
// label of sfsap_salesforce_paused_total.
const (
	// PauseLimitExceeded is a pause after REQUEST_LIMIT_EXCEEDED.
	PauseLimitExceeded = "limit_exceeded"
	// PauseNearLimit is work deferred because the org's API usage is
	// above the configured share of its daily limit.
	PauseNearLimit = "near_limit"
)

var (
	replayRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "listener", Name: "replay_rejected_total",
		Help: "Stored replay positions that Salesforce rejected as expired or corrupt, by transport; each is followed by a resubscription at the preset and a sweep.",
	}, []string{"transport"})

	listenerActive = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "listener", Name: "active",
		Help: "1 while this listener holds the lease and consumes events, 0 while it waits as a standby.",
	})

	subscriptionStalled = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "cometd", Name: "subscription_stalled",
		Help: "1 while no CometD subscription has succeeded within the watchdog window.",
	})

	salesforcePaused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "salesforce", Name: "paused_total",
		Help: "Times a service paused or deferred Salesforce-bound work because of the API request limit, by service and reason (limit_exceeded, near_limit).",
	}, []string{"service", "reason"})
)

func init() {
	prometheus.MustRegister(replayRejected, listenerActive, subscriptionStalled, salesforcePaused)
	for _, transport := range []string{"cometd", "pubsub", "poll"} {
		replayRejected.WithLabelValues(transport)
	}
}

// ReplayRejected counts one stored position that Salesforce rejected;
// transport is cometd, pubsub or poll.
func ReplayRejected(transport string) {
	replayRejected.WithLabelValues(transport).Inc()
}

// ListenerActive sets whether this listener holds the lease.
func ListenerActive(active bool) {
	if active {
		listenerActive.Set(1)
		return
	}
	listenerActive.Set(0)
}

// SubscriptionStalled sets whether the CometD watchdog reports a stall.
func SubscriptionStalled(stalled bool) {
	if stalled {
		subscriptionStalled.Set(1)
		return
	}
	subscriptionStalled.Set(0)
}

// SalesforcePaused counts one pause or deferral of service's
// Salesforce-bound work; reason is PauseLimitExceeded or PauseNearLimit.
func SalesforcePaused(service, reason string) {
	salesforcePaused.WithLabelValues(service, reason).Inc()
}
