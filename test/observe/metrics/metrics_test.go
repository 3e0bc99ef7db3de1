// Package metrics checks the Prometheus metrics that the pipeline exports.
// Its one test runs alone in its process, because every pipeline in a
// process counts into the same default registry.
package metrics

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sfsap/sfsap/pkg/ops"
	"github.com/sfsap/sfsap/test/observe/observetest"
)

// scrape reads /metrics from the ops handler over HTTP.
func scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(ops.Handler(nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("scraping /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading /metrics: %v", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families
}

// value returns the value of the series of name whose labels include
// labels, and whether it exists. Histograms return their sample count.
func value(families map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f, ok := families[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		match := true
		for k, v := range labels {
			found := false
			for _, lp := range m.GetLabel() {
				found = found || (lp.GetName() == k && lp.GetValue() == v)
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// names lists the metric names, for failure messages.
func names(families map[string]*dto.MetricFamily) string {
	var out []string
	for n := range families {
		if strings.HasPrefix(n, "sfsap_") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func TestPipelineMetrics(t *testing.T) {
	t.Parallel()
	b := observetest.Start(t, nil)
	before := scrape(t)
	b.Convert(t, observetest.Accounts) // two accounts sync, one fails
	families := scrape(t)
	type l = map[string]string
	// Counters are checked by how far they moved during the conversions,
	// gauges by their value. Exact counts hold for the three conversions.
	// Checks marked "at least" also count work that arrives on its own
	// schedule: the change events of the write-backs and any sweep of the
	// reconciler.
	tests := []struct {
		name    string
		metric  string
		labels  l
		want    float64
		atLeast bool
	}{
		{"CREATE events", "sfsap_listener_events_received_total", l{"change_type": "CREATE"}, 3, false},
		{"UPDATE events", "sfsap_listener_events_received_total", l{"change_type": "UPDATE"}, 3, true},
		{"jobs for conversions", "sfsap_filter_jobs_queued_total", l{"reason": "conversion"}, 3, false},
		{"prospects ignored", "sfsap_filter_changes_ignored_total", l{"why": "not_customer"}, 3, false},
		{"SAP creates", "sfsap_sap_calls_total", l{"operation": "create", "outcome": "success"}, 2, false},
		{"SAP lookups", "sfsap_sap_calls_total", l{"operation": "lookup", "outcome": "success"}, 2, false},
		{"SAP create timings", "sfsap_sap_call_duration_seconds", l{"operation": "create"}, 2, false},
		{"SAP numbers written", "sfsap_writeback_writebacks_total", l{"status": "synced", "outcome": "written"}, 2, false},
		{"failures written", "sfsap_writeback_writebacks_total", l{"status": "failed", "outcome": "written"}, 1, true},
		{"dead letters of the SAP worker", "sfsap_dead_letters_total", l{"stage": "sapworker"}, 1, true},
		{"commit to write-back latencies", "sfsap_writeback_commit_to_writeback_seconds", nil, 2, false},
		{"synced results", "sfsap_bus_messages_published_total", l{"subject": "sfsap.result.synced"}, 2, false},
		{"failed results", "sfsap_bus_messages_published_total", l{"subject": "sfsap.result.failed"}, 1, true},
		{"create jobs acked", "sfsap_bus_messages_handled_total", l{"consumer": "sapworker", "result": "ack"}, 2, false},
		{"create jobs terminated", "sfsap_bus_messages_handled_total", l{"consumer": "sapworker", "result": "term"}, 1, true},
		{"API requests used", "sfsap_salesforce_api_requests_used", nil, 1, true},
		{"API request limit", "sfsap_salesforce_api_requests_limit", nil, 1, true},
	}
	for _, tt := range tests {
		got, ok := value(families, tt.metric, tt.labels)
		if families[tt.metric].GetType() != dto.MetricType_GAUGE {
			start, _ := value(before, tt.metric, tt.labels)
			got -= start
		}
		switch {
		case !ok:
			t.Errorf("%s: no series %s%v; sfsap metrics:\n%s", tt.name, tt.metric, tt.labels, names(families))
		case tt.atLeast && got < tt.want:
			t.Errorf("%s: %s%v = %v, want at least %v", tt.name, tt.metric, tt.labels, got, tt.want)
		case !tt.atLeast && got != tt.want:
			t.Errorf("%s: %s%v = %v, want %v", tt.name, tt.metric, tt.labels, got, tt.want)
		}
	}

	// The latencies are real durations from the simulator's commit time.
	h := families["sfsap_writeback_commit_to_writeback_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleSum() <= 0 {
		t.Errorf("commit to write-back latencies sum to %v seconds, want more than 0", h.GetSampleSum())
	}
	var bounds []float64
	for _, bucket := range h.GetBucket() {
		if !math.IsInf(bucket.GetUpperBound(), 1) {
			bounds = append(bounds, bucket.GetUpperBound())
		}
	}
	if len(bounds) == 0 || bounds[0] != 0.01 || bounds[len(bounds)-1] != 600 {
		t.Errorf("latency buckets = %v seconds, want 0.01 to 600 (10 ms to 10 minutes)", bounds)
	}
}
