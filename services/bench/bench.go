// Package bench measures sfsap against the job it replaces. It drives
// conversions through the four services, run as separate processes on a
// nats-server process, against the Salesforce and SAP simulators set to
// fixed call latencies.
//
// The report gives the latency from the Salesforce commit to the SAP
// number written back and the pipeline's own overhead within it. It also
// gives throughput, Salesforce API calls per account and peak memory per
// service. A polling baseline and the sum of the simulated call times on
// the critical path put these figures in context.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// Settings configure a bench. Zero fields take the defaults named in their
// comments.
type Settings struct {
	// N is the number of conversions in each measured phase. Defaults to
	// 200.
	N int
	// SAPLatency is added to every SAP function module call, and
	// SFLatency to every Salesforce data API request. Zero means no added
	// latency.
	SAPLatency time.Duration
	SFLatency  time.Duration
	// Transport is the listener's change event transport: "pubsub" for
	// the Pub/Sub API or "cometd" for the Streaming API. Defaults to
	// pubsub.
	Transport string
	// Concurrency lists the SAP worker concurrencies to measure
	// throughput at. The other services run at their defaults.
	// Defaults to 1, 4 and 16.
	Concurrency []int
	// Runs is the number of times every phase runs; the report gives the
	// median of the runs. Defaults to 3.
	Runs int
	// PollInterval is the polling baseline's interval, scaled down from
	// the real one so the bench ends in minutes. The latency phases spread
	// their N conversions over one such interval. Defaults to 10s.
	PollInterval time.Duration
	// RealPollInterval is the interval of the workflow products sfsap
	// replaces. Their latency at this interval is computed, not measured.
	// Defaults to 5m.
	RealPollInterval time.Duration
	// Warmup is the number of conversions made and awaited after the
	// services start, before any measurement. Defaults to 10.
	Warmup int
	// SkipBaseline leaves out the polling baseline.
	SkipBaseline bool
	// BinDir holds prebuilt binaries named listener, filter, sapworker,
	// writeback and nats-server. Empty means build them with go build,
	// which needs the sfsap module as working folder.
	BinDir string
	// WorkDir contains the binaries, configs, JetStream stores and service
	// logs. Defaults to a new temporary folder, which is removed after a
	// successful bench unless KeepWork is set.
	WorkDir  string
	KeepWork bool
	// PhaseTimeout bounds the wait for one phase's results. Defaults to
	// 2 minutes plus N times the simulated call time of one conversion.
	PhaseTimeout time.Duration
	// Logger receives progress. Defaults to discarding it.
	Logger *slog.Logger
}

// WithDefaults returns s with zero fields set to their defaults.
func (s Settings) WithDefaults() Settings {
	if s.N == 0 {
		s.N = 200
	}
	if s.Transport == "" {
		s.Transport = config.TransportPubSub
	}
	if len(s.Concurrency) == 0 {
		s.Concurrency = []int{1, 4, 16}
	}
	if s.Runs == 0 {
		s.Runs = 3
	}
	if s.PollInterval == 0 {
		s.PollInterval = 10 * time.Second
	}
	if s.RealPollInterval == 0 {
		s.RealPollInterval = 5 * time.Minute
	}
	if s.Warmup == 0 {
		s.Warmup = 10
	}
	if s.PhaseTimeout == 0 {
		s.PhaseTimeout = 2*time.Minute + time.Duration(s.N)*s.pathTime()
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// Validate reports every invalid setting.
func (s Settings) Validate() error {
	var errs []error
	if s.N < 1 {
		errs = append(errs, fmt.Errorf("n %d is invalid: use at least 1 conversion", s.N))
	}
	if s.SAPLatency < 0 || s.SFLatency < 0 {
		errs = append(errs, fmt.Errorf("latencies %s (SAP) and %s (Salesforce) must not be negative", s.SAPLatency, s.SFLatency))
	}
	if s.Transport != config.TransportPubSub && s.Transport != config.TransportCometD {
		errs = append(errs, fmt.Errorf("transport %q is invalid: use %s or %s", s.Transport, config.TransportPubSub, config.TransportCometD))
	}
	for _, c := range s.Concurrency {
		if c < 1 {
			errs = append(errs, fmt.Errorf("concurrency %d is invalid: use 1 or more", c))
		}
	}
	if s.Runs < 1 {
		errs = append(errs, fmt.Errorf("runs %d is invalid: use at least 1", s.Runs))
	}
	if s.PollInterval <= 0 || s.RealPollInterval <= 0 {
		errs = append(errs, fmt.Errorf("poll intervals %s and %s must be positive", s.PollInterval, s.RealPollInterval))
	}
	if s.Warmup < 1 {
		errs = append(errs, fmt.Errorf("warmup %d is invalid: use at least 1 conversion", s.Warmup))
	}
	return errors.Join(errs...)
}

// pathTime is the simulated call time on the critical path of one sfsap
// conversion, the floor that no implementation of its design can beat.
func (s Settings) pathTime() time.Duration {
	return sfCallsOnPath*s.SFLatency + sapCallsOnPath*s.SAPLatency
}

// pollPathTime is the simulated call time on the critical path of one
// polled conversion, waiting for the poll aside.
func (s Settings) pollPathTime() time.Duration {
	return pollSFCallsOnPath*s.SFLatency + pollSAPCallsOnPath*s.SAPLatency
}

// Run runs the bench and returns its report.
func Run(ctx context.Context, s Settings) (*Report, error) {
	s = s.WithDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s.Concurrency = slices.Sorted(slices.Values(s.Concurrency))
	s.Concurrency = slices.Compact(s.Concurrency)

	work := s.WorkDir
	if work == "" {
		dir, err := os.MkdirTemp("", "sfsap-bench-")
		if err != nil {
			return nil, fmt.Errorf("creating work folder: %w", err)
		}
		work = dir
	}
	binDir := s.BinDir
	if binDir == "" {
		binDir = filepath.Join(work, "bin")
		s.Logger.Info("bench: building binaries", "dir", binDir)
		if err := Build(ctx, binDir); err != nil {
			return nil, err
		}
	}
	if err := checkBinaries(binDir); err != nil {
		return nil, err
	}

	rep := &Report{Machine: ReadMachine(), Settings: s.report()}
	for i := range s.Runs {
		s.Logger.Info("bench: run started", "run", i+1, "runs", s.Runs)
		run, err := runOnce(ctx, s, binDir, filepath.Join(work, fmt.Sprintf("run-%d", i+1)))
		if err != nil {
			s.Logger.Error("bench: run failed; keeping the work folder for its logs", "run", i+1, "work_dir", work, "error", err)
			return nil, fmt.Errorf("run %d: %w (logs in %s)", i+1, err, work)
		}
		rep.Runs = append(rep.Runs, run)
	}
	rep.Median = median(rep.Runs)
	rep.Targets = evaluate(rep.Median, s, rep.Machine.CPUs)
	if !s.KeepWork && s.WorkDir == "" {
		if err := os.RemoveAll(work); err != nil {
			s.Logger.Warn("bench: removing work folder failed", "work_dir", work, "error", err)
		}
	}
	return rep, nil
}

// runOnce runs every phase once: for each concurrency a fresh deployment
// with a warm-up and a bulk phase, at the highest concurrency also the
// paced latency phase, and then the polling baseline.
func runOnce(ctx context.Context, s Settings, binDir, dir string) (RunResult, error) {
	run := RunResult{Memory: map[string]Memory{}}
	top := s.Concurrency[len(s.Concurrency)-1]
	for _, c := range s.Concurrency {
		tp, lat, mem, err := runDeployment(ctx, s, binDir, filepath.Join(dir, fmt.Sprintf("c%d", c)), c, c == top)
		if err != nil {
			return run, fmt.Errorf("concurrency %d: %w", c, err)
		}
		run.Throughput = append(run.Throughput, tp)
		if lat != nil {
			run.Latency = *lat
		}
		for name, m := range mem {
			if m.PeakMiB > run.Memory[name].PeakMiB {
				run.Memory[name] = m
			}
		}
	}
	if !s.SkipBaseline {
		b, err := runBaseline(ctx, s)
		if err != nil {
			return run, fmt.Errorf("polling baseline: %w", err)
		}
		run.Baseline = b
		run.Ratios = ratios(run, s)
	}
	return run, nil
}

// runDeployment starts one deployment at concurrency c, warms it up, runs
// the paced latency phase when paced is set, then the bulk phase, and
// reads the processes' memory.
func runDeployment(ctx context.Context, s Settings, binDir, dir string, c int, paced bool) (ThroughputResult, *LatencyResult, map[string]Memory, error) {
	log := s.Logger.With("concurrency", c)
	sims, err := startSimulators(s.SFLatency, s.SAPLatency)
	if err != nil {
		return ThroughputResult{}, nil, nil, err
	}
	defer sims.Close()
	store := sims.Salesforce.Store()

	// Every account exists before the services start, so their CREATE
	// events are behind the pipeline before anything is measured.
	warm, err := seedProspects(store, "Warmup", s.Warmup)
	if err != nil {
		return ThroughputResult{}, nil, nil, err
	}
	var pacedIDs []string
	if paced {
		if pacedIDs, err = seedProspects(store, "Paced", s.N); err != nil {
			return ThroughputResult{}, nil, nil, err
		}
	}
	bulkIDs, err := seedProspects(store, "Bulk", s.N)
	if err != nil {
		return ThroughputResult{}, nil, nil, err
	}

	e, err := startEnv(ctx, sims, binDir, dir, s.Transport, c, log)
	if err != nil {
		return ThroughputResult{}, nil, nil, err
	}
	defer e.stop()

	log.Info("bench: warming up", "conversions", len(warm))
	if _, err := e.runPhase(ctx, warm, s.PhaseTimeout, s, func() error { return convertAll(store, warm) }); err != nil {
		return ThroughputResult{}, nil, nil, fmt.Errorf("warm-up: %w", err)
	}

	var lat *LatencyResult
	if paced {
		rt, err := e.probe()
		if err != nil {
			return ThroughputResult{}, nil, nil, err
		}
		log.Info("bench: paced latency phase", "conversions", s.N, "span", s.PollInterval)
		p, err := e.runPhase(ctx, pacedIDs, s.PhaseTimeout+s.PollInterval, s, func() error {
			return convertPaced(ctx, store, pacedIDs, time.Now(), s.PollInterval)
		})
		if err != nil {
			return ThroughputResult{}, nil, nil, fmt.Errorf("latency phase: %w", err)
		}
		lat = latencyResult(p, c, s)
		lat.RoundTrip = rt
	}

	log.Info("bench: bulk phase", "conversions", s.N)
	p, err := e.runPhase(ctx, bulkIDs, s.PhaseTimeout, s, func() error { return convertAll(store, bulkIDs) })
	if err != nil {
		return ThroughputResult{}, nil, nil, fmt.Errorf("bulk phase: %w", err)
	}
	tp := throughputResult(p, c, s)
	log.Info("bench: bulk phase done", "per_second", round(tp.PerSecond, 1), "sf_calls_per_account", round(tp.SFCallsPerAccount, 3))

	mem, err := e.memory()
	if err != nil {
		return ThroughputResult{}, nil, nil, err
	}
	return tp, lat, mem, nil
}

// runBaseline runs the polling baseline on fresh simulators with the same
// latencies: N conversions spread over one poll interval, picked up by the
// next poll and handled one at a time.
func runBaseline(ctx context.Context, s Settings) (*BaselineResult, error) {
	sims, err := startSimulators(s.SFLatency, s.SAPLatency)
	if err != nil {
		return nil, err
	}
	defer sims.Close()
	store := sims.Salesforce.Store()
	ids, err := seedProspects(store, "Polled", s.N)
	if err != nil {
		return nil, err
	}
	p, err := newPoller(ctx, sims, s.PollInterval, s.Logger)
	if err != nil {
		return nil, err
	}
	after := store.LatestReplayID()
	before := readCounters(sims.Salesforce, sims.SAP)

	pollCtx, stop := context.WithCancel(ctx)
	defer stop()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.run(pollCtx, start)
	}()
	s.Logger.Info("bench: polling baseline", "conversions", s.N, "interval", s.PollInterval)
	if err := convertPaced(ctx, store, ids, start, s.PollInterval); err != nil {
		return nil, err
	}
	timeout := s.PhaseTimeout + 2*s.PollInterval + time.Duration(s.N)*s.pollPathTime()
	conv, err := waitWritten(ctx, store, after, ids, timeout)
	stop()
	<-done
	if err != nil {
		return nil, err
	}
	apiCalls, kinds, sapCalls := callsSince(before, readCounters(sims.Salesforce, sims.SAP))
	return baselineResult(p, conv, ids, apiCalls, kinds, sapCalls, s), nil
}

// waitWritten waits until every id has its SAP number, and returns the
// conversions' times.
func waitWritten(ctx context.Context, store *sfsim.Store, after int64, ids []string, timeout time.Duration) (map[string]times, error) {
	sapField := account.DefaultFields().SAPID
	deadline := time.Now().Add(timeout)
	pending := slices.Clone(ids)
	for {
		pending = slices.DeleteFunc(pending, func(id string) bool {
			rec, _ := store.Get(id)
			return rec[sapField] != nil
		})
		if len(pending) == 0 {
			return conversionTimes(store, after, ids), nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d polled conversions had no SAP number after %s", len(pending), len(ids), timeout)
		}
		if err := sleepUntil(ctx, time.Now().Add(50*time.Millisecond)); err != nil {
			return nil, err
		}
	}
}
