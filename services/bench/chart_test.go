package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// chartReport returns a report with samples in every series of the chart.
func chartReport() *Report {
	ms := func(v ...float64) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x * float64(time.Millisecond))
		}
		return out
	}
	return &Report{
		Settings: SettingsReport{SAPLatencyMS: 20, SFLatencyMS: 20, Runs: 1, FloorMS: 100},
		Median: RunResult{
			Latency:    LatencyResult{PerSecond: 20, samples: ms(110, 120, 130)},
			Throughput: []ThroughputResult{{Concurrency: 16, samples: ms(300, 600, 900)}},
			Baseline: &BaselineResult{
				IntervalS: 10, RealIntervalS: 300,
				samples:    ms(2000, 6000, 9000),
				processing: ms(60, 120, 180),
				interval:   5 * time.Minute,
			},
		},
	}
}

func TestWriteChartIsWellFormedSVG(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := chartReport().WriteChart(&buf); err != nil {
		t.Fatalf("WriteChart() error = %v", err)
	}

	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	polylines, root := 0, ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("WriteChart() output is not well-formed XML: %v\n%s", err, buf.String())
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "polyline" {
				polylines++
			}
		}
	}
	if root != "svg" {
		t.Errorf("WriteChart() root element = %q, want svg", root)
	}
	if polylines != 4 {
		t.Errorf("WriteChart() drew %d curves, want 4 (paced, bulk, polling measured and computed)", polylines)
	}
	for _, label := range []string{"sfsap, paced 20/s", "sfsap, bulk, concurrency 16", "polling every 10s, measured", "polling every 5m, computed", "floor"} {
		if !strings.Contains(buf.String(), label) {
			t.Errorf("WriteChart() output lacks the legend entry %q", label)
		}
	}
}

func TestWriteChartWithoutSamples(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := (&Report{}).WriteChart(&buf); err != nil {
		t.Fatalf("WriteChart() of an empty report error = %v", err)
	}
	if err := xml.Unmarshal(buf.Bytes(), new(struct{})); err != nil {
		t.Fatalf("WriteChart() of an empty report is not well-formed XML: %v", err)
	}
	if strings.Contains(buf.String(), "<polyline") {
		t.Errorf("WriteChart() of an empty report drew a curve")
	}
}

func TestStepCDF(t *testing.T) {
	t.Parallel()
	got := stepCDF([]time.Duration{2 * time.Millisecond, time.Millisecond})
	want := [][2]float64{{1, 0}, {1, 0.5}, {2, 0.5}, {2, 1}}
	if len(got) != len(want) {
		t.Fatalf("stepCDF(2ms, 1ms) = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("stepCDF(2ms, 1ms)[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if got := stepCDF(nil); got != nil {
		t.Errorf("stepCDF(nil) = %v, want nil", got)
	}
}
