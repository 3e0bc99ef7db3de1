package reconciler

import (
	"context"
	"time"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/metrics"
)

// stall is a consumer found full: every MaxAckPending slot taken and more
// messages waiting.
type stall struct {
	since     time.Time
	lastAlarm time.Time
}

// consumers are the work consumers checked for stalls.
var consumers = []struct{ stream, name string }{
	{bus.StreamCDC, bus.ConsumerFilter},
	{bus.StreamSAPJobs, bus.ConsumerSAPWorker},
	{bus.StreamWriteback, bus.ConsumerWriteback},
	{bus.StreamAdvisories, bus.ConsumerDLQMover},
}

// CheckConsumers logs an alarm, at most once per StallAfter, for each
// work consumer that has had all MaxAckPending slots taken with more
// messages waiting for StallAfter or longer. Such a consumer delivers
// nothing new. A common cause is messages that fail and are retried again
// and again.
func (s *Service) CheckConsumers(ctx context.Context) {
	now := s.now()
	for _, c := range consumers {
		cons, err := s.js.Consumer(ctx, c.stream, c.name)
		if err != nil {
			s.log.Warn("reconciler: reading consumer failed", "consumer", c.name, "stream", c.stream, "error", err)
			continue
		}
		// Opening the consumer fetched its current state.
		info := cons.CachedInfo()
		full := info.Config.MaxAckPending > 0 && info.NumAckPending >= info.Config.MaxAckPending && info.NumPending > 0

		s.mu.Lock()
		st, seen := s.stalls[c.name]
		switch {
		case !full:
			delete(s.stalls, c.name)
		case !seen:
			s.stalls[c.name] = stall{since: now}
		case now.Sub(st.since) >= s.cfg.StallAfter && now.Sub(st.lastAlarm) >= s.cfg.StallAfter:
			st.lastAlarm = now
			s.stalls[c.name] = st
			metrics.Alarm(metrics.AlarmConsumerStalled)
			s.log.Error("reconciler: ALARM: consumer is stalled at max ack pending; look for messages that keep failing",
				"consumer", c.name, "stream", c.stream, "ack_pending", info.NumAckPending,
				"max_ack_pending", info.Config.MaxAckPending, "waiting", info.NumPending, "stalled_for", now.Sub(st.since).Round(time.Second))
		}
		s.mu.Unlock()
	}
}
