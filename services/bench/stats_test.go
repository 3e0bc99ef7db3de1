package bench

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestQuantileNearestRank(t *testing.T) {
	t.Parallel()
	sorted := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0.01, 1},
		{0.10, 1},
		{0.11, 2},
		{0.50, 5},
		{0.95, 10},
		{0.99, 10},
		{1, 10},
	}
	for _, tt := range tests {
		if got := Quantile(sorted, tt.q); got != tt.want {
			t.Errorf("Quantile(1..10, %v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if got := Quantile(nil, 0.5); got != 0 {
		t.Errorf("Quantile(nil, 0.5) = %v, want 0", got)
	}
}

func TestSummarizeUnsorted(t *testing.T) {
	t.Parallel()
	var samples []time.Duration
	for i := 100; i >= 1; i-- {
		samples = append(samples, time.Duration(i)*time.Millisecond)
	}
	got := Summarize(samples)
	want := Distribution{Count: 100, P50: 50, P95: 95, P99: 99, Max: 100, Mean: 50.5}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Summarize(100ms..1ms) mismatch (-want +got):\n%s", diff)
	}
	if samples[0] != 100*time.Millisecond {
		t.Errorf("Summarize sorted its input: samples[0] = %v, want 100ms", samples[0])
	}
	if got := Summarize(nil); got != (Distribution{}) {
		t.Errorf("Summarize(nil) = %+v, want the zero Distribution", got)
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		values []float64
		want   float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := Median(tt.values); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.values, got, tt.want)
		}
	}
}

func TestPollingQuantile(t *testing.T) {
	t.Parallel()
	const interval = 100 * time.Second
	tests := []struct {
		name       string
		processing []time.Duration
		q          float64
		want       time.Duration
	}{
		{"no processing, median", []time.Duration{0}, 0.5, 50 * time.Second},
		{"no processing, p99", []time.Duration{0}, 0.99, 99 * time.Second},
		{"constant processing shifts", []time.Duration{10 * time.Second, 10 * time.Second}, 0.5, 60 * time.Second},
		{"max is slowest plus interval", []time.Duration{time.Second, 5 * time.Second}, 1, 105 * time.Second},
		// Half the conversions take 0s and half 100s, so F(x) = x/200s
		// for x up to 100s.
		{"two groups", []time.Duration{0, 100 * time.Second}, 0.25, 50 * time.Second},
	}
	for _, tt := range tests {
		got := PollingQuantile(tt.processing, interval, tt.q)
		if diff := math.Abs(float64(got - tt.want)); diff > float64(time.Millisecond) {
			t.Errorf("PollingQuantile(%s, %v) = %v, want %v", tt.name, tt.q, got, tt.want)
		}
	}
	if got := PollingQuantile(nil, interval, 0.5); got != 0 {
		t.Errorf("PollingQuantile(nil) = %v, want 0", got)
	}
}

func TestFmtInterval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		seconds float64
		want    string
	}{
		{0.3, "300ms"},
		{10, "10s"},
		{300, "5m"},
		{90, "1m30s"},
		{3600, "1h"},
	}
	for _, tt := range tests {
		if got := fmtInterval(tt.seconds); got != tt.want {
			t.Errorf("fmtInterval(%v) = %q, want %q", tt.seconds, got, tt.want)
		}
	}
}
