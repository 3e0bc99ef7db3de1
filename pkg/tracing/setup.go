package tracing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Exporter names, as the OpenTelemetry variable OTEL_TRACES_EXPORTER
// spells them.
const (
	// ExporterNone exports nothing. Trace context still propagates.
	ExporterNone = "none"
	// ExporterOTLP sends spans over OTLP/HTTP with protobuf encoding.
	ExporterOTLP = "otlp"
	// ExporterConsole writes spans as JSON lines, for local debugging.
	ExporterConsole = "console"
)

// Config selects the span exporter.
type Config struct {
	// ServiceName is the service.name resource attribute, such as
	// "sapworker".
	ServiceName string
	// Exporter is ExporterNone, ExporterOTLP or ExporterConsole. Defaults
	// to ExporterNone.
	Exporter string
	// Endpoint is the OTLP/HTTP traces URL, such as
	// http://otel-collector:4318/v1/traces. Required for ExporterOTLP:
	// sfsap never falls back to the exporter's default address.
	Endpoint string
	// Headers are sent with every OTLP request, such as an API key.
	Headers map[string]string
	// Output receives the console exporter's JSON. Defaults to os.Stderr.
	Output io.Writer
}

// ConfigFromEnv returns the configuration named by the standard
// OpenTelemetry variables: OTEL_TRACES_EXPORTER, and for otlp
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (a full URL) or
// OTEL_EXPORTER_OTLP_ENDPOINT (a base URL that gets /v1/traces appended).
// getenv is os.Getenv in production.
func ConfigFromEnv(service string, getenv func(string) string) Config {
	cfg := Config{ServiceName: service, Exporter: strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER"))}
	if v := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); v != "" {
		cfg.Endpoint = v
	} else if v := getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); v != "" {
		cfg.Endpoint = strings.TrimSuffix(v, "/") + "/v1/traces"
	}
	return cfg
}

// Setup installs a tracer provider with the configured exporter and
// returns a function that flushes and stops it. With ExporterNone it keeps
// the default provider and returns a no-op shutdown.
func Setup(ctx context.Context, cfg Config) (shutdown func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	var exp sdktrace.SpanExporter
	switch cfg.Exporter {
	case "", ExporterNone:
		return noop, nil
	case ExporterOTLP:
		exp, err = otlpExporter(ctx, cfg)
	case ExporterConsole:
		out := cfg.Output
		if out == nil {
			out = os.Stderr
		}
		exp, err = stdouttrace.New(stdouttrace.WithWriter(out))
	default:
		return noop, fmt.Errorf("trace exporter %q is not supported: use %s, %s or %s", cfg.Exporter, ExporterNone, ExporterOTLP, ExporterConsole)
	}
	if err != nil {
		return noop, err
	}

	res := resource.NewSchemaless(attribute.String("service.name", serviceName(cfg.ServiceName)))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	provider.Store(tp)
	// Libraries that trace through the global provider join sfsap's traces.
	otel.SetTracerProvider(tp)
	return func(ctx context.Context) error {
		// A provider that was shut down hands out tracers whose root spans
		// have no ids, so the default provider takes over first.
		restore()
		return tp.Shutdown(ctx)
	}, nil
}

// restore puts back a provider without an exporter.
func restore() {
	tp := sdktrace.NewTracerProvider()
	provider.Store(tp)
	otel.SetTracerProvider(tp)
}

func otlpExporter(ctx context.Context, cfg Config) (sdktrace.SpanExporter, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("trace exporter otlp needs an endpoint: set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to a URL such as http://otel-collector:4318/v1/traces")
	}
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OTLP traces endpoint %q is not a valid URL: use the form http://otel-collector:4318/v1/traces", cfg.Endpoint)
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(cfg.Endpoint)}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(cfg.Headers))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating OTLP trace exporter for %s: %w", u.Redacted(), err)
	}
	return exp, nil
}

func serviceName(name string) string {
	if name == "" {
		return "sfsap"
	}
	return "sfsap-" + name
}
