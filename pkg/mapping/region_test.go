package mapping

import (
	"errors"
	"strings"
	"testing"
)

func TestRegionPairs(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		country, state string
		want           string
	}{
		// Reported cases: region codes are unique only within a country.
		{"DE", "Bavaria", "09"},
		{"US", "MA", "MA"},
		{"SI", "140", "140"},

		{"DE", "Bayern", "09"},
		{"DE", "BY", "09"},
		{"DE", "by", "09"},
		{"DE", "BAY", "09"},
		{"Deutschland", "Bavaria", "09"},
		{"DE", "Baden-Württemberg", "08"},
		{"DE", "baden wuerttemberg", "08"},
		{"DE", "Thüringen", "16"},
		{"DE", "Thuringia", "16"},
		{"DE", "NRW", "05"},
		{"DE", "North Rhine-Westphalia", "05"},
		{"DE", "09", "09"},
		{"US", "Massachusetts", "MA"},
		{"US", "massachusetts", "MA"},
		{"US", "District of Columbia", "DC"},
		{"US", "Washington, D.C.", "DC"},
		{"US", "New York", "NY"},
		{"USA", "ca", "CA"},
		{"CA", "Ontario", "ON"},
		{"CA", "Québec", "QC"},
		{"CA", "Quebec", "QC"},
		{"CA", "BC", "BC"},
		{"AU", "New South Wales", "NSW"},
		{"AU", "vic", "VIC"},
		{"IN", "Maharashtra", "13"},
		{"IN", "MH", "13"},
		{"IN", "Telangana", "36"},
		{"IT", "Milano", "MI"},
		{"IT", "Milan", "MI"},
		{"IT", "RM", "RM"},
		{"ES", "Madrid", "28"},
		{"ES", "Barcelona", "08"},
		{"ES", "A Coruña", "15"},
		{"CH", "Zürich", "ZH"},
		{"CH", "Genève", "GE"},
		{"CH", "VD", "VD"},
		{"AT", "Wien", "09"},
		{"AT", "Vienna", "09"},
		{"AT", "Niederösterreich", "03"},
		{"SI", "061", "061"},
		{"SI", "Ljubljana", "061"},
		// "CA" is California in the US and the country Canada elsewhere.
		{"US", "CA", "CA"},
	}
	for _, tt := range tests {
		got, err := p.Region(tt.country, tt.state)
		if err != nil || got != tt.want {
			t.Errorf("Region(%q, %q) = %q, %v, want %q, nil", tt.country, tt.state, got, err, tt.want)
		}
	}
}

func TestRegionProblems(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		country, state string
		wantErr        error
		// wantParts must all appear in the message.
		wantParts []string
	}{
		{"DE", "Atlantis", ErrUnknownRegion, []string{`Billing State "Atlantis" is not a region of Germany (DE): use a German state name such as Bavaria or its code BY`}},
		{"US", "Bavaria", ErrUnknownRegion, []string{`"Bavaria"`, "United States (US)", "Massachusetts", "MA"}},
		{"SI", "999", ErrUnknownRegion, []string{`"999"`, "Slovenia (SI)"}},
		{"US", "", ErrMissing, []string{"Billing State is empty", "United States (US)", "MA"}},
		{"CA", " ", ErrMissing, []string{"Billing State is empty", "Canada (CA)"}},
		{"GB", "Kent", ErrNoRegionTable, []string{`"Kent"`, "United Kingdom (GB)"}},
		{"Atlantis", "Bavaria", ErrUnknownCountry, []string{`Billing Country "Atlantis"`}},
		{"", "Bavaria", ErrMissing, []string{"Billing Country is empty"}},
	}
	for _, tt := range tests {
		got, err := p.Region(tt.country, tt.state)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Region(%q, %q) = %q, %v, want error %v", tt.country, tt.state, got, err, tt.wantErr)
			continue
		}
		var problem *Problem
		if !errors.As(err, &problem) {
			t.Errorf("Region(%q, %q) error %T is not a *Problem", tt.country, tt.state, err)
			continue
		}
		for _, part := range tt.wantParts {
			if !strings.Contains(problem.Message, part) {
				t.Errorf("Region(%q, %q) message = %q, want it to contain %q", tt.country, tt.state, problem.Message, part)
			}
		}
	}
}

func TestRegionOptionalEmpty(t *testing.T) {
	t.Parallel()
	p := Default()

	for _, country := range []string{"DE", "GB", "FR", "SI", "AT", "CH", "ES"} {
		got, err := p.Region(country, "")
		if err != nil || got != "" {
			t.Errorf("Region(%q, \"\") = %q, %v, want \"\", nil", country, got, err)
		}
	}
}

func TestRegionTablesComplete(t *testing.T) {
	t.Parallel()
	p := Default()

	tests := []struct {
		country string
		codes   int
	}{
		{"DE", 16},
		{"US", 56}, // 50 states, DC and 5 territories
		{"CA", 13},
		{"AU", 8},
		{"IN", 36},
		{"ES", 52},
		{"CH", 26},
		{"AT", 9},
		{"SI", 213},
	}
	for _, tt := range tests {
		table := p.regions[tt.country]
		if table == nil {
			t.Errorf("no region table for %s", tt.country)
			continue
		}
		codes := make(map[string]bool)
		for _, code := range table.keys {
			codes[code] = true
		}
		if len(codes) != tt.codes {
			t.Errorf("region table %s has %d codes, want %d", tt.country, len(codes), tt.codes)
		}
		if p.RegionTableVersion(tt.country) == "" {
			t.Errorf("RegionTableVersion(%q) is empty", tt.country)
		}
	}

	// The standard SAP keys of the German states, in order.
	states := []string{
		"Schleswig-Holstein", "Hamburg", "Niedersachsen", "Bremen", "Nordrhein-Westfalen",
		"Hessen", "Rheinland-Pfalz", "Baden-Württemberg", "Bayern", "Saarland", "Berlin",
		"Brandenburg", "Mecklenburg-Vorpommern", "Sachsen", "Sachsen-Anhalt", "Thüringen",
	}
	for i, state := range states {
		want := string(rune('0'+(i+1)/10)) + string(rune('0'+(i+1)%10))
		if got, err := p.Region("DE", state); got != want || err != nil {
			t.Errorf("Region(DE, %q) = %q, %v, want %q, nil", state, got, err, want)
		}
	}

	if v := p.RegionTableVersion("GB"); v != "" {
		t.Errorf("RegionTableVersion(GB) = %q, want \"\" (no table)", v)
	}
}
