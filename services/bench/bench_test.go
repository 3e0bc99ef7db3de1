package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// tLogWriter sends progress lines to the test log.
type tLogWriter struct{ t *testing.T }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestRunSmall runs the whole bench with a few conversions: it builds the
// binaries, starts nats-server and the four services as processes, and
// checks that every phase converted every account exactly once. It checks
// no timing, since figures are measured, not asserted.
func TestRunSmall(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("skipping in -short mode: the bench builds five binaries and starts them")
	}
	work := t.TempDir()
	s := Settings{
		N:            3,
		SAPLatency:   time.Millisecond,
		SFLatency:    time.Millisecond,
		Concurrency:  []int{2, 1},
		Runs:         1,
		PollInterval: 300 * time.Millisecond,
		Warmup:       1,
		WorkDir:      work,
		Logger:       slog.New(slog.NewTextHandler(tLogWriter{t}, nil)),
	}
	rep, err := Run(context.Background(), s)
	if err != nil {
		t.Fatalf("Run() error = %v", err)
	}

	if len(rep.Runs) != 1 {
		t.Fatalf("Run() returned %d runs, want 1", len(rep.Runs))
	}
	run := rep.Runs[0]
	if got := run.Latency.Synced; got != s.N {
		t.Errorf("latency phase synced %d conversions, want %d", got, s.N)
	}
	if got := run.Latency.Concurrency; got != 2 {
		t.Errorf("latency phase ran at concurrency %d, want the highest, 2", got)
	}
	if len(run.Latency.Stages) != 4 {
		t.Errorf("latency phase has %d stages, want 4 (one per service)", len(run.Latency.Stages))
	}
	if len(run.Throughput) != 2 {
		t.Fatalf("got %d bulk phases, want 2", len(run.Throughput))
	}
	for i, wantC := range []int{1, 2} {
		tp := run.Throughput[i]
		if tp.Concurrency != wantC {
			t.Errorf("bulk phase %d ran at concurrency %d, want %d (ascending)", i, tp.Concurrency, wantC)
		}
		if tp.Synced != s.N || tp.Failed != 0 {
			t.Errorf("bulk phase at concurrency %d: synced %d, failed %d, want %d and 0", tp.Concurrency, tp.Synced, tp.Failed, s.N)
		}
		if tp.Duplicates != 0 {
			t.Errorf("bulk phase at concurrency %d created %d duplicate SAP customers, want 0", tp.Concurrency, tp.Duplicates)
		}
		if tp.SAPCallsPerAccount < sapCallsOnPath {
			t.Errorf("bulk phase at concurrency %d: %v SAP calls per account, want at least %d", tp.Concurrency, tp.SAPCallsPerAccount, sapCallsOnPath)
		}
		if tp.SFCallsPerAccount <= 0 {
			t.Errorf("bulk phase at concurrency %d counted no Salesforce calls", tp.Concurrency)
		}
	}
	for _, name := range append(slices.Clone(services), progNATS) {
		if run.Memory[name].PeakMiB <= 0 {
			t.Errorf("memory of %s = %+v, want a peak above 0", name, run.Memory[name])
		}
	}
	if run.Baseline == nil {
		t.Fatal("run has no polling baseline")
	}
	if run.Baseline.Synced != s.N || run.Baseline.Failed != 0 {
		t.Errorf("baseline synced %d, failed %d, want %d and 0", run.Baseline.Synced, run.Baseline.Failed, s.N)
	}
	if run.Baseline.SAPCallsPerAccount != pollSAPCallsOnPath {
		t.Errorf("baseline made %v SAP calls per account, want %d", run.Baseline.SAPCallsPerAccount, pollSAPCallsOnPath)
	}
	if run.Ratios == nil {
		t.Error("run has no ratios")
	}
	if len(rep.Targets) != 5 {
		t.Errorf("report has %d targets, want 5", len(rep.Targets))
	}
	for _, target := range rep.Targets {
		if !slices.Contains([]string{StatusMet, StatusMissed, StatusNotMeasured}, target.Status) {
			t.Errorf("target %q has status %q", target.Name, target.Status)
		}
	}

	out := filepath.Join(work, "out")
	if err := rep.WriteFiles(out); err != nil {
		t.Fatalf("WriteFiles() error = %v", err)
	}
	data, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatalf("reading report.json: %v", err)
	}
	var decoded Report
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("report.json does not decode: %v", err)
	}
	if decoded.Settings.N != s.N {
		t.Errorf("report.json settings.n = %d, want %d", decoded.Settings.N, s.N)
	}
	for _, name := range []string{"report.txt", "latency.svg"} {
		if info, err := os.Stat(filepath.Join(out, name)); err != nil || info.Size() == 0 {
			t.Errorf("WriteFiles() left %s missing or empty: %v", name, err)
		}
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatalf("WriteText() error = %v", err)
	}
	t.Logf("report:\n%s", text.String())
}

func TestSettingsValidate(t *testing.T) {
	t.Parallel()
	valid := Settings{}.WithDefaults()
	if err := valid.Validate(); err != nil {
		t.Fatalf("Validate() of the defaults = %v, want nil", err)
	}
	tests := []struct {
		name   string
		change func(*Settings)
		want   string
	}{
		{"no conversions", func(s *Settings) { s.N = -1 }, "n -1"},
		{"negative latency", func(s *Settings) { s.SAPLatency = -time.Millisecond }, "must not be negative"},
		{"zero concurrency", func(s *Settings) { s.Concurrency = []int{4, 0} }, "concurrency 0"},
		{"no runs", func(s *Settings) { s.Runs = -2 }, "runs -2"},
		{"negative interval", func(s *Settings) { s.PollInterval = -time.Second }, "poll intervals"},
		{"no warm-up", func(s *Settings) { s.Warmup = -1 }, "warmup -1"},
		{"unknown transport", func(s *Settings) { s.Transport = "poll" }, `transport "poll"`},
	}
	for _, tt := range tests {
		s := valid
		tt.change(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate() with %s = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}
