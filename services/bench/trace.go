package bench

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Message kinds the tracer records, by the service that publishes them.
const (
	kindChange    = "change"    // listener: account change event
	kindCreateJob = "create"    // filter: SAP create job
	kindWriteback = "writeback" // sapworker: write-back job
)

// tracer records when each account's messages first appear on NATS, from
// a plain subscription to every sfsap subject. Receiving adds a few
// microseconds to the publish time, which the stage times include.
type tracer struct {
	mu   sync.Mutex
	seen map[string]map[string]time.Time // kind to account id to time
	sub  *nats.Subscription
}

func startTracer(nc *nats.Conn) (*tracer, error) {
	t := &tracer{}
	t.reset()
	sub, err := nc.Subscribe("sfsap.>", t.record)
	if err != nil {
		return nil, fmt.Errorf("subscribing to sfsap.>: %w", err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, fmt.Errorf("lifting the pending limits of the trace subscription: %w", err)
	}
	t.sub = sub
	return t, nil
}

func (t *tracer) record(m *nats.Msg) {
	at := time.Now()
	kind, id := traceKind(m.Subject)
	if kind == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.seen[kind][id]; !ok {
		t.seen[kind][id] = at
	}
}

// traceKind returns the kind and account id of a subject, or "" for
// subjects the tracer ignores.
func traceKind(subject string) (string, string) {
	tokens := strings.Split(subject, ".")
	switch {
	case len(tokens) == 5 && tokens[1] == "cdc" && tokens[4] == "UPDATE":
		return kindChange, tokens[3]
	case len(tokens) == 4 && tokens[1] == "sap" && tokens[2] == "create":
		return kindCreateJob, tokens[3]
	case len(tokens) == 4 && tokens[1] == "sf" && tokens[2] == "writeback":
		return kindWriteback, tokens[3]
	}
	return "", ""
}

// reset clears every recorded time, so the next phase sees only its own
// messages.
func (t *tracer) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen = map[string]map[string]time.Time{kindChange: {}, kindCreateJob: {}, kindWriteback: {}}
}

func (t *tracer) stop() {
	if t.sub != nil {
		_ = t.sub.Unsubscribe()
	}
}

// StageResult is the time one service adds to a conversion: from the
// message it consumes to the message it publishes, or for the listener
// from the Salesforce commit to its change event.
type StageResult struct {
	Name string `json:"name"`
	// SimulatedMS is the simulated call time of the stage.
	SimulatedMS float64      `json:"simulated_ms"`
	Latency     Distribution `json:"latency"`
	Overhead    Distribution `json:"overhead"`
}

// stages splits each conversion's latency at its messages' times. Only
// conversions seen at every step count.
func (t *tracer) stages(conv map[string]times, ids []string, s Settings) []StageResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	defs := []struct {
		name      string
		simulated time.Duration
	}{
		{"listener", 0},
		{"filter", s.SFLatency},
		{"sapworker", sapCallsOnPath * s.SAPLatency},
		{"writeback", s.SFLatency},
	}
	latency := make([][]time.Duration, len(defs))
	for _, id := range ids {
		c, ok := conv[id]
		change, ok1 := t.seen[kindChange][id]
		job, ok2 := t.seen[kindCreateJob][id]
		wb, ok3 := t.seen[kindWriteback][id]
		if !ok || !ok1 || !ok2 || !ok3 {
			continue
		}
		for i, d := range []time.Duration{change.Sub(c.Committed), job.Sub(change), wb.Sub(job), c.Written.Sub(wb)} {
			latency[i] = append(latency[i], d)
		}
	}
	out := make([]StageResult, len(defs))
	for i, def := range defs {
		overhead := make([]time.Duration, len(latency[i]))
		for j, d := range latency[i] {
			overhead[j] = d - def.simulated
		}
		out[i] = StageResult{Name: def.name, SimulatedMS: ms(def.simulated), Latency: Summarize(latency[i]), Overhead: Summarize(overhead)}
	}
	return out
}
