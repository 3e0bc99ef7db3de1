package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/sfsap/sfsap/pkg/sap"
)

func TestSAPOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, SAPSuccess},
		{"transient", &sap.Error{Kind: sap.Transient}, SAPTransient},
		{"permanent", &sap.Error{Kind: sap.Permanent}, SAPPermanent},
		{"unknown", &sap.Error{Kind: sap.Unknown}, SAPUnknown},
		{"plain error", errors.New("connection refused"), SAPTransient},
	}
	for _, tt := range tests {
		if got := SAPOutcome(tt.err); got != tt.want {
			t.Errorf("SAPOutcome(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

// fakeAdapter returns fixed results. The test counts calls through the
// wrapper, so no SAP protocol is involved.
type fakeAdapter struct {
	findErr   error
	createErr error
}

func (f fakeAdapter) FindByExternalRef(context.Context, string) (string, bool, error) {
	return "", false, f.findErr
}

func (f fakeAdapter) Create(context.Context, sap.Customer) (sap.CreateResult, error) {
	return sap.CreateResult{CustomerNo: "0000100001"}, f.createErr
}

func TestInstrumentSAPCountsByOutcome(t *testing.T) {
	t.Parallel()
	lookupUnknown := sapCalls.WithLabelValues(OpLookup, SAPUnknown)
	createPermanent := sapCalls.WithLabelValues(OpCreate, SAPPermanent)
	beforeLookup := counterValue(t, lookupUnknown)
	beforeCreate := counterValue(t, createPermanent)

	a := InstrumentSAP(fakeAdapter{
		findErr:   &sap.Error{Kind: sap.Unknown, Op: "BAPI_CUSTOMER_FIND"},
		createErr: &sap.Error{Kind: sap.Permanent, Op: "BAPI_CUSTOMER_CREATEFROMDATA1"},
	})
	if _, _, err := a.FindByExternalRef(context.Background(), "001000000000001AAA"); err == nil {
		t.Fatal("FindByExternalRef returned no error, want the adapter's error passed through")
	}
	if _, err := a.Create(context.Background(), sap.Customer{}); err == nil {
		t.Fatal("Create returned no error, want the adapter's error passed through")
	}

	if got := counterValue(t, lookupUnknown) - beforeLookup; got != 1 {
		t.Errorf("lookup/unknown moved by %v, want 1", got)
	}
	if got := counterValue(t, createPermanent) - beforeCreate; got != 1 {
		t.Errorf("create/permanent moved by %v, want 1", got)
	}
	if again := InstrumentSAP(a); again != a {
		t.Errorf("InstrumentSAP of an instrumented adapter wrapped it again")
	}
}

func TestObserveCommitToWriteback(t *testing.T) {
	t.Parallel()
	before := histogram(t)
	now := time.Now()
	ObserveCommitToWriteback(time.Time{}, now)
	if got := histogram(t).GetSampleCount() - before.GetSampleCount(); got != 0 {
		t.Fatalf("zero commit time recorded %d observations, want 0", got)
	}

	ObserveCommitToWriteback(now.Add(-2*time.Second), now)
	after := histogram(t)
	if got := after.GetSampleCount() - before.GetSampleCount(); got != 1 {
		t.Fatalf("observations moved by %d, want 1", got)
	}
	if got := after.GetSampleSum() - before.GetSampleSum(); got != 2 {
		t.Errorf("sum moved by %v seconds, want 2", got)
	}
	for i, b := range after.GetBucket() {
		moved := b.GetCumulativeCount() - before.GetBucket()[i].GetCumulativeCount()
		want := uint64(0)
		if b.GetUpperBound() >= 2 {
			want = 1
		}
		if moved != want {
			t.Errorf("bucket le=%v moved by %d, want %d", b.GetUpperBound(), moved, want)
		}
	}
}

func histogram(t *testing.T) *dto.Histogram {
	t.Helper()
	var m dto.Metric
	if err := commitToWriteback.Write(&m); err != nil {
		t.Fatalf("reading histogram: %v", err)
	}
	return m.GetHistogram()
}

func TestAPIUsageGauges(t *testing.T) {
	t.Parallel()
	stopEmpty := WatchAPIUsage(func() (int64, int64) { return 0, 0 })
	defer stopEmpty()
	stop := WatchAPIUsage(func() (int64, int64) { return 1234, 15000 })

	body := scrape(t)
	for _, want := range []string{
		"sfsap_salesforce_api_requests_used 1234",
		"sfsap_salesforce_api_requests_limit 15000",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}

	stop()
	if body := scrape(t); strings.Contains(body, "sfsap_salesforce_api_requests_used 1234") {
		t.Errorf("usage still reported after stop:\n%s", grep(body, "api_requests"))
	}
}

func TestPreinitializedSeries(t *testing.T) {
	t.Parallel()
	body := scrape(t)
	for _, want := range []string{
		`sfsap_sap_calls_total{operation="create",outcome="unknown"}`,
		`sfsap_writeback_writebacks_total{outcome="dead_lettered",status="synced"}`,
		`sfsap_dead_letters_total{stage="notifier"}`,
		`sfsap_writeback_commit_to_writeback_seconds_bucket{le="600"}`,
		`sfsap_writeback_commit_to_writeback_seconds_bucket{le="0.01"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks series %s", want)
		}
	}
}

func scrape(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(promhttp.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatalf("scraping: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading scrape: %v", err)
	}
	return string(body)
}

func grep(body, substr string) string {
	var out []string
	for line := range strings.SplitSeq(body, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatalf("reading counter: %v", err)
	}
	return m.GetCounter().GetValue()
}
