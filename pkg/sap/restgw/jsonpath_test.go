package restgw

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sfsap/sfsap/pkg/sap"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return v
}

func TestStringsAt(t *testing.T) {
	t.Parallel()
	doc := `{"d":{"results":[{"No":"1"},{"no":2},{"No":""},{"No":{"x":1}}]},"Top":" 7 ","list":[["a"]]}`
	tests := []struct {
		path string
		want []string
	}{
		{"Top", []string{"7"}},
		{"top", []string{"7"}},
		{"d.results.*.No", []string{"1", "2"}},
		{"d.results.1.NO", []string{"2"}},
		{"d.results.9.No", nil},
		{"d.results.-1.No", nil},
		{"d.missing", nil},
		{"Top.x", nil},
		{"list.0.0", []string{"a"}},
	}
	for _, tt := range tests {
		got := stringsAt(decode(t, doc), tt.path)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("stringsAt(%q) mismatch (-want +got):\n%s", tt.path, diff)
		}
	}
}

func TestMessagesAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []sap.Message
	}{
		{"structure", `{"RETURN":{"TYPE":"E","ID":"F2","NUMBER":"156","MESSAGE":"Debtor 99 is not created","LOG_NO":""}}`,
			[]sap.Message{{Type: "E", ID: "F2", Number: "156", Message: "Debtor 99 is not created"}}},
		{"empty structure", `{"RETURN":{"TYPE":"","ID":"","NUMBER":"000","MESSAGE":""}}`, nil},
		{"table, lower-case keys", `{"return":[{"type":"w","message":"Check tax","number":"000"},{"type":"s","id":"F2","number":"1","message":"ok"}]}`,
			[]sap.Message{{Type: "W", Message: "Check tax"}, {Type: "S", ID: "F2", Number: "1", Message: "ok"}}},
		{"not an object", `{"RETURN":"E"}`, nil},
	}
	for _, tt := range tests {
		got := messagesAt(decode(t, tt.doc), "RETURN")
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: messagesAt() mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}
