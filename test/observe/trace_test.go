package observe

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/sfsap/sfsap/pkg/bus"
	"github.com/sfsap/sfsap/pkg/msg"
	"github.com/sfsap/sfsap/pkg/tracing"
	"github.com/sfsap/sfsap/test/observe/observetest"
)

// accountOf returns the account id token of an sfsap subject.
func accountOf(subject string) string {
	tokens := strings.Split(subject, ".")
	if strings.HasPrefix(subject, "sfsap.cdc.account.") && len(tokens) == 5 {
		return tokens[3]
	}
	return tokens[len(tokens)-1]
}

func TestConversionSharesOneTrace(t *testing.T) {
	t.Parallel()
	b := observetest.Start(t, nil)
	ids := b.Convert(t, observetest.Accounts)

	// Every message of an account, in the order they were published.
	byAccount := map[string][]*nats.Msg{}
	for _, m := range b.Captured.All() {
		if strings.HasPrefix(m.Subject, "$") {
			continue
		}
		if tracing.TraceIDFromHeader(m.Header) == "" {
			t.Errorf("message on %s has no traceparent header; header %v", m.Subject, m.Header)
		}
		byAccount[accountOf(m.Subject)] = append(byAccount[accountOf(m.Subject)], m)
	}

	for _, id := range ids {
		// The conversion's trace starts at the change event of Type.
		var conversion string
		cdcTraces := map[string]bool{}
		for _, m := range byAccount[id] {
			if !strings.HasPrefix(m.Subject, "sfsap.cdc.account.") {
				continue
			}
			var c msg.AccountChange
			if err := json.Unmarshal(m.Data, &c); err != nil {
				t.Fatalf("decoding change on %s: %v", m.Subject, err)
			}
			trace := tracing.TraceIDFromHeader(m.Header)
			if cdcTraces[trace] {
				t.Errorf("account %s: two change events share trace %s, want one trace per change", id, trace)
			}
			cdcTraces[trace] = true
			if c.ChangeType == msg.ChangeUpdate && slices.Contains(c.ChangedFields, "Type") {
				conversion = trace
			}
		}
		if conversion == "" {
			t.Errorf("account %s: no change event of Type captured", id)
			continue
		}

		// Every job, dead letter and result of the account continues it.
		kinds := map[string]bool{}
		for _, m := range byAccount[id] {
			if strings.HasPrefix(m.Subject, "sfsap.cdc.account.") {
				continue
			}
			kinds[tracing.SubjectKind(m.Subject)] = true
			if got := tracing.TraceIDFromHeader(m.Header); got != conversion {
				t.Errorf("account %s: message on %s (correlation %s) has trace %s, want the conversion's %s",
					id, m.Subject, m.Header.Get(bus.HeaderCorrelation), got, conversion)
			}
		}
		for _, want := range []string{"sfsap.sap.create", "sfsap.sf.writeback"} {
			if !kinds[want] {
				t.Errorf("account %s: no message on %s.*; saw %v", id, want, kinds)
			}
		}
	}

	// The account without a country fails in the SAP worker, so its trace
	// also covers the dead letter and the failed result.
	failed := map[string]bool{}
	for _, m := range byAccount[ids[2]] {
		failed[tracing.SubjectKind(m.Subject)] = true
	}
	for _, want := range []string{"sfsap.dlq.sapworker", "sfsap.result.failed"} {
		if !failed[want] {
			t.Errorf("failing account %s: no message on %s.*", ids[2], want)
		}
	}
}
