package bench

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// probeSubject is outside sfsap.>, so the tracer ignores the probe.
const probeSubject = "sfsapbench.probe"

// RoundTrip is the time of a core NATS request and its reply through the
// nats-server process, once back to back and once after an idle gap. The
// difference shows what waking an idle CPU costs on this machine, which
// every hop between the services pays at low load.
type RoundTrip struct {
	GapMS float64      `json:"gap_ms"`
	Busy  Distribution `json:"back_to_back"`
	Idle  Distribution `json:"after_gap"`
}

// probeRoundTrip sends n requests back to back and n requests each after
// gap, from requester to a responder on a second connection.
func probeRoundTrip(requester, responder *nats.Conn, n int, gap time.Duration) (RoundTrip, error) {
	sub, err := responder.Subscribe(probeSubject, func(m *nats.Msg) { _ = m.Respond(m.Data) })
	if err != nil {
		return RoundTrip{}, fmt.Errorf("subscribing to %s: %w", probeSubject, err)
	}
	defer sub.Unsubscribe()
	if err := responder.Flush(); err != nil {
		return RoundTrip{}, fmt.Errorf("flushing the probe subscription: %w", err)
	}
	measure := func(pause time.Duration) ([]time.Duration, error) {
		out := make([]time.Duration, 0, n)
		for range n {
			time.Sleep(pause)
			start := time.Now()
			if _, err := requester.Request(probeSubject, []byte("x"), 5*time.Second); err != nil {
				return nil, fmt.Errorf("probing NATS round trips: %w", err)
			}
			out = append(out, time.Since(start))
		}
		return out, nil
	}
	busy, err := measure(0)
	if err != nil {
		return RoundTrip{}, err
	}
	idle, err := measure(gap)
	if err != nil {
		return RoundTrip{}, err
	}
	return RoundTrip{GapMS: ms(gap), Busy: Summarize(busy), Idle: Summarize(idle)}, nil
}
