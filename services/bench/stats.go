package bench

import (
	"math"
	"slices"
	"time"
)

// Distribution summarises a set of durations, in milliseconds.
type Distribution struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

// Summarize returns the distribution of samples. Quantiles use the
// nearest-rank method, so each one is a measured sample.
func Summarize(samples []time.Duration) Distribution {
	if len(samples) == 0 {
		return Distribution{}
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	var sum time.Duration
	for _, s := range sorted {
		sum += s
	}
	return Distribution{
		Count: len(sorted),
		P50:   ms(Quantile(sorted, 0.50)),
		P95:   ms(Quantile(sorted, 0.95)),
		P99:   ms(Quantile(sorted, 0.99)),
		Max:   ms(sorted[len(sorted)-1]),
		Mean:  ms(sum / time.Duration(len(sorted))),
	}
}

// Quantile returns the q-quantile (0 < q <= 1) of sorted samples by the
// nearest-rank method: the smallest sample with at least q of all samples
// at or below it. It returns 0 for no samples.
func Quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// PollingQuantile returns the q-quantile of the latency of a poller with
// the given interval, when a conversion waits a uniformly distributed time
// in [0, interval) for the next poll and then the measured processing
// time. It solves F(x) = q for F(x) = mean over i of
// clamp((x - processing[i]) / interval, 0, 1) by bisection, which is exact
// for the convolution of the uniform wait with the measured processing
// times.
func PollingQuantile(processing []time.Duration, interval time.Duration, q float64) time.Duration {
	if len(processing) == 0 || interval <= 0 {
		return 0
	}
	lo := slices.Min(processing)
	hi := slices.Max(processing) + interval
	for range 100 {
		mid := lo + (hi-lo)/2
		if mid == lo || mid == hi {
			break
		}
		if pollingCDF(processing, interval, mid) >= q {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// pollingCDF returns the share of conversions whose latency is at most x
// under the model of PollingQuantile.
func pollingCDF(processing []time.Duration, interval, x time.Duration) float64 {
	var sum float64
	for _, p := range processing {
		sum += min(max(float64(x-p)/float64(interval), 0), 1)
	}
	return sum / float64(len(processing))
}

// Median returns the median of values, the mean of the two middle ones
// for an even count, or 0 for none.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	mid := len(sorted) / 2
	if len(sorted)%2 == 1 {
		return sorted[mid]
	}
	return (sorted[mid-1] + sorted[mid]) / 2
}

// ms converts d to milliseconds.
func ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// round rounds v to the given number of decimals, which keeps the JSON
// report readable.
func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}
