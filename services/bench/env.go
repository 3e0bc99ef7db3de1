package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"gopkg.in/yaml.v3"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/setup"
	"github.com/sfsap/sfsap/services/allinone"
)

// env is one deployment under test: both simulators inside this process,
// and nats-server and the four services as separate processes.
type env struct {
	dir     string
	sims    *allinone.Simulators
	nats    *natsServer
	procs   []*process
	conn    *nats.Conn
	js      jetstream.JetStream
	results *collector
	trace   *tracer
	log     *slog.Logger
}

// startSimulators starts both simulators on loopback with fixed latencies:
// sf for every Salesforce data API request and sap for every SAP function
// module call.
func startSimulators(sf, sap time.Duration) (*allinone.Simulators, error) {
	sims, err := allinone.StartSimulators()
	if err != nil {
		return nil, err
	}
	sims.Salesforce.SetLatency(sf)
	sims.SAP.SetLatency("", sap)
	return sims, nil
}

// startEnv starts nats-server and the four services against sims, with
// the SAP worker handling concurrency jobs at once and the other services
// at their defaults. The simulators stay owned by the caller.
func startEnv(ctx context.Context, sims *allinone.Simulators, binDir, dir, transport string, concurrency int, log *slog.Logger) (*env, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating folder %s: %w", dir, err)
	}
	e := &env{dir: dir, sims: sims, log: log}
	var err error
	e.nats, err = startNATS(filepath.Join(binDir, progNATS), dir)
	if err != nil {
		return nil, err
	}
	url := e.nats.clientURL

	cfgPath := filepath.Join(dir, "sfsap.yaml")
	if err := writeServiceConfig(cfgPath, sims, url, transport, concurrency); err != nil {
		e.stop()
		return nil, err
	}
	cfg, err := config.Load(cfgPath, []string{})
	if err != nil {
		e.stop()
		return nil, fmt.Errorf("loading the generated config %s: %w", cfgPath, err)
	}
	e.conn, e.js, err = setup.NATS(ctx, cfg.NATS, cfg.Topology, "bench", log)
	if err != nil {
		e.stop()
		return nil, err
	}
	if e.results, err = collect(ctx, e.js); err != nil {
		e.stop()
		return nil, err
	}
	if e.trace, err = startTracer(e.conn); err != nil {
		e.stop()
		return nil, err
	}

	args := []string{"--config", cfgPath, "--http", ""}
	for _, name := range services {
		p, err := startProcess(name, filepath.Join(binDir, name), filepath.Join(dir, name+".log"), args, serviceEnv())
		if err != nil {
			e.stop()
			return nil, err
		}
		e.procs = append(e.procs, p)
	}
	return e, nil
}

// writeServiceConfig writes the YAML file that all four services read.
// Every address in it is a loopback one of the simulators or nats-server.
func writeServiceConfig(path string, sims *allinone.Simulators, natsURL, transport string, concurrency int) error {
	var c config.Config
	sims.Configure(&c)
	doc := map[string]any{
		"nats": map[string]any{"url": natsURL},
		"salesforce": map[string]any{
			"login_url":      c.Salesforce.LoginURL,
			"flow":           string(c.Salesforce.Flow),
			"client_id":      c.Salesforce.ClientID,
			"client_secret":  c.Salesforce.ClientSecret,
			"transport":      transport,
			"pubsub_addr":    c.Salesforce.PubSubAddr,
			"pubsub_ca_file": c.Salesforce.PubSubCAFile,
			// The services start after the accounts are seeded, so the
			// listener replays every retained event instead of missing
			// those made before it subscribed.
			"replay_preset": "earliest",
		},
		"sap": map[string]any{
			"url":      c.SAP.URL,
			"client":   c.SAP.Client,
			"user":     c.SAP.User,
			"password": c.SAP.Password,
		},
		"topology":  map[string]any{"sap_max_ack_pending": max(16, concurrency)},
		"sapworker": map[string]any{"concurrency": concurrency},
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encoding service config: %w", err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing service config: %w", err)
	}
	return nil
}

// all returns every started process, nats-server first.
func (e *env) all() []*process {
	var out []*process
	if e.nats != nil {
		out = append(out, e.nats.process)
	}
	return append(out, e.procs...)
}

// healthy returns an error when a process has exited.
func (e *env) healthy() error {
	for _, p := range e.all() {
		if err := p.exited(); err != nil {
			return err
		}
	}
	return nil
}

// memory returns the resident memory of each process by program name.
func (e *env) memory() (map[string]Memory, error) {
	out := map[string]Memory{}
	for _, p := range e.all() {
		m, err := p.memory()
		if err != nil {
			return nil, err
		}
		out[p.name] = m
	}
	return out, nil
}

// probe measures NATS round trips through the env's server, with a
// second connection as the responder.
func (e *env) probe() (RoundTrip, error) {
	responder, err := nats.Connect(e.conn.ConnectedUrl(), nats.Name("sfsap-bench-probe"))
	if err != nil {
		return RoundTrip{}, fmt.Errorf("connecting the probe to NATS: %w", err)
	}
	defer responder.Close()
	return probeRoundTrip(e.conn, responder, 100, 20*time.Millisecond)
}

// benchProcess names this process, which runs both simulators, in CPU
// figures.
const benchProcess = "simulators"

// cpuTimes returns the CPU time used so far by each process, this one
// included under benchProcess.
func (e *env) cpuTimes() (map[string]time.Duration, error) {
	out := map[string]time.Duration{benchProcess: selfCPUTime()}
	for _, p := range e.all() {
		d, err := p.cpuTime()
		if err != nil {
			return nil, err
		}
		out[p.name] = d
	}
	return out, nil
}

// stop stops the services first, so they drain while NATS is up, then
// NATS. The simulators stay running.
func (e *env) stop() {
	var wg sync.WaitGroup
	for _, p := range e.procs {
		wg.Go(func() { p.stop(20 * time.Second) })
	}
	wg.Wait()
	if e.results != nil {
		e.results.stop()
	}
	if e.trace != nil {
		e.trace.stop()
	}
	if e.conn != nil {
		e.conn.Close()
	}
	if e.nats != nil {
		e.nats.stop(10 * time.Second)
	}
}

// waitIdle waits until the pipeline has no work left: the listener has
// published every change event in the simulator, the filter has settled
// all of them, and both work queues are empty.
func (e *env) waitIdle(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	store := e.sims.Salesforce.Store()
	for {
		events := len(store.EventsAfter(0, 0))
		idle, state, err := e.queueState(ctx, events)
		if err == nil && idle {
			return nil
		}
		if herr := e.healthy(); herr != nil {
			return herr
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("waiting for the pipeline to go idle: %w", err)
			}
			return fmt.Errorf("pipeline still busy after %s: %s", timeout, state)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// queueState reports whether the streams show no work left, given the
// number of change events in the simulator, and describes the state.
func (e *env) queueState(ctx context.Context, events int) (bool, string, error) {
	cdc, err := e.js.Stream(ctx, bus.StreamCDC)
	if err != nil {
		return false, "", err
	}
	filter, err := cdc.Consumer(ctx, bus.ConsumerFilter)
	if err != nil {
		return false, "", err
	}
	fi, err := filter.Info(ctx)
	if err != nil {
		return false, "", err
	}
	published := cdc.CachedInfo().State.Msgs
	var queued uint64
	for _, name := range []string{bus.StreamSAPJobs, bus.StreamWriteback} {
		s, err := e.js.Stream(ctx, name)
		if err != nil {
			return false, "", err
		}
		queued += s.CachedInfo().State.Msgs
	}
	state := fmt.Sprintf("%d of %d change events published, filter has %d pending and %d unacknowledged, %d jobs queued",
		published, events, fi.NumPending, fi.NumAckPending, queued)
	idle := published >= uint64(events) && fi.NumPending == 0 && fi.NumAckPending == 0 && queued == 0
	return idle, state, nil
}

// collector gathers the Result messages of the audit trail by account.
type collector struct {
	mu      sync.Mutex
	results map[string]msg.Result
	changed chan struct{}
	consume jetstream.ConsumeContext
}

// collect starts reading SFSAP_RESULTS from its first message.
func collect(ctx context.Context, js jetstream.JetStream) (*collector, error) {
	cons, err := js.OrderedConsumer(ctx, bus.StreamResults, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", bus.StreamResults, err)
	}
	c := &collector{results: map[string]msg.Result{}, changed: make(chan struct{})}
	c.consume, err = cons.Consume(c.add)
	if err != nil {
		return nil, fmt.Errorf("reading stream %s: %w", bus.StreamResults, err)
	}
	return c, nil
}

func (c *collector) add(m jetstream.Msg) {
	var r msg.Result
	if err := json.Unmarshal(m.Data(), &r); err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := c.results[r.AccountID]; !seen {
		c.results[r.AccountID] = r
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *collector) stop() {
	if c.consume != nil {
		c.consume.Stop()
	}
}

// wait returns the first Result of each id once every id has one. It
// checks health every 200ms and fails with its error.
func (c *collector) wait(ctx context.Context, ids []string, timeout time.Duration, health func() error) (map[string]msg.Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	got := make(map[string]msg.Result, len(ids))
	pending := slices.Clone(ids)
	for {
		c.mu.Lock()
		pending = slices.DeleteFunc(pending, func(id string) bool {
			r, ok := c.results[id]
			if ok {
				got[id] = r
			}
			return ok
		})
		changed := c.changed
		c.mu.Unlock()
		if len(pending) == 0 {
			return got, nil
		}
		if err := health(); err != nil {
			return nil, err
		}
		select {
		case <-changed:
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("%d of %d conversions had no result after %s: see the service logs", len(pending), len(ids), timeout)
			}
			return nil, ctx.Err()
		}
	}
}
