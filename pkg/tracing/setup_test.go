package tracing

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

func TestConfigFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"nothing set", nil, Config{ServiceName: "filter"}},
		{
			"traces endpoint wins",
			map[string]string{
				"OTEL_TRACES_EXPORTER":               "otlp",
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/custom",
				"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://127.0.0.1:9999",
			},
			Config{ServiceName: "filter", Exporter: "otlp", Endpoint: "http://127.0.0.1:4318/custom"},
		},
		{
			"base endpoint gets the traces path",
			map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/"},
			Config{ServiceName: "filter", Exporter: "otlp", Endpoint: "http://127.0.0.1:4318/v1/traces"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ConfigFromEnv("filter", func(k string) string { return tt.env[k] })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("ConfigFromEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetupRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"unknown exporter", Config{Exporter: "zipkin"}, `trace exporter "zipkin" is not supported`},
		{"otlp without endpoint", Config{Exporter: ExporterOTLP}, "needs an endpoint"},
		{"otlp with relative endpoint", Config{Exporter: ExporterOTLP, Endpoint: "collector:4318"}, "is not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Setup(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Setup(%+v) error = %v, want one containing %q", tt.cfg, err, tt.wantErr)
			}
		})
	}
}

func TestSetupNoneKeepsPropagating(t *testing.T) {
	t.Parallel()
	shutdown, err := Setup(context.Background(), Config{Exporter: ExporterNone})
	if err != nil {
		t.Fatalf("Setup(none): %v", err)
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	ctx, span := StartRoot(context.Background(), "after none")
	defer span.End()
	if TraceID(ctx) == "" {
		t.Fatal("no trace id with exporter none, want ids to propagate")
	}
}

// collector is an OTLP/HTTP receiver on loopback that keeps the decoded
// export requests.
type collector struct {
	mu       sync.Mutex
	requests []*coltracepb.ExportTraceServiceRequest
	paths    []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want a protobuf body", http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.requests = append(c.requests, &req)
	c.paths = append(c.paths, r.URL.Path)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

// spans returns "service/span name/trace id" for every exported span.
func (c *collector) spans() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, req := range c.requests {
		for _, rs := range req.GetResourceSpans() {
			service := ""
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.GetKey() == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					out = append(out, service+"/"+s.GetName()+"/"+hex.EncodeToString(s.GetTraceId()))
				}
			}
		}
	}
	return out
}

// TestSetupOTLPExportsSpans installs a provider for the whole package
// while it runs, so it does not run in parallel with the other tests.
func TestSetupOTLPExportsSpans(t *testing.T) {
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()

	shutdown, err := Setup(context.Background(), Config{
		ServiceName: "sapworker", Exporter: ExporterOTLP, Endpoint: srv.URL + "/v1/traces",
	})
	if err != nil {
		t.Fatalf("Setup(otlp): %v", err)
	}
	ctx, span := StartRoot(context.Background(), "otlp test root")
	_, child := StartPublish(ctx, "sfsap.sap.create.001000000000001AAA")
	child.End()
	span.End()
	traceID := TraceID(ctx)
	if err := shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	got := col.spans()
	for _, want := range []string{
		"sfsap-sapworker/otlp test root/" + traceID,
		"sfsap-sapworker/publish sfsap.sap.create/" + traceID,
	} {
		found := false
		for _, s := range got {
			found = found || s == want
		}
		if !found {
			t.Errorf("collector did not receive span %q; got %v", want, got)
		}
	}
	for _, p := range col.paths {
		if p != "/v1/traces" {
			t.Errorf("export sent to path %q, want /v1/traces", p)
		}
	}

	// After shutdown, spans still get ids for propagation.
	after, span := StartRoot(context.Background(), "after shutdown")
	defer span.End()
	if TraceID(after) == "" {
		t.Fatal("no trace id after shutdown, want the default provider back")
	}
}

// TestSetupConsoleWritesJSON is serial for the same reason as the OTLP test.
func TestSetupConsoleWritesJSON(t *testing.T) {
	var buf syncBuffer
	shutdown, err := Setup(context.Background(), Config{ServiceName: "writeback", Exporter: ExporterConsole, Output: &buf})
	if err != nil {
		t.Fatalf("Setup(console): %v", err)
	}
	_, span := StartRoot(context.Background(), "console test root")
	span.End()
	if err := shutdown(context.Background()); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if out := buf.String(); !strings.Contains(out, `"Name":"console test root"`) {
		t.Fatalf("console output lacks the span name; got:\n%s", out)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
