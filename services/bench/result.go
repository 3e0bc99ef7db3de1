package bench

import (
	"slices"
	"time"
)

// Report is the outcome of a bench: the machine, the settings, every run
// and the median of the runs, with the targets judged on the medians.
type Report struct {
	Machine  Machine        `json:"machine"`
	Settings SettingsReport `json:"settings"`
	Runs     []RunResult    `json:"runs"`
	Median   RunResult      `json:"median"`
	Targets  []Target       `json:"targets"`
}

// SettingsReport are the settings a report was made with.
type SettingsReport struct {
	N                  int     `json:"n"`
	Transport          string  `json:"transport"`
	SAPLatencyMS       float64 `json:"sap_latency_ms"`
	SFLatencyMS        float64 `json:"sf_latency_ms"`
	Concurrency        []int   `json:"concurrency"`
	Runs               int     `json:"runs"`
	PollIntervalS      float64 `json:"poll_interval_s"`
	RealPollIntervalS  float64 `json:"real_poll_interval_s"`
	Warmup             int     `json:"warmup"`
	FloorMS            float64 `json:"floor_ms"`
	PolledFloorMS      float64 `json:"polled_floor_ms"`
	SFCallsOnPath      int     `json:"sf_calls_on_path"`
	SAPCallsOnPath     int     `json:"sap_calls_on_path"`
	PolledSFCallsPath  int     `json:"polled_sf_calls_on_path"`
	PolledSAPCallsPath int     `json:"polled_sap_calls_on_path"`
}

func (s Settings) report() SettingsReport {
	return SettingsReport{
		N: s.N, Transport: s.Transport, SAPLatencyMS: ms(s.SAPLatency), SFLatencyMS: ms(s.SFLatency),
		Concurrency: s.Concurrency, Runs: s.Runs,
		PollIntervalS: s.PollInterval.Seconds(), RealPollIntervalS: s.RealPollInterval.Seconds(),
		Warmup: s.Warmup, FloorMS: ms(s.pathTime()), PolledFloorMS: ms(s.pollPathTime()),
		SFCallsOnPath: sfCallsOnPath, SAPCallsOnPath: sapCallsOnPath,
		PolledSFCallsPath: pollSFCallsOnPath, PolledSAPCallsPath: pollSAPCallsOnPath,
	}
}

// RunResult contains the measurements of one run.
type RunResult struct {
	// Latency is the paced phase at the highest concurrency.
	Latency LatencyResult `json:"latency"`
	// Throughput has one bulk phase per concurrency, in ascending order.
	Throughput []ThroughputResult `json:"throughput"`
	// Memory is the resident memory of each process by program name, the
	// highest peak over all concurrencies.
	Memory   map[string]Memory `json:"memory"`
	Baseline *BaselineResult   `json:"baseline,omitempty"`
	Ratios   *Ratios           `json:"ratios,omitempty"`
}

// LatencyResult is the time from the Salesforce commit of a conversion to
// its SAP number written back, with conversions spread evenly over one
// poll interval so they do not queue behind each other.
type LatencyResult struct {
	Concurrency int     `json:"concurrency"`
	PerSecond   float64 `json:"conversions_per_second"`
	Synced      int     `json:"synced"`
	Failed      int     `json:"failed"`
	// CommitMismatch counts Results whose CommittedAt is a millisecond or
	// more away from the commit time the simulator recorded.
	CommitMismatch int `json:"commit_mismatch"`
	// Duplicates counts SAP customers beyond the first per account; in
	// the median it is the highest count of any run.
	Duplicates int          `json:"duplicates"`
	Latency    Distribution `json:"latency"`
	// Overhead is the latency minus the simulated call time on the
	// conversion's critical path.
	Overhead Distribution `json:"overhead"`
	FloorMS  float64      `json:"floor_ms"`
	// Stages splits the latency by service.
	Stages []StageResult `json:"stages"`
	// RoundTrip is measured in the same deployment, before the phase.
	RoundTrip RoundTrip `json:"nats_round_trip"`
	// OtherCPUs is the CPU time that programs outside the bench used per
	// second of the phase, in CPUs: load from elsewhere on the machine.
	OtherCPUs float64 `json:"other_cpus"`

	samples []time.Duration
}

// ThroughputResult is one bulk phase: N conversions committed at once.
type ThroughputResult struct {
	Concurrency int `json:"concurrency"`
	Synced      int `json:"synced"`
	Failed      int `json:"failed"`
	// Duplicates counts SAP customers beyond the first per account; in
	// the median it is the highest count of any run.
	Duplicates int `json:"duplicates"`
	// Seconds runs from the first commit to the last SAP number written.
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"conversions_per_second"`
	// IdealPerSecond is concurrency divided by the SAP call time of one
	// conversion, 0 without SAP latency.
	IdealPerSecond float64 `json:"ideal_per_second"`
	// Efficiency is PerSecond over IdealPerSecond.
	Efficiency float64 `json:"efficiency"`
	// SFCallsPerAccount counts data API calls, login and CometD left out.
	SFCallsPerAccount  float64        `json:"sf_calls_per_account"`
	SFCallsByKind      map[string]int `json:"sf_calls_by_kind"`
	SAPCallsPerAccount float64        `json:"sap_calls_per_account"`
	// Latency includes the time each conversion queued behind the others.
	Latency Distribution  `json:"latency"`
	Stages  []StageResult `json:"stages"`
	// CPUPerConversionMS is the CPU time each process used per conversion,
	// by program name; "simulators" is the bench process, which runs both
	// simulators. Linux counts it in steps of 10 ms per process.
	CPUPerConversionMS map[string]float64 `json:"cpu_per_conversion_ms"`
	// NATSInPerConversion and NATSOutPerConversion are the messages
	// nats-server received from and sent to its clients per conversion:
	// publishes, acknowledgements, pull and API requests and their
	// replies. The bench's own subscriptions add about six messages out.
	NATSInPerConversion  float64 `json:"nats_in_per_conversion"`
	NATSOutPerConversion float64 `json:"nats_out_per_conversion"`
	// OtherCPUs is the CPU time that programs outside the bench used per
	// second of the phase, in CPUs: load from elsewhere on the machine.
	OtherCPUs float64 `json:"other_cpus"`

	samples []time.Duration
}

// BaselineResult is the polling baseline: the same conversions found by a
// poll and handled one at a time.
type BaselineResult struct {
	IntervalS float64 `json:"interval_s"`
	Synced    int     `json:"synced"`
	Failed    int     `json:"failed"`
	// Latency is measured at the scaled interval.
	Latency Distribution `json:"latency"`
	// Processing runs from the start of the poll that found a conversion
	// to its SAP number written, so it includes waiting for the
	// conversions ahead of it in the same poll.
	Processing Distribution `json:"processing"`
	// RealIntervalS and RealLatency give the latency at the real interval,
	// computed from the measured processing times and a wait for the next
	// poll that is uniform over the interval. It assumes as many
	// conversions per poll as in the measured run.
	RealIntervalS float64      `json:"real_interval_s"`
	RealLatency   Distribution `json:"real_latency"`
	// PerSecond is the conversions handled per second while polls were
	// working.
	PerSecond          float64        `json:"conversions_per_second"`
	SFCallsPerAccount  float64        `json:"sf_calls_per_account"`
	SFCallsByKind      map[string]int `json:"sf_calls_by_kind"`
	SAPCallsPerAccount float64        `json:"sap_calls_per_account"`
	// IdleCallsPerDay is the data API calls a day that polling at the real
	// interval costs when nothing changes.
	IdleCallsPerDay float64 `json:"idle_calls_per_day"`
	FloorMS         float64 `json:"floor_ms"`

	samples    []time.Duration
	processing []time.Duration
	interval   time.Duration
}

// Ratios compare sfsap with the polling baseline in one run. Values above
// 1 favour sfsap.
type Ratios struct {
	// Latency ratios divide the baseline's latency by sfsap's paced latency
	// at the same quantile, at the scaled and at the real interval.
	LatencyP50Scaled float64 `json:"latency_p50_scaled"`
	LatencyP99Scaled float64 `json:"latency_p99_scaled"`
	LatencyP50Real   float64 `json:"latency_p50_real"`
	LatencyP99Real   float64 `json:"latency_p99_real"`
	// Throughput divides sfsap's bulk throughput at the highest
	// concurrency by the baseline's.
	Throughput float64 `json:"throughput"`
	// SFCalls divides the baseline's Salesforce calls per account by
	// sfsap's in the bulk phase at the highest concurrency.
	SFCalls float64 `json:"sf_calls"`
	// LatencyOverFloor divides sfsap's p50 latency by the floor, the
	// simulated call time on its critical path.
	LatencyOverFloor float64 `json:"latency_p50_over_floor"`
}

func latencyResult(p phase, concurrency int, s Settings) *LatencyResult {
	return &LatencyResult{
		Concurrency:    concurrency,
		PerSecond:      float64(s.N) / s.PollInterval.Seconds(),
		Synced:         p.Synced,
		Failed:         p.Failed,
		CommitMismatch: p.CommitMismatch,
		Duplicates:     p.Duplicates,
		Latency:        Summarize(p.Latency),
		Overhead:       Summarize(p.Overhead),
		FloorMS:        ms(s.pathTime()),
		Stages:         p.Stages,
		OtherCPUs:      p.OtherCPUs,
		samples:        p.Latency,
	}
}

func throughputResult(p phase, concurrency int, s Settings) ThroughputResult {
	r := ThroughputResult{
		Concurrency:   concurrency,
		Synced:        p.Synced,
		Failed:        p.Failed,
		Duplicates:    p.Duplicates,
		SFCallsByKind: p.CallsByKind,
		Latency:       Summarize(p.Latency),
		Stages:        p.Stages,
		OtherCPUs:     p.OtherCPUs,
		samples:       p.Latency,
	}
	if elapsed := p.Last.Sub(p.First); elapsed > 0 {
		r.Seconds = elapsed.Seconds()
		r.PerSecond = float64(p.Synced) / r.Seconds
	}
	if s.SAPLatency > 0 {
		r.IdealPerSecond = float64(concurrency) / (sapCallsOnPath * s.SAPLatency).Seconds()
		r.Efficiency = r.PerSecond / r.IdealPerSecond
	}
	r.CPUPerConversionMS = map[string]float64{}
	for name, d := range p.CPU {
		r.CPUPerConversionMS[name] = ms(d) / float64(s.N)
	}
	r.NATSInPerConversion = float64(p.NATSIn) / float64(s.N)
	r.NATSOutPerConversion = float64(p.NATSOut) / float64(s.N)
	r.SFCallsPerAccount = float64(p.APICalls) / float64(s.N)
	r.SAPCallsPerAccount = float64(p.SAPCalls) / float64(s.N)
	return r
}

func baselineResult(p *poller, conv map[string]times, ids []string, apiCalls int, kinds map[string]int, sapCalls int, s Settings) *BaselineResult {
	r := &BaselineResult{
		IntervalS:          s.PollInterval.Seconds(),
		RealIntervalS:      s.RealPollInterval.Seconds(),
		PerSecond:          p.throughput(),
		SFCallsPerAccount:  float64(apiCalls) / float64(s.N),
		SFCallsByKind:      kinds,
		SAPCallsPerAccount: float64(sapCalls) / float64(s.N),
		IdleCallsPerDay:    (24 * time.Hour).Seconds() / s.RealPollInterval.Seconds(),
		FloorMS:            ms(s.pollPathTime()),
		interval:           s.RealPollInterval,
	}
	for _, id := range ids {
		t, ok := conv[id]
		picked, found := p.pickedAt(id)
		if !ok || !found {
			r.Failed++
			continue
		}
		r.Synced++
		r.samples = append(r.samples, t.Written.Sub(t.Committed))
		r.processing = append(r.processing, t.Written.Sub(picked))
	}
	p.mu.Lock()
	r.Failed += p.errors
	p.mu.Unlock()
	r.Latency = Summarize(r.samples)
	r.Processing = Summarize(r.processing)
	r.RealLatency = Distribution{
		Count: len(r.processing),
		P50:   ms(PollingQuantile(r.processing, s.RealPollInterval, 0.50)),
		P95:   ms(PollingQuantile(r.processing, s.RealPollInterval, 0.95)),
		P99:   ms(PollingQuantile(r.processing, s.RealPollInterval, 0.99)),
		Max:   ms(PollingQuantile(r.processing, s.RealPollInterval, 1)),
		Mean:  r.Processing.Mean + ms(s.RealPollInterval)/2,
	}
	return r
}

// ratios compares sfsap with the baseline in one run.
func ratios(run RunResult, s Settings) *Ratios {
	b := run.Baseline
	if b == nil || len(run.Throughput) == 0 {
		return nil
	}
	top := run.Throughput[len(run.Throughput)-1]
	l := run.Latency.Latency
	return &Ratios{
		LatencyP50Scaled: div(b.Latency.P50, l.P50),
		LatencyP99Scaled: div(b.Latency.P99, l.P99),
		LatencyP50Real:   div(b.RealLatency.P50, l.P50),
		LatencyP99Real:   div(b.RealLatency.P99, l.P99),
		Throughput:       div(top.PerSecond, b.PerSecond),
		SFCalls:          div(b.SFCallsPerAccount, top.SFCallsPerAccount),
		LatencyOverFloor: div(l.P50, ms(s.pathTime())),
	}
}

func div(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// median returns, field by field, the median of the runs. The samples of
// all runs are pooled for the chart.
func median(runs []RunResult) RunResult {
	if len(runs) == 0 {
		return RunResult{}
	}
	pick := func(f func(RunResult) float64) float64 {
		values := make([]float64, len(runs))
		for i, r := range runs {
			values[i] = f(r)
		}
		return Median(values)
	}
	first := runs[0]
	out := RunResult{Memory: map[string]Memory{}}

	out.Latency = LatencyResult{
		Concurrency:    first.Latency.Concurrency,
		PerSecond:      first.Latency.PerSecond,
		Synced:         int(pick(func(r RunResult) float64 { return float64(r.Latency.Synced) })),
		Failed:         int(pick(func(r RunResult) float64 { return float64(r.Latency.Failed) })),
		CommitMismatch: int(pick(func(r RunResult) float64 { return float64(r.Latency.CommitMismatch) })),
		Duplicates:     highest(runs, func(r RunResult) int { return r.Latency.Duplicates }),
		Latency:        medianDist(runs, func(r RunResult) Distribution { return r.Latency.Latency }),
		Overhead:       medianDist(runs, func(r RunResult) Distribution { return r.Latency.Overhead }),
		FloorMS:        first.Latency.FloorMS,
		Stages:         medianStages(runs, func(r RunResult) []StageResult { return r.Latency.Stages }),
		OtherCPUs:      pick(func(r RunResult) float64 { return r.Latency.OtherCPUs }),
		RoundTrip: RoundTrip{
			GapMS: first.Latency.RoundTrip.GapMS,
			Busy:  medianDist(runs, func(r RunResult) Distribution { return r.Latency.RoundTrip.Busy }),
			Idle:  medianDist(runs, func(r RunResult) Distribution { return r.Latency.RoundTrip.Idle }),
		},
	}
	for _, r := range runs {
		out.Latency.samples = append(out.Latency.samples, r.Latency.samples...)
	}

	for i, tp := range first.Throughput {
		at := func(f func(ThroughputResult) float64) float64 {
			return pick(func(r RunResult) float64 { return f(r.Throughput[i]) })
		}
		m := ThroughputResult{
			Concurrency:          tp.Concurrency,
			Synced:               int(at(func(t ThroughputResult) float64 { return float64(t.Synced) })),
			Failed:               int(at(func(t ThroughputResult) float64 { return float64(t.Failed) })),
			Duplicates:           highest(runs, func(r RunResult) int { return r.Throughput[i].Duplicates }),
			Seconds:              at(func(t ThroughputResult) float64 { return t.Seconds }),
			PerSecond:            at(func(t ThroughputResult) float64 { return t.PerSecond }),
			IdealPerSecond:       tp.IdealPerSecond,
			Efficiency:           at(func(t ThroughputResult) float64 { return t.Efficiency }),
			SFCallsPerAccount:    at(func(t ThroughputResult) float64 { return t.SFCallsPerAccount }),
			SFCallsByKind:        tp.SFCallsByKind,
			SAPCallsPerAccount:   at(func(t ThroughputResult) float64 { return t.SAPCallsPerAccount }),
			NATSInPerConversion:  at(func(t ThroughputResult) float64 { return t.NATSInPerConversion }),
			NATSOutPerConversion: at(func(t ThroughputResult) float64 { return t.NATSOutPerConversion }),
			OtherCPUs:            at(func(t ThroughputResult) float64 { return t.OtherCPUs }),
			Latency:              medianDist(runs, func(r RunResult) Distribution { return r.Throughput[i].Latency }),
			Stages:               medianStages(runs, func(r RunResult) []StageResult { return r.Throughput[i].Stages }),
			CPUPerConversionMS:   map[string]float64{},
		}
		for name := range tp.CPUPerConversionMS {
			m.CPUPerConversionMS[name] = at(func(t ThroughputResult) float64 { return t.CPUPerConversionMS[name] })
		}
		for _, r := range runs {
			m.samples = append(m.samples, r.Throughput[i].samples...)
		}
		out.Throughput = append(out.Throughput, m)
	}

	for name := range first.Memory {
		out.Memory[name] = Memory{
			PeakMiB:    pick(func(r RunResult) float64 { return r.Memory[name].PeakMiB }),
			CurrentMiB: pick(func(r RunResult) float64 { return r.Memory[name].CurrentMiB }),
		}
	}

	if first.Baseline != nil {
		fb := first.Baseline
		b := &BaselineResult{
			IntervalS:          fb.IntervalS,
			Synced:             int(pick(func(r RunResult) float64 { return float64(r.Baseline.Synced) })),
			Failed:             int(pick(func(r RunResult) float64 { return float64(r.Baseline.Failed) })),
			Latency:            medianDist(runs, func(r RunResult) Distribution { return r.Baseline.Latency }),
			Processing:         medianDist(runs, func(r RunResult) Distribution { return r.Baseline.Processing }),
			RealIntervalS:      fb.RealIntervalS,
			RealLatency:        medianDist(runs, func(r RunResult) Distribution { return r.Baseline.RealLatency }),
			PerSecond:          pick(func(r RunResult) float64 { return r.Baseline.PerSecond }),
			SFCallsPerAccount:  pick(func(r RunResult) float64 { return r.Baseline.SFCallsPerAccount }),
			SFCallsByKind:      fb.SFCallsByKind,
			SAPCallsPerAccount: pick(func(r RunResult) float64 { return r.Baseline.SAPCallsPerAccount }),
			IdleCallsPerDay:    fb.IdleCallsPerDay,
			FloorMS:            fb.FloorMS,
			interval:           fb.interval,
		}
		for _, r := range runs {
			b.samples = append(b.samples, r.Baseline.samples...)
			b.processing = append(b.processing, r.Baseline.processing...)
		}
		out.Baseline = b
	}
	if first.Ratios != nil {
		ratio := func(f func(*Ratios) float64) float64 {
			return pick(func(r RunResult) float64 { return f(r.Ratios) })
		}
		out.Ratios = &Ratios{
			LatencyP50Scaled: ratio(func(r *Ratios) float64 { return r.LatencyP50Scaled }),
			LatencyP99Scaled: ratio(func(r *Ratios) float64 { return r.LatencyP99Scaled }),
			LatencyP50Real:   ratio(func(r *Ratios) float64 { return r.LatencyP50Real }),
			LatencyP99Real:   ratio(func(r *Ratios) float64 { return r.LatencyP99Real }),
			Throughput:       ratio(func(r *Ratios) float64 { return r.Throughput }),
			SFCalls:          ratio(func(r *Ratios) float64 { return r.SFCalls }),
			LatencyOverFloor: ratio(func(r *Ratios) float64 { return r.LatencyOverFloor }),
		}
	}
	return out
}

// medianDist returns the field-by-field median of a distribution over the
// runs.
func medianDist(runs []RunResult, f func(RunResult) Distribution) Distribution {
	field := func(g func(Distribution) float64) float64 {
		values := make([]float64, len(runs))
		for i, r := range runs {
			values[i] = g(f(r))
		}
		return Median(values)
	}
	counts := make([]float64, len(runs))
	for i, r := range runs {
		counts[i] = float64(f(r).Count)
	}
	return Distribution{
		Count: int(slices.Max(counts)),
		P50:   field(func(d Distribution) float64 { return d.P50 }),
		P95:   field(func(d Distribution) float64 { return d.P95 }),
		P99:   field(func(d Distribution) float64 { return d.P99 }),
		Max:   field(func(d Distribution) float64 { return d.Max }),
		Mean:  field(func(d Distribution) float64 { return d.Mean }),
	}
}

// medianStages returns the median of each stage over the runs.
func medianStages(runs []RunResult, f func(RunResult) []StageResult) []StageResult {
	first := f(runs[0])
	out := make([]StageResult, len(first))
	for i, st := range first {
		out[i] = StageResult{
			Name:        st.Name,
			SimulatedMS: st.SimulatedMS,
			Latency:     medianDist(runs, func(r RunResult) Distribution { return f(r)[i].Latency }),
			Overhead:    medianDist(runs, func(r RunResult) Distribution { return f(r)[i].Overhead }),
		}
	}
	return out
}

// highest returns the largest value of f over the runs.
func highest(runs []RunResult, f func(RunResult) int) int {
	out := 0
	for _, r := range runs {
		out = max(out, f(r))
	}
	return out
}
