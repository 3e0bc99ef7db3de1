package mapping

import (
	"errors"
	"testing"
)

func TestCountryAliases(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		// Inputs reported from orgs without country picklists.
		{"United States", "US", true},
		{"USA", "US", true},
		{"UK", "GB", true},
		{"U.K.", "GB", true},
		{"Deutschland", "DE", true},
		{"GB", "GB", true},
		{" de ", "DE", true},
		{"", "", false},

		{"United States of America", "US", true},
		{"U.S.A.", "US", true},
		{"u.s.", "US", true},
		{"Germany", "DE", true},
		{"DEU", "DE", true},
		{"gbr", "GB", true},
		{"United Kingdom", "GB", true},
		{"Great Britain", "GB", true},
		{"England", "GB", true},
		{"Österreich", "AT", true},
		{"Oesterreich", "AT", true},
		{"Schweiz", "CH", true},
		{"Suisse", "CH", true},
		{"España", "ES", true},
		{"Espana", "ES", true},
		{"The Netherlands", "NL", true},
		{"Holland", "NL", true},
		{"France", "FR", true},
		{"Frankreich", "FR", true},
		{"日本", "JP", true},
		{"Côte d’Ivoire", "CI", true},
		{"Cote d'Ivoire", "CI", true},
		{"South Korea", "KR", true},
		{"Korea, Republic of", "KR", true},
		{"Russian Federation", "RU", true},
		{"Czechia", "CZ", true},
		{"Türkiye", "TR", true},
		{"Slovenija", "SI", true},
		{"  united   states  ", "US", true},
		{"\tUSA\n", "US", true},
		{"u. s. a.", "US", true},

		{"Atlantis", "", false},
		{"...", "", false},
		{"EU", "", false},
		{"XX", "", false},
	}
	for _, tt := range tests {
		got, ok := p.Country(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Country(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestCountryEveryCodeIsItself(t *testing.T) {
	t.Parallel()
	p := Default()

	if n := len(p.countries); n != 249 {
		t.Errorf("built-in pack has %d countries, want the 249 ISO 3166-1 alpha-2 codes", n)
	}
	for code := range p.countries {
		for _, in := range []string{code, " " + code + " ", string([]byte{code[0] | 0x20, code[1] | 0x20})} {
			if got, ok := p.Country(in); got != code || !ok {
				t.Errorf("Country(%q) = %q, %v, want %q, true", in, got, ok, code)
			}
		}
		if p.CountryName(code) == code {
			t.Errorf("CountryName(%q) has no name", code)
		}
	}
}

func TestResolveCountryProblems(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		in      string
		wantErr error
		want    string
	}{
		{"", ErrMissing, "Billing Country is empty: enter a country such as DE or United States, because SAP needs one and sfsap never guesses it"},
		{"   ", ErrMissing, "Billing Country is empty: enter a country such as DE or United States, because SAP needs one and sfsap never guesses it"},
		{"Atlantis", ErrUnknownCountry, `Billing Country "Atlantis" is not a known country: enter a country name or ISO code such as DE or United States`},
	}
	for _, tt := range tests {
		code, problem := p.resolveCountry(FieldBillingCountry, tt.in)
		if problem == nil {
			t.Errorf("resolveCountry(%q) = %q, nil, want a problem", tt.in, code)
			continue
		}
		if !errors.Is(problem, tt.wantErr) {
			t.Errorf("resolveCountry(%q) error = %v, want %v", tt.in, problem.Err, tt.wantErr)
		}
		if problem.Message != tt.want {
			t.Errorf("resolveCountry(%q) message = %q, want %q", tt.in, problem.Message, tt.want)
		}
		if problem.Field != FieldBillingCountry {
			t.Errorf("resolveCountry(%q) field = %q, want %q", tt.in, problem.Field, FieldBillingCountry)
		}
	}
}

func TestLookupKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"U.K.", "UK"},
		{" u k ", "UK"},
		{"Baden-Württemberg", "BADENWURTTEMBERG"},
		{"Côte d’Ivoire", "COTEDIVOIRE"},
		{"São Tomé & Príncipe", "SAOTOMEPRINCIPE"},
		{"日本", "日本"},
		{"140", "140"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := lookupKey(tt.in); got != tt.want {
			t.Errorf("lookupKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
