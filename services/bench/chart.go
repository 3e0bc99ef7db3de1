package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Chart geometry in SVG user units.
const (
	chartWidth  = 920
	chartHeight = 520
	plotLeft    = 70
	plotRight   = 640
	plotTop     = 50
	plotBottom  = 450
)

// series is one cumulative distribution in the chart.
type series struct {
	label  string
	color  string
	dashed bool
	// points are (milliseconds, share at or below) pairs in ascending order.
	points [][2]float64
}

// WriteChart draws the latency distribution of the medians' pooled
// samples as cumulative distribution curves on a logarithmic time axis:
// sfsap paced and in bulk, polling measured and computed, and the floor.
func (r *Report) WriteChart(w io.Writer) error {
	m := r.Median
	var all []series
	if s := stepCDF(m.Latency.samples); s != nil {
		all = append(all, series{label: fmt.Sprintf("sfsap, paced %.0f/s", m.Latency.PerSecond), color: "#1f77b4", points: s})
	}
	if len(m.Throughput) > 0 {
		top := m.Throughput[len(m.Throughput)-1]
		if s := stepCDF(top.samples); s != nil {
			all = append(all, series{label: fmt.Sprintf("sfsap, bulk, concurrency %d", top.Concurrency), color: "#ff7f0e", points: s})
		}
	}
	if b := m.Baseline; b != nil {
		if s := stepCDF(b.samples); s != nil {
			all = append(all, series{label: fmt.Sprintf("polling every %s, measured", fmtInterval(b.IntervalS)), color: "#2ca02c", points: s})
		}
		if s := pollingCurve(b.processing, b.interval); s != nil {
			all = append(all, series{label: fmt.Sprintf("polling every %s, computed", fmtInterval(b.RealIntervalS)), color: "#d62728", dashed: true, points: s})
		}
	}

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range all {
		for _, p := range s.points {
			lo, hi = math.Min(lo, p[0]), math.Max(hi, p[0])
		}
	}
	floor := r.Settings.FloorMS
	if floor > 0 {
		lo, hi = math.Min(lo, floor), math.Max(hi, floor)
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 1000
	}
	lo = math.Pow(10, math.Floor(math.Log10(math.Max(lo, 0.1))))
	hi = math.Pow(10, math.Ceil(math.Log10(math.Max(hi, lo*10))))
	xOf := func(v float64) float64 {
		v = math.Min(math.Max(v, lo), hi)
		return plotLeft + (plotRight-plotLeft)*math.Log10(v/lo)/math.Log10(hi/lo)
	}
	yOf := func(share float64) float64 { return plotBottom - (plotBottom-plotTop)*share }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, chartHeight, chartWidth, chartHeight)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartWidth, chartHeight)
	title := fmt.Sprintf("Salesforce commit to SAP number written back: SAP %s per call, Salesforce %s per request, %d runs",
		fmtMS(r.Settings.SAPLatencyMS), fmtMS(r.Settings.SFLatencyMS), r.Settings.Runs)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="14">%s</text>`+"\n", plotLeft, html.EscapeString(title))

	// Grid and axes: a vertical line per decade, a horizontal one per 10%.
	for v := lo; v <= hi*1.0001; v *= 10 {
		x := xOf(v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x, plotTop, x, plotBottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, plotBottom+18, axisLabel(v))
	}
	for i := 0; i <= 10; i++ {
		y := yOf(float64(i) / 10)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", plotLeft, y, plotRight, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%d%%</text>`+"\n", plotLeft-6, y+4, i*10)
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", plotLeft, plotTop, plotRight-plotLeft, plotBottom-plotTop)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">latency (logarithmic)</text>`+"\n", (plotLeft+plotRight)/2, plotBottom+42)
	fmt.Fprintf(&b, `<text x="18" y="%d" text-anchor="middle" transform="rotate(-90 18 %d)">conversions at or below</text>`+"\n", (plotTop+plotBottom)/2, (plotTop+plotBottom)/2)

	if floor > 0 {
		x := xOf(floor)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#555" stroke-dasharray="2,3"/>`+"\n", x, plotTop, x, plotBottom)
	}
	for _, s := range all {
		var pts []string
		for _, p := range s.points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xOf(p[0]), yOf(p[1])))
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6,4"`
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>`+"\n", s.color, dash, strings.Join(pts, " "))
	}

	// Legend to the right of the plot.
	y := plotTop + 10
	for _, s := range all {
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="6,4"`
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", plotRight+20, y, plotRight+50, y, s.color, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", plotRight+58, y+4, html.EscapeString(s.label))
		y += 22
	}
	if floor > 0 {
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#555" stroke-dasharray="2,3"/>`+"\n", plotRight+20, y, plotRight+50, y)
		fmt.Fprintf(&b, `<text x="%d" y="%d">floor, %s of simulated calls</text>`+"\n", plotRight+58, y+4, html.EscapeString(fmtMS(floor)))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// stepCDF returns the empirical distribution of samples as the corner
// points of a step curve, or nil for no samples.
func stepCDF(samples []time.Duration) [][2]float64 {
	if len(samples) == 0 {
		return nil
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	n := float64(len(sorted))
	points := make([][2]float64, 0, 2*len(sorted))
	for i, d := range sorted {
		v := ms(d)
		points = append(points, [2]float64{v, float64(i) / n}, [2]float64{v, float64(i+1) / n})
	}
	return points
}

// pollingCurve returns the distribution that PollingQuantile describes,
// at 200 points spaced evenly on a logarithmic axis.
func pollingCurve(processing []time.Duration, interval time.Duration) [][2]float64 {
	if len(processing) == 0 || interval <= 0 {
		return nil
	}
	lo := math.Max(ms(slices.Min(processing)), 0.1)
	hi := ms(slices.Max(processing) + interval)
	const steps = 200
	points := make([][2]float64, 0, steps+1)
	for i := 0; i <= steps; i++ {
		v := lo * math.Pow(hi/lo, float64(i)/steps)
		x := time.Duration(v * float64(time.Millisecond))
		points = append(points, [2]float64{v, pollingCDF(processing, interval, x)})
	}
	return points
}

// axisLabel names a decade of the time axis given in milliseconds.
func axisLabel(v float64) string {
	switch {
	case v < 1:
		return fmt.Sprintf("%g ms", v)
	case v < 1000:
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.0f s", v/1000)
}
