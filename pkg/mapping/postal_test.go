package mapping

import (
	"errors"
	"strings"
	"testing"
)

func TestPostalCodeValid(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		country, in, want string
	}{
		{"US", "02138", "02138"},
		{"US", "02138-1234", "02138-1234"},
		{"US", "021381234", "02138-1234"}, // ZIP+4 without hyphen
		{"US", "02138 1234", "02138-1234"},
		{"US", " 94043 ", "94043"},
		{"DE", "80331", "80331"},
		{"DE", "80 331", "80331"},
		{"GB", "SW1A 1AA", "SW1A 1AA"},
		{"GB", "sw1a1aa", "SW1A 1AA"},
		{"GB", "NE26 3HS", "NE26 3HS"},
		{"GB", "ne26  3hs", "NE26 3HS"},
		{"GB", "M1 1AE", "M1 1AE"},
		{"CA", "K1A 0B1", "K1A 0B1"},
		{"CA", "k1a0b1", "K1A 0B1"},
		{"CA", "K1A-0B1", "K1A 0B1"},
		{"NL", "1012 AB", "1012 AB"},
		{"NL", "1012ab", "1012 AB"},
		{"AT", "1010", "1010"},
		{"CH", "8001", "8001"},
		{"FR", "75251", "75251"},
		{"SE", "11122", "111 22"},
		{"PL", "00950", "00-950"},
		{"JP", "1000001", "100-0001"},
		{"SG", "787472", "787472"},
		{"IN", "110001", "110001"},
		// Countries without a rule take up to 10 characters as they are.
		{"AE", "", ""},
		{"HK", "n/a", "n/a"},
		{"ZA", "  0001  ", "0001"},
		// Unknown country: only the length is checked.
		{"", "ABC-123", "ABC-123"},
	}
	for _, tt := range tests {
		got, problem := p.postalCode(tt.country, tt.in)
		if problem != nil || got != tt.want {
			t.Errorf("postalCode(%q, %q) = %q, %v, want %q, nil", tt.country, tt.in, got, problem, tt.want)
		}
	}
}

func TestPostalCodeProblems(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		country, in string
		wantErr     error
		wantParts   []string
	}{
		{"US", "2138", ErrInvalidFormat, []string{`Billing Postal Code "2138" is not a valid postal code for United States (US)`, "5 digits", "02138"}},
		{"US", "02138-12", ErrInvalidFormat, []string{`"02138-12"`}},
		{"US", "ABCDE", ErrInvalidFormat, []string{`"ABCDE"`}},
		{"DE", "8033", ErrInvalidFormat, []string{`"8033"`, "Germany (DE)", "use 5 digits, such as 80331"}},
		{"DE", "D-80331", ErrInvalidFormat, []string{`"D-80331"`}},
		{"GB", "12345", ErrInvalidFormat, []string{"United Kingdom (GB)", "SW1A 1AA"}},
		{"CA", "123 456", ErrInvalidFormat, []string{"Canada (CA)", "A1A 1A1"}},
		{"NL", "0123 AB", ErrInvalidFormat, []string{"Netherlands (NL)"}},
		{"US", "", ErrMissing, []string{"Billing Postal Code is empty but SAP needs a postal code for United States (US)", "02138"}},
		{"DE", "  ", ErrMissing, []string{"Germany (DE)", "80331"}},
		{"HK", "12345678901", ErrTooLong, []string{`"12345678901" has 11 characters but SAP accepts at most 10`}},
	}
	for _, tt := range tests {
		got, problem := p.postalCode(tt.country, tt.in)
		if problem == nil {
			t.Errorf("postalCode(%q, %q) = %q, nil, want a problem", tt.country, tt.in, got)
			continue
		}
		if !errors.Is(problem, tt.wantErr) {
			t.Errorf("postalCode(%q, %q) error = %v, want %v", tt.country, tt.in, problem.Err, tt.wantErr)
		}
		if problem.Field != FieldBillingPostalCode {
			t.Errorf("postalCode(%q, %q) field = %q, want %q", tt.country, tt.in, problem.Field, FieldBillingPostalCode)
		}
		for _, part := range tt.wantParts {
			if !strings.Contains(problem.Message, part) {
				t.Errorf("postalCode(%q, %q) message = %q, want it to contain %q", tt.country, tt.in, problem.Message, part)
			}
		}
	}
}

func TestPostalRulesMatchTheirExamples(t *testing.T) {
	t.Parallel()
	p := Default()

	for country, rule := range p.postalRules {
		if rule.example == "" {
			t.Errorf("postal rule %s has no example", country)
			continue
		}
		if got := rule.normalize(rule.example); !rule.valid(got) || got != rule.example {
			t.Errorf("postal rule %s: example %q normalises to %q, valid %v, want itself and valid", country, rule.example, got, rule.valid(got))
		}
	}
}

func TestPostalRequiredHasRule(t *testing.T) {
	t.Parallel()
	p := Default()

	for code, info := range p.countries {
		if info.postalRequired && p.postalRules[code] == nil {
			t.Errorf("country %s requires a postal code but has no postal code rule", code)
		}
	}
}
