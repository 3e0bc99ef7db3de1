package mapping

import (
	"errors"
	"testing"
)

func TestNormalizePhone(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"(650) 867-3450", "650 867-3450", true},
		{"+44 191 4956203", "+44 191 4956203", true},
		{"+49 (0)89 1234-567", "+49 89 1234-567", true},
		{"089/1234567", "089 1234567", true},
		{"030.123.456", "030 123 456", true},
		{"  +1  555   0100 ", "+1 555 0100", true},
		{"", "", true},
		{"(014) 427-4427", "014 427-4427", true},
		{"+49\u00a089\u00a0123\u2013456", "+49 89 123-456", true}, // no-break spaces and an en dash
		{"555-0100 ext. 12", "", false},
		{"+1 555 0100 x12", "", false},
		{"call reception", "", false},
		{"０３-１２３４", "", false}, // full-width digits are not sent as they are
	}
	for _, tt := range tests {
		got, ok := normalizePhone(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("normalizePhone(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestPhoneProblems(t *testing.T) {
	t.Parallel()

	tests := []struct {
		field, in string
		wantErr   error
	}{
		{FieldPhone, "555-0100 ext. 12", ErrInvalidFormat},
		{FieldFax, "fax me", ErrInvalidFormat},
		{FieldPhone, "+1 555 0100 0100 0100 0100 0100 0100", ErrTooLong},
	}
	for _, tt := range tests {
		got, problem := phone(tt.field, tt.in)
		if problem == nil {
			t.Errorf("phone(%q, %q) = %q, nil, want a problem", tt.field, tt.in, got)
			continue
		}
		if !errors.Is(problem, tt.wantErr) {
			t.Errorf("phone(%q, %q) error = %v, want %v", tt.field, tt.in, problem.Err, tt.wantErr)
		}
		if problem.Field != tt.field {
			t.Errorf("phone(%q, %q) field = %q, want %q", tt.field, tt.in, problem.Field, tt.field)
		}
	}

	// Thirty characters is the limit, and still fine.
	in := "+1 555 0100 0100 0100 0100 010"
	if got, problem := phone(FieldPhone, in); problem != nil || got != in {
		t.Errorf("phone(%q) = %q, %v, want it unchanged", in, got, problem)
	}
}
