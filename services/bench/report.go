package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Target statuses.
const (
	StatusMet         = "met"
	StatusMissed      = "missed"
	StatusNotMeasured = "not measured"
)

// Target is one goal sfsap is held to, judged on the medians.
type Target struct {
	Name     string `json:"name"`
	Measured string `json:"measured"`
	Status   string `json:"status"`
	// Shortfall is how far a missed target is from its goal.
	Shortfall string `json:"shortfall,omitempty"`
}

// Goals of the targets.
const (
	goalOverheadP99MS     = 20.0
	goalZeroLatencyPerSec = 1000.0
	goalEfficiency        = 0.90
	goalSFCallsPerAccount = 0.05
	goalServiceMiB        = 30.0
)

// evaluate judges the targets on the medians m.
func evaluate(m RunResult, s Settings, cpus int) []Target {
	var out []Target

	t := Target{Name: fmt.Sprintf("pipeline overhead p99 at most %.0f ms", goalOverheadP99MS), Status: StatusNotMeasured}
	if m.Latency.Synced > 0 {
		v := m.Latency.Overhead.P99
		t.Measured = fmtMS(v)
		t.Status = status(v <= goalOverheadP99MS)
		if v > goalOverheadP99MS {
			t.Shortfall = fmt.Sprintf("%s over, %.1fx the goal", fmtMS(v-goalOverheadP99MS), v/goalOverheadP99MS)
		}
	}
	out = append(out, t)

	t = Target{Name: fmt.Sprintf("at least %.0f conversions/s with zero-latency simulators on 2 cores", goalZeroLatencyPerSec), Status: StatusNotMeasured}
	if s.SAPLatency == 0 && s.SFLatency == 0 && len(m.Throughput) > 0 {
		best := slices.MaxFunc(m.Throughput, func(a, b ThroughputResult) int { return cmpFloat(a.PerSecond, b.PerSecond) })
		t.Measured = fmt.Sprintf("%.0f/s at concurrency %d on %d CPUs", best.PerSecond, best.Concurrency, cpus)
		t.Status = status(best.PerSecond >= goalZeroLatencyPerSec)
		if best.PerSecond < goalZeroLatencyPerSec {
			t.Shortfall = fmt.Sprintf("%.0f%% short", 100*(1-best.PerSecond/goalZeroLatencyPerSec))
		}
	} else {
		t.Measured = "needs -sap-latency 0 -sf-latency 0"
	}
	out = append(out, t)

	t = Target{Name: fmt.Sprintf("throughput at least %.0f%% of concurrency / SAP time per conversion", 100*goalEfficiency), Status: StatusNotMeasured}
	if s.SAPLatency > 0 && len(m.Throughput) > 0 {
		var parts []string
		worst := m.Throughput[0]
		for _, tp := range m.Throughput {
			parts = append(parts, fmt.Sprintf("c=%d %.0f%%", tp.Concurrency, 100*tp.Efficiency))
			if tp.Efficiency < worst.Efficiency {
				worst = tp
			}
		}
		t.Measured = strings.Join(parts, ", ")
		t.Status = status(worst.Efficiency >= goalEfficiency)
		if worst.Efficiency < goalEfficiency {
			t.Shortfall = fmt.Sprintf("c=%d reaches %.0f%%, %.0f points short", worst.Concurrency, 100*worst.Efficiency, 100*(goalEfficiency-worst.Efficiency))
		}
	} else {
		t.Measured = "needs -sap-latency above 0"
	}
	out = append(out, t)

	t = Target{Name: fmt.Sprintf("at most %.2f Salesforce API calls per account in bulk", goalSFCallsPerAccount), Status: StatusNotMeasured}
	if len(m.Throughput) > 0 {
		top := m.Throughput[len(m.Throughput)-1]
		v := top.SFCallsPerAccount
		t.Measured = fmt.Sprintf("%.3f at concurrency %d (%s)", v, top.Concurrency, fmtKinds(top.SFCallsByKind))
		t.Status = status(v <= goalSFCallsPerAccount)
		if v > goalSFCallsPerAccount {
			t.Shortfall = fmt.Sprintf("%.1fx the goal", v/goalSFCallsPerAccount)
		}
	}
	out = append(out, t)

	t = Target{Name: fmt.Sprintf("at most %.0f MiB resident memory per service", goalServiceMiB), Status: StatusNotMeasured}
	if len(m.Memory) > 0 {
		var parts []string
		worst, worstName := 0.0, ""
		for _, name := range services {
			v := m.Memory[name].PeakMiB
			parts = append(parts, fmt.Sprintf("%s %.1f", name, v))
			if v > worst {
				worst, worstName = v, name
			}
		}
		t.Measured = strings.Join(parts, ", ") + " MiB"
		t.Status = status(worst <= goalServiceMiB)
		if worst > goalServiceMiB {
			t.Shortfall = fmt.Sprintf("%s peaks at %.1f MiB, %.1f MiB over", worstName, worst, worst-goalServiceMiB)
		}
	}
	out = append(out, t)
	return out
}

func status(met bool) string {
	if met {
		return StatusMet
	}
	return StatusMissed
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fmtMS formats milliseconds with a unit that suits the size.
func fmtMS(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 1000:
		return fmt.Sprintf("%.1f ms", v)
	case v < 100_000:
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%.0f s", v/1000)
}

// fmtInterval formats seconds as a Go duration without zero trailing
// units, such as 10s, 300ms or 5m.
func fmtInterval(seconds float64) string {
	text := time.Duration(seconds * float64(time.Second)).String()
	if strings.HasSuffix(text, "m0s") {
		text = strings.TrimSuffix(text, "0s")
	}
	if strings.HasSuffix(text, "h0m") {
		text = strings.TrimSuffix(text, "0m")
	}
	return text
}

// fmtKinds formats request counts by kind, largest first.
func fmtKinds(kinds map[string]int) string {
	names := slices.SortedFunc(maps.Keys(kinds), func(a, b string) int {
		if kinds[a] != kinds[b] {
			return kinds[b] - kinds[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%d %s", kinds[k], k)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// WriteText writes the report as short tables of the medians.
func (r *Report) WriteText(w io.Writer) error {
	s, m := r.Settings, r.Median
	var b strings.Builder
	fmt.Fprintf(&b, "sfsap bench: %d conversions per phase, SAP %s per call, Salesforce %s per data API request, listener on %s, median of %d runs\n",
		s.N, fmtMS(s.SAPLatencyMS), fmtMS(s.SFLatencyMS), s.Transport, s.Runs)
	fmt.Fprintf(&b, "machine: %s, %d CPUs, %.1f GiB, Linux %s, %s\n\n", r.Machine.CPU, r.Machine.CPUs, r.Machine.MemoryGiB, r.Machine.Kernel, r.Machine.GoVersion)

	b.WriteString("Latency from Salesforce commit to SAP number written back\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tp50\tp95\tp99\tmax\t")
	row := func(name string, d Distribution) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", name, fmtMS(d.P50), fmtMS(d.P95), fmtMS(d.P99), fmtMS(d.Max))
	}
	row(fmt.Sprintf("sfsap, %.0f/s, concurrency %d", m.Latency.PerSecond, m.Latency.Concurrency), m.Latency.Latency)
	row("sfsap pipeline overhead", m.Latency.Overhead)
	fmt.Fprintf(tw, "floor, %d Salesforce + %d SAP calls\t%s\t\t\t\t\n", s.SFCallsOnPath, s.SAPCallsOnPath, fmtMS(s.FloorMS))
	if bl := m.Baseline; bl != nil {
		row(fmt.Sprintf("polling every %s, measured", fmtInterval(bl.IntervalS)), bl.Latency)
		row(fmt.Sprintf("polling every %s, computed", fmtInterval(bl.RealIntervalS)), bl.RealLatency)
	}
	tw.Flush()

	if len(m.Latency.Stages) > 0 {
		b.WriteString("\nsfsap latency by service (paced), and overhead after the simulated calls\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "service\tsimulated\tp50\tp99\toverhead p50\toverhead p99\t")
		for _, st := range m.Latency.Stages {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", st.Name, fmtMS(st.SimulatedMS), fmtMS(st.Latency.P50), fmtMS(st.Latency.P99),
				fmtMS(st.Overhead.P50), fmtMS(st.Overhead.P99))
		}
		tw.Flush()
		rt := m.Latency.RoundTrip
		fmt.Fprintf(&b, "NATS request round trip: %s p50, %s p99 back to back; %s p50, %s p99 after %s idle\n",
			fmtMS(rt.Busy.P50), fmtMS(rt.Busy.P99), fmtMS(rt.Idle.P50), fmtMS(rt.Idle.P99), fmtMS(rt.GapMS))
		fmt.Fprintf(&b, "other programs on the machine used %.2f CPUs during the paced phase\n", m.Latency.OtherCPUs)
	}

	b.WriteString("\nThroughput, all conversions committed at once\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "concurrency\tconv/s\tideal\tefficiency\tSF calls/acct\tSAP calls/acct\tp50\tp99\tother CPUs\t")
	for _, tp := range m.Throughput {
		ideal, eff := "-", "-"
		if tp.IdealPerSecond > 0 {
			ideal = fmt.Sprintf("%.1f", tp.IdealPerSecond)
			eff = fmt.Sprintf("%.0f%%", 100*tp.Efficiency)
		}
		fmt.Fprintf(tw, "%d\t%.1f\t%s\t%s\t%.3f\t%.2f\t%s\t%s\t%.2f\t\n", tp.Concurrency, tp.PerSecond, ideal, eff,
			tp.SFCallsPerAccount, tp.SAPCallsPerAccount, fmtMS(tp.Latency.P50), fmtMS(tp.Latency.P99), tp.OtherCPUs)
	}
	if bl := m.Baseline; bl != nil {
		fmt.Fprintf(tw, "polling\t%.1f\t-\t-\t%.3f\t%.2f\t%s\t%s\t-\t\n", bl.PerSecond, bl.SFCallsPerAccount, bl.SAPCallsPerAccount,
			fmtMS(bl.Latency.P50), fmtMS(bl.Latency.P99))
	}
	tw.Flush()
	failed, duplicates := m.Latency.Failed, m.Latency.Duplicates
	for _, tp := range m.Throughput {
		failed += tp.Failed
		duplicates = max(duplicates, tp.Duplicates)
	}
	fmt.Fprintf(&b, "failed conversions (median, all sfsap phases): %d; duplicate SAP customers (highest of any run): %d\n", failed, duplicates)

	if len(m.Throughput) > 0 {
		top := m.Throughput[len(m.Throughput)-1]
		fmt.Fprintf(&b, "\nCPU time per conversion, bulk at concurrency %d\n", top.Concurrency)
		total := 0.0
		for _, name := range append(append(slices.Clone(services), progNATS), benchProcess) {
			v := top.CPUPerConversionMS[name]
			total += v
			fmt.Fprintf(&b, "  %-12s %6.2f ms\n", name, v)
		}
		fmt.Fprintf(&b, "  %-12s %6.2f ms\n", "total", total)
		fmt.Fprintf(&b, "  NATS messages per conversion: %.1f received from clients, %.1f sent to them\n",
			top.NATSInPerConversion, top.NATSOutPerConversion)
		if own := total - top.CPUPerConversionMS[benchProcess]; own > 0 {
			fmt.Fprintf(&b, "  estimated ceiling with %d CPUs for sfsap and NATS alone: %.0f conversions/s\n",
				r.Machine.CPUs, float64(r.Machine.CPUs)*1000/own)
		}
	}

	b.WriteString("\nPeak resident memory (VmHWM)\n")
	for _, name := range append(slices.Clone(services), progNATS) {
		fmt.Fprintf(&b, "  %-12s %6.1f MiB\n", name, m.Memory[name].PeakMiB)
	}

	if ra := m.Ratios; ra != nil {
		b.WriteString("\nsfsap against polling (median of the per-run ratios)\n")
		fmt.Fprintf(&b, "  latency p50: %.0fx lower than polling every %s, %.0fx lower than every %s; p99: %.0fx and %.0fx\n",
			ra.LatencyP50Scaled, fmtInterval(s.PollIntervalS), ra.LatencyP50Real, fmtInterval(s.RealPollIntervalS), ra.LatencyP99Scaled, ra.LatencyP99Real)
		fmt.Fprintf(&b, "  throughput: %.1fx at concurrency %d\n", ra.Throughput, m.Latency.Concurrency)
		fmt.Fprintf(&b, "  Salesforce API calls per account: polling makes %.2fx as many\n", ra.SFCalls)
		if s.FloorMS > 0 {
			fmt.Fprintf(&b, "  sfsap latency p50 is %.2fx the floor\n", ra.LatencyOverFloor)
		}
		if bl := m.Baseline; bl != nil {
			fmt.Fprintf(&b, "  polling every %s also costs %.0f API calls a day when nothing changes\n", fmtInterval(bl.RealIntervalS), bl.IdleCallsPerDay)
		}
	}

	b.WriteString("\nTargets\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, t := range r.Targets {
		line := t.Measured
		if t.Shortfall != "" {
			line += "; missed: " + t.Shortfall
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Status, t.Name, line)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteFiles writes report.json, report.txt and the latency chart
// latency.svg into dir.
func (r *Report) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating output folder: %w", err)
	}
	writers := map[string]func(io.Writer) error{
		"report.json": r.WriteJSON,
		"report.txt":  r.WriteText,
		"latency.svg": r.WriteChart,
	}
	for name, write := range writers {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}
