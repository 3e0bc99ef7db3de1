// Package tracing carries OpenTelemetry trace context through sfsap. The
// listener starts one trace per account change, every NATS message
// carries the W3C traceparent header, and each consumer continues the
// trace of the message it handles, so all messages of one conversion share
// one trace id.
//
// Spans are always created, so trace ids exist even when nothing is
// exported. Setup installs an exporter when one is configured.
package tracing

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Header names of the W3C Trace Context format.
const (
	HeaderTraceparent = "traceparent"
	HeaderTracestate  = "tracestate"
)

// instrumentationName names sfsap's tracer.
const instrumentationName = "github.com/sfsap/sfsap"

// propagator is the W3C Trace Context propagator. It is used directly,
// not through otel's global propagator, so that no other package's
// settings change what sfsap writes into message headers.
var propagator = propagation.TraceContext{}

// provider is the tracer provider in use. Until Setup runs it is an SDK
// provider without an exporter: it creates span and trace ids, so they
// propagate, but records nothing.
var provider atomic.Pointer[sdktrace.TracerProvider]

func init() {
	provider.Store(sdktrace.NewTracerProvider())
}

// Tracer returns sfsap's tracer from the current provider.
func Tracer() trace.Tracer {
	return provider.Load().Tracer(instrumentationName)
}

// HeaderCarrier adapts a NATS header to propagation.TextMapCarrier. NATS
// headers are case-sensitive, so Set writes the lower-case names of the
// W3C format and Get also accepts other spellings of the same name.
type HeaderCarrier nats.Header

// Get returns the first value of key.
func (c HeaderCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	for k, v := range c {
		if strings.EqualFold(k, key) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Set replaces the values of key.
func (c HeaderCarrier) Set(key, value string) {
	for k := range c {
		if k != key && strings.EqualFold(k, key) {
			delete(c, k)
		}
	}
	c[key] = []string{value}
}

// Keys returns the header names.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// Inject writes the span context of ctx into h. It writes nothing when ctx
// carries no valid span context.
func Inject(ctx context.Context, h nats.Header) {
	propagator.Inject(ctx, HeaderCarrier(h))
}

// InjectHTTP writes the span context of ctx into an HTTP request header,
// so a receiver that understands W3C Trace Context can join the trace.
func InjectHTTP(ctx context.Context, h http.Header) {
	propagator.Inject(ctx, propagation.HeaderCarrier(h))
}

// Extract returns ctx with the remote span context found in h, or ctx
// unchanged when h carries none.
func Extract(ctx context.Context, h nats.Header) context.Context {
	return propagator.Extract(ctx, HeaderCarrier(h))
}

// StartRoot starts a span that begins a new trace, whatever ctx carries.
// The listener calls it once per account change.
func StartRoot(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return Tracer().Start(ctx, name,
		trace.WithNewRoot(),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attrs...))
}

// StartPublish starts a producer span for one message on subject, as a
// child of the span in ctx or as a new trace when ctx has none.
func StartPublish(ctx context.Context, subject string) (context.Context, trace.Span) {
	return Tracer().Start(ctx, "publish "+SubjectKind(subject),
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "send"),
			attribute.String("messaging.destination.name", subject),
		))
}

// StartConsumer starts the span of a handler that processes a message
// with header h on subject. The span continues the trace found in h; the
// returned context carries it onward to the messages the handler
// publishes.
func StartConsumer(ctx context.Context, h nats.Header, consumer, subject string) (context.Context, trace.Span) {
	ctx = Extract(ctx, h)
	return Tracer().Start(ctx, "process "+SubjectKind(subject),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "nats"),
			attribute.String("messaging.operation.type", "process"),
			attribute.String("messaging.consumer.group.name", consumer),
			attribute.String("messaging.destination.name", subject),
		))
}

// End records err on span, if any, and ends it.
func End(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// TraceID returns the hex trace id of the span in ctx, or "" when ctx has
// no valid span context.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

// TraceIDFromHeader returns the trace id of the traceparent header in h,
// or "" when h has none or it is malformed.
func TraceIDFromHeader(h nats.Header) string {
	return TraceID(Extract(context.Background(), h))
}

// SubjectKind returns the first three tokens of an sfsap subject, such as
// "sfsap.sap.create" for "sfsap.sap.create.<account id>". It names spans
// and metric labels without the account id, which would make one series
// per account.
func SubjectKind(subject string) string {
	tokens := strings.SplitN(subject, ".", 4)
	if len(tokens) > 3 {
		tokens = tokens[:3]
	}
	return strings.Join(tokens, ".")
}
