package bench

import "testing"

func TestTraceKind(t *testing.T) {
	t.Parallel()
	const id = "001Hx0000000001IAA"
	tests := []struct {
		subject  string
		wantKind string
		wantID   string
	}{
		{"sfsap.cdc.account." + id + ".UPDATE", kindChange, id},
		{"sfsap.cdc.account." + id + ".CREATE", "", ""},
		{"sfsap.sap.create." + id, kindCreateJob, id},
		{"sfsap.sf.writeback." + id, kindWriteback, id},
		{"sfsap.result.synced." + id, "", ""},
		{"sfsap.dlq.filter." + id, "", ""},
	}
	for _, tt := range tests {
		kind, gotID := traceKind(tt.subject)
		if kind != tt.wantKind || gotID != tt.wantID {
			t.Errorf("traceKind(%q) = %q, %q, want %q, %q", tt.subject, kind, gotID, tt.wantKind, tt.wantID)
		}
	}
}
