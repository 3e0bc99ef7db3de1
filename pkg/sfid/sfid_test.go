package sfid

import "testing"

func TestTo18(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"001M000000qfPyS", "001M000000qfPySIAU"},
		{"a0RE000000IJmcN", "a0RE000000IJmcNMAT"},
		{"aBcDEfgHIJKLMNO", "aBcDEfgHIJKLMNO025"},
		{"aaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaAAA"},
		{"001M000000qfPySiau", "001M000000qfPySIAU"},
	}
	for _, tt := range tests {
		got, err := To18(tt.in)
		if err != nil {
			t.Errorf("To18(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("To18(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTo18Invalid(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "001", "001M000000qfPyS-", "001M000000qfPySIAUX", "001M000000qfPy$"} {
		if got, err := To18(in); err == nil {
			t.Errorf("To18(%q) = %q, want an error", in, got)
		}
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	if !Valid("001M000000qfPySIAU") {
		t.Error("Valid(001M000000qfPySIAU) = false, want true")
	}
	if Valid("001M000000qfPySAAA") {
		t.Error("Valid with a wrong checksum = true, want false")
	}
	if Valid("001M000000qfPyS") {
		t.Error("Valid of a 15-character id = true, want false")
	}
	if !Equal("001M000000qfPyS", "001M000000qfPySIAU") {
		t.Error("Equal(15-char, 18-char form) = false, want true")
	}
	if Equal("001M000000qfPyS", "001M000000qfPys") {
		t.Error("Equal of ids that differ in case = true, want false")
	}
}
