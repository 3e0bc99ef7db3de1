package tracing

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"
)

var traceparentPattern = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`)

func TestInjectWritesTraceparent(t *testing.T) {
	t.Parallel()
	ctx, span := StartRoot(context.Background(), "test")
	defer span.End()

	h := nats.Header{}
	Inject(ctx, h)
	got := h.Get(HeaderTraceparent)
	if !traceparentPattern.MatchString(got) {
		t.Fatalf("Inject wrote traceparent %q, want the form 00-<trace id>-<span id>-01", got)
	}
	if want := TraceID(ctx); TraceIDFromHeader(h) != want {
		t.Fatalf("TraceIDFromHeader(%v) = %q, want %q", h, TraceIDFromHeader(h), want)
	}
}

func TestInjectWithoutSpanWritesNothing(t *testing.T) {
	t.Parallel()
	h := nats.Header{}
	Inject(context.Background(), h)
	if len(h) != 0 {
		t.Fatalf("Inject(no span) wrote %v, want no header", h)
	}
}

func TestConsumerContinuesTrace(t *testing.T) {
	t.Parallel()
	root, span := StartRoot(context.Background(), "listener")
	defer span.End()
	h := nats.Header{}
	Inject(root, h)

	ctx, consumer := StartConsumer(context.Background(), h, "filter", "sfsap.cdc.account.001000000000001AAA.UPDATE")
	defer consumer.End()
	if got, want := TraceID(ctx), TraceID(root); got != want {
		t.Fatalf("consumer trace id = %q, want the publisher's %q", got, want)
	}
	parent := trace.SpanContextFromContext(root).SpanID()
	child := trace.SpanContextFromContext(ctx).SpanID()
	if child == parent {
		t.Fatalf("consumer span id = %s, want a new span, not the publisher's", child)
	}

	// A message published by the handler carries the same trace onward.
	pubCtx, pub := StartPublish(ctx, "sfsap.sap.create.001000000000001AAA")
	defer pub.End()
	out := nats.Header{}
	Inject(pubCtx, out)
	if got := TraceIDFromHeader(out); got != TraceID(root) {
		t.Fatalf("next hop trace id = %q, want %q", got, TraceID(root))
	}
}

func TestStartRootIgnoresParent(t *testing.T) {
	t.Parallel()
	parent, span := StartRoot(context.Background(), "first")
	defer span.End()
	ctx, second := StartRoot(parent, "second")
	defer second.End()
	if TraceID(ctx) == TraceID(parent) {
		t.Fatalf("StartRoot reused trace id %s of the context, want a new trace", TraceID(ctx))
	}
}

func TestStartPublishWithoutParentStartsTrace(t *testing.T) {
	t.Parallel()
	ctx, span := StartPublish(context.Background(), "sfsap.sap.create.001000000000001AAA")
	defer span.End()
	if TraceID(ctx) == "" {
		t.Fatal("StartPublish(no parent) gave no trace id, want a new trace")
	}
}

func TestTraceIDFromHeaderMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header nats.Header
	}{
		{"empty", nats.Header{}},
		{"garbage", nats.Header{HeaderTraceparent: {"not a traceparent"}}},
		{"zero trace id", nats.Header{HeaderTraceparent: {"00-00000000000000000000000000000000-0000000000000001-01"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := TraceIDFromHeader(tt.header); got != "" {
				t.Fatalf("TraceIDFromHeader(%v) = %q, want empty", tt.header, got)
			}
		})
	}
}

func TestHeaderCarrierCaseInsensitive(t *testing.T) {
	t.Parallel()
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tests := []struct {
		name   string
		header nats.Header
	}{
		{"lower case", nats.Header{"traceparent": {tp}}},
		{"canonical", nats.Header{"Traceparent": {tp}}},
		{"upper case", nats.Header{"TRACEPARENT": {tp}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := HeaderCarrier(tt.header).Get(HeaderTraceparent); got != tp {
				t.Fatalf("Get(%q) on %v = %q, want %q", HeaderTraceparent, tt.header, got, tp)
			}
			if got := TraceIDFromHeader(tt.header); got != "0af7651916cd43dd8448eb211c80319c" {
				t.Fatalf("TraceIDFromHeader(%v) = %q, want 0af7651916cd43dd8448eb211c80319c", tt.header, got)
			}
		})
	}
}

func TestHeaderCarrierSetReplacesOtherSpelling(t *testing.T) {
	t.Parallel()
	h := nats.Header{"Traceparent": {"old"}, "Sfsap-Schema": {"x"}}
	HeaderCarrier(h).Set(HeaderTraceparent, "new")
	want := nats.Header{"traceparent": {"new"}, "Sfsap-Schema": {"x"}}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Fatalf("header after Set (-want +got):\n%s", diff)
	}
}

func TestEndRecordsError(t *testing.T) {
	t.Parallel()
	_, span := StartRoot(context.Background(), "failing")
	End(span, errors.New("boom"))
	if span.IsRecording() {
		t.Fatal("span still recording after End")
	}
}

func TestSubjectKind(t *testing.T) {
	t.Parallel()
	tests := []struct{ subject, want string }{
		{"sfsap.cdc.account.001000000000001AAA.UPDATE", "sfsap.cdc.account"},
		{"sfsap.sap.create.001000000000001AAA", "sfsap.sap.create"},
		{"sfsap.result.synced.001000000000001AAA", "sfsap.result.synced"},
		{"sfsap.dlq.sapworker.unknown", "sfsap.dlq.sapworker"},
		{"short.subject", "short.subject"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := SubjectKind(tt.subject); got != tt.want {
			t.Errorf("SubjectKind(%q) = %q, want %q", tt.subject, got, tt.want)
		}
	}
}
