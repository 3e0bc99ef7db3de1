package mapping

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfsap/sfsap/pkg/account"
)

// writePack writes a pack file into a fresh temporary directory and returns
// its path.
func writePack(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
	return path
}

func TestLoadWithoutPathsIsDefault(t *testing.T) {
	t.Parallel()
	p, err := Load()
	if err != nil {
		t.Fatalf("Load() error: %v", err)
	}
	if p != Default() {
		t.Errorf("Load() = %p, want the Default() pack %p", p, Default())
	}
}

const overridePack = `
default_language: de
languages: [sq]
countries:
  DE:
    aliases: [Alemanha]
  XK:
    name: Kosovo
    aliases: [Kosova]
    language: sq
    currency: eur
    postal_code: required
  UA:
    aliases: [UK]
regions:
  DE:
    version: PRD client 100, May 2024
    codes:
      "09": [Freistaat Bayern]
  SI:
    replace: true
    version: PRD client 100, SI
    codes:
      "140": [Vrhnika]
  XK:
    hint: a Kosovo district such as Pristina
    codes:
      "01": [Pristina, Prishtina]
postal_codes:
  XK: {pattern: '[0-9]{5}', format: 5 digits, example: "10000"}
  GB: {pattern: '[A-Z0-9 ]{2,8}', format: up to 8 letters and digits, example: SW1A 1AA, upper: true}
organization:
  company_code: "2000"
  sales_org: "2000"
  allowed:
    - {company_code: "2000", sales_org: "2000"}
    - {company_code: "3000", sales_org: "3000"}
  reference_customers:
    - {sales_org: "3000", distribution_channel: "10", division: "00", customer: "4711"}
`

func TestLoadOverride(t *testing.T) {
	t.Parallel()
	p, err := Load(writePack(t, "site.yaml", overridePack))
	if err != nil {
		t.Fatalf("Load(site.yaml) error: %v", err)
	}

	countries := []struct {
		in, want string
	}{
		{"Alemanha", "DE"},
		{"Deutschland", "DE"}, // built-in aliases stay
		{"Kosova", "XK"},
		{"XK", "XK"},
		{"UK", "UA"}, // a later file takes over an alias
		{"United Kingdom", "GB"},
	}
	for _, tt := range countries {
		if got, ok := p.Country(tt.in); got != tt.want || !ok {
			t.Errorf("Country(%q) = %q, %v, want %q, true", tt.in, got, ok, tt.want)
		}
	}

	regions := []struct {
		country, state, want string
		wantErr              error
	}{
		{"DE", "Freistaat Bayern", "09", nil},
		{"DE", "Bavaria", "09", nil}, // merged, not replaced
		{"DE", "Hessen", "06", nil},
		{"SI", "140", "140", nil},
		{"SI", "061", "", ErrUnknownRegion}, // replaced table
		{"XK", "Prishtina", "01", nil},
	}
	for _, tt := range regions {
		got, err := p.Region(tt.country, tt.state)
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("Region(%q, %q) = %q, %v, want %q, %v", tt.country, tt.state, got, err, tt.want, tt.wantErr)
		}
	}
	if got, want := p.RegionTableVersion("DE"), "PRD client 100, May 2024"; got != want {
		t.Errorf("RegionTableVersion(DE) = %q, want %q", got, want)
	}

	if got, problem := p.postalCode("GB", "x1"); problem != nil || got != "X1" {
		t.Errorf("postalCode(GB, x1) with the site rule = %q, %v, want \"X1\", nil", got, problem)
	}
	if _, problem := p.postalCode("XK", ""); !errors.Is(problem, ErrMissing) {
		t.Errorf("postalCode(XK, \"\") = %v, want ErrMissing", problem)
	}

	// The built-in pack is untouched by the override.
	d := Default()
	if got, _ := d.Country("UK"); got != "GB" {
		t.Errorf("Default().Country(UK) = %q after Load, want GB", got)
	}
	if _, ok := d.Country("Kosova"); ok {
		t.Errorf("Default().Country(Kosova) found after Load, want not found")
	}
	if got, _ := d.Region("SI", "061"); got != "061" {
		t.Errorf("Default().Region(SI, 061) = %q after Load, want 061", got)
	}
}

func TestLoadOverrideOrganization(t *testing.T) {
	t.Parallel()
	p, err := Load(writePack(t, "site.yaml", overridePack))
	if err != nil {
		t.Fatalf("Load(site.yaml) error: %v", err)
	}

	base := account.Account{
		ID: "001000000000001AAA", Name: "Kosovo Test", BillingCity: "Pristina",
		BillingCountry: "Kosovo", BillingPostalCode: "10000", BillingState: "Pristina",
	}

	c, err := p.Map(base)
	if err != nil {
		t.Fatalf("Map(defaults) error: %v", err)
	}
	checkFields(t, "Map(site defaults)", []fieldCheck{
		{"CompanyCode", c.CompanyCode, "2000"},
		{"SalesOrg", c.SalesOrg, "2000"},
		{"ReferenceCustomer", c.ReferenceCustomer, "0000099999"},
		{"Language", c.Language, "sq"},
		{"Currency", c.Currency, "EUR"},
		{"Region", c.Region, "01"},
	})

	own := base
	own.CompanyCode, own.SalesOrg = "3000", "3000"
	c, err = p.Map(own)
	if err != nil {
		t.Fatalf("Map(3000/3000) error: %v", err)
	}
	if c.ReferenceCustomer != "0000004711" {
		t.Errorf("Map(3000/3000).ReferenceCustomer = %q, want 0000004711", c.ReferenceCustomer)
	}

	// 1000/1000 is allowed by the built-in list, which the site file replaced.
	own.CompanyCode, own.SalesOrg = "1000", "1000"
	_, err = p.Map(own)
	if !errors.Is(err, ErrSalesAreaNotAllowed) {
		t.Fatalf("Map(1000/1000) error = %v, want ErrSalesAreaNotAllowed", err)
	}
	if !strings.Contains(err.Error(), "2000/2000, 3000/3000") {
		t.Errorf("Map(1000/1000) error = %q, want it to list the allowed pairs", err)
	}
}

func TestLoadLaterFileWins(t *testing.T) {
	t.Parallel()
	first := writePack(t, "first.yaml", `
default_language: de
countries:
  RS: {aliases: [Kosova]}
regions:
  DE: {version: first}
`)
	second := writePack(t, "second.yaml", `
default_language: fr
countries:
  XK: {name: Kosovo, aliases: [Kosova]}
regions:
  DE: {version: second}
`)
	p, err := Load(first, second)
	if err != nil {
		t.Fatalf("Load(first, second) error: %v", err)
	}
	if got, _ := p.Country("Kosova"); got != "XK" {
		t.Errorf("Country(Kosova) = %q, want XK from the later file", got)
	}
	if p.defaultLanguage != "fr" {
		t.Errorf("default language = %q, want fr from the later file", p.defaultLanguage)
	}
	if got := p.RegionTableVersion("DE"); got != "second" {
		t.Errorf("RegionTableVersion(DE) = %q, want second", got)
	}

	p, err = Load(second, first)
	if err != nil {
		t.Fatalf("Load(second, first) error: %v", err)
	}
	if got, _ := p.Country("Kosova"); got != "RS" {
		t.Errorf("Country(Kosova) = %q, want RS from the later file", got)
	}
}

func TestLoadInvalid(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		content string
		// want must appear in the error.
		want string
	}{
		{"unknown field", "countries: {DE: {langauge: de}}", "langauge"},
		{"syntax error", "countries: [DE", "yaml"},
		{"two documents", "default_language: en\n---\ndefault_language: de\n", "more than one YAML document"},
		{"bad country code", "countries: {Germany: {}}", `"Germany"`},
		{"alias is another code", "countries: {DE: {aliases: [FR]}}", `alias "FR"`},
		{"alias twice in one file", "countries: {DE: {aliases: [Foo]}, FR: {aliases: [foo]}}", `"foo"`},
		{"alias without letters", "countries: {DE: {aliases: [\"...\"]}}", `"..."`},
		{"bad alpha3", "countries: {DE: {alpha3: DE}}", "alpha-3"},
		{"bad region policy", "countries: {DE: {region: maybe}}", `"maybe"`},
		{"bad postal policy", "countries: {DE: {postal_code: yes please}}", `"yes please"`},
		{"region required without table", "countries: {GB: {region: required}}", "no table for GB"},
		{"bad language", "default_language: english", `"english"`},
		{"country language not offered", "countries: {DE: {language: sw}}", `"sw"`},
		{"bad currency", "countries: {DE: {currency: euro}}", `"euro"`},
		{"region code too long", `regions: {DE: {codes: {"0009": [Bavaria]}}}`, `"0009"`},
		{"region name is another code", `regions: {DE: {codes: {"09": ["10"]}}}`, `"10"`},
		{"region name twice in one file", `regions: {DE: {codes: {"09": [Foo], "10": [foo]}}}`, `"foo"`},
		{"region table for unknown country", `regions: {QQ: {codes: {"1": [x]}}}`, "QQ"},
		{"postal rule for unknown country", `postal_codes: {QQ: {pattern: "[0-9]+"}}`, "QQ"},
		{"bad postal pattern", `postal_codes: {DE: {pattern: "[0-9"}}`, `postal_codes.DE.pattern "[0-9"`},
		{"separator without compact", `postal_codes: {DE: {pattern: "[0-9]+", separator: "-", separator_at: 2}}`, "separator"},
		{"postal max length", `postal_codes: {DE: {max_length: 11}}`, "max_length"},
		{"sales org too long", `organization: {sales_org: "12345"}`, `"12345"`},
		{"default pair not allowed", `organization: {allowed: [{company_code: "9000", sales_org: "9000"}]}`, "not in organization.allowed"},
		{"incomplete reference", `organization: {reference_customers: [{sales_org: "1000", customer: "1"}]}`, "needs all four values"},
		{
			"reference customer twice",
			`organization: {reference_customers: [
			  {sales_org: "1000", distribution_channel: "10", division: "00", customer: "1"},
			  {sales_org: "1000", distribution_channel: "10", division: "00", customer: "2"}]}`,
			"both customer",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writePack(t, "bad.yaml", tt.content)
			p, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%q) = %p, nil, want an error", tt.content, p)
			}
			if !errors.Is(err, ErrInvalidPack) {
				t.Errorf("Load(%q) error = %v, want it to wrap ErrInvalidPack", tt.content, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%q) error = %q, want it to contain %q", tt.content, err, tt.want)
			}
		})
	}
}

func TestLoadAcceptsEquivalentEntries(t *testing.T) {
	t.Parallel()
	path := writePack(t, "ok.yaml", `
countries:
  DE: {aliases: [Allemagne, ALLEMAGNE, Deutschland]}
regions:
  DE: {codes: {"09": [Bavaria, BAVARIA]}}
organization:
  reference_customers:
    - {sales_org: "1000", distribution_channel: "10", division: "00", customer: "99999"}
    - {sales_org: "1000", distribution_channel: "10", division: "00", customer: "0000099999"}
`)
	if _, err := Load(path); err != nil {
		t.Errorf("Load(equivalent entries) error: %v", err)
	}

	empty := writePack(t, "empty.yaml", "# nothing to change\n")
	if _, err := Load(empty); err != nil {
		t.Errorf("Load(empty file) error: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(absent.yaml) error = %v, want fs.ErrNotExist", err)
	}
	if errors.Is(err, ErrInvalidPack) {
		t.Errorf("Load(absent.yaml) error = %v, want it not to wrap ErrInvalidPack", err)
	}
}
