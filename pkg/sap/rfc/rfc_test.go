package rfc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestString(t *testing.T) {
	t.Parallel()

	params := map[string]any{
		"CHAR":   "ABC",
		"INT":    42,
		"INT64":  int64(-7),
		"FLOAT":  1.25,
		"STRUCT": map[string]any{"A": "1"},
		"TABLE":  []map[string]any{{"A": "1"}},
	}
	tests := []struct {
		name string
		want string
	}{
		{"CHAR", "ABC"},
		{"INT", "42"},
		{"INT64", "-7"},
		{"FLOAT", "1.25"},
		{"STRUCT", ""},
		{"TABLE", ""},
		{"MISSING", ""},
	}
	for _, tt := range tests {
		if got := String(params, tt.name); got != tt.want {
			t.Errorf("String(params, %q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStruct(t *testing.T) {
	t.Parallel()

	params := map[string]any{
		"RETURN":  map[string]any{"TYPE": "E"},
		"STRINGS": map[string]string{"TYPE": "S"},
		"EMPTY":   "",
	}
	if diff := cmp.Diff(map[string]any{"TYPE": "E"}, Struct(params, "RETURN")); diff != "" {
		t.Errorf("Struct(params, RETURN) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"TYPE": "S"}, Struct(params, "STRINGS")); diff != "" {
		t.Errorf("Struct(params, STRINGS) mismatch (-want +got):\n%s", diff)
	}
	if got := Struct(params, "EMPTY"); got != nil {
		t.Errorf("Struct(params, EMPTY) = %v, want nil", got)
	}
}

func TestTable(t *testing.T) {
	t.Parallel()

	params := map[string]any{
		"ROWS":  []map[string]any{{"A": "1"}, {"A": "2"}},
		"GORFC": []any{map[string]any{"A": "1"}, "junk", map[string]any{"A": "2"}},
		"EMPTY": "",
	}
	want := []map[string]any{{"A": "1"}, {"A": "2"}}
	if diff := cmp.Diff(want, Table(params, "ROWS")); diff != "" {
		t.Errorf("Table(params, ROWS) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, Table(params, "GORFC")); diff != "" {
		t.Errorf("Table(params, GORFC) mismatch (-want +got):\n%s", diff)
	}
	if got := Table(params, "EMPTY"); got != nil {
		t.Errorf("Table(params, EMPTY) = %v, want nil", got)
	}
}
