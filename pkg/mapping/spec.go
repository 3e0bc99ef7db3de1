package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/sfsap/sfsap/pkg/sap"
)

// packFile is the YAML form of one mapping pack file. Every section is
// optional, so a user file contains only what it changes.
type packFile struct {
	// DefaultLanguage is the ISO 639-1 language used when neither the
	// Account nor its country gives one.
	DefaultLanguage string `yaml:"default_language"`
	// Languages are the ISO 639-1 codes the SAP system accepts.
	Languages   []string               `yaml:"languages"`
	Countries   map[string]countrySpec `yaml:"countries"`
	Regions     map[string]regionSpec  `yaml:"regions"`
	PostalCodes map[string]postalSpec  `yaml:"postal_codes"`
	// Organization contains the SAP organisational defaults.
	Organization organizationSpec `yaml:"organization"`
}

type countrySpec struct {
	Name       string   `yaml:"name"`
	Alpha3     string   `yaml:"alpha3"`
	Aliases    []string `yaml:"aliases"`
	Language   string   `yaml:"language"`
	Currency   string   `yaml:"currency"`
	Region     string   `yaml:"region"`
	PostalCode string   `yaml:"postal_code"`
}

type regionSpec struct {
	// Version names the SAP region table (T005S) the codes were taken from.
	Version string `yaml:"version"`
	// Hint completes "use ..." in messages about an unknown state.
	Hint string `yaml:"hint"`
	// Replace drops the codes and names of earlier files.
	Replace bool `yaml:"replace"`
	// Codes maps each SAP region code to its names and other codes.
	Codes map[string][]string `yaml:"codes"`
}

type postalSpec struct {
	// Pattern is a Go regular expression that the whole normalised postal
	// code must match.
	Pattern string `yaml:"pattern"`
	// Format describes the pattern in words, such as "5 digits".
	Format  string `yaml:"format"`
	Example string `yaml:"example"`
	Upper   bool   `yaml:"upper"`
	// Compact removes spaces and hyphens before the separator goes in.
	Compact bool `yaml:"compact"`
	// Separator is inserted after SeparatorAt characters, or before the
	// last -SeparatorAt characters when negative, if the code is longer.
	Separator   string `yaml:"separator"`
	SeparatorAt int    `yaml:"separator_at"`
	// MaxLength defaults to 10, the length of SAP's POSTL_COD1.
	MaxLength int `yaml:"max_length"`
}

type organizationSpec struct {
	CompanyCode         string `yaml:"company_code"`
	SalesOrg            string `yaml:"sales_org"`
	DistributionChannel string `yaml:"distribution_channel"`
	Division            string `yaml:"division"`
	// ReferenceCustomer is used for sales areas missing from
	// ReferenceCustomers.
	ReferenceCustomer  string          `yaml:"reference_customer"`
	ReferenceCustomers []referenceSpec `yaml:"reference_customers"`
	Allowed            []allowedSpec   `yaml:"allowed"`
}

type referenceSpec struct {
	SalesOrg            string `yaml:"sales_org"`
	DistributionChannel string `yaml:"distribution_channel"`
	Division            string `yaml:"division"`
	Customer            string `yaml:"customer"`
}

type allowedSpec struct {
	CompanyCode string `yaml:"company_code"`
	SalesOrg    string `yaml:"sales_org"`
}

// SAP field lengths that the organisational data must fit.
const (
	maxCompanyCode         = 4 // BUKRS
	maxSalesOrg            = 4 // VKORG
	maxDistributionChannel = 2 // VTWEG
	maxDivision            = 2 // SPART
	maxCustomerNo          = 10
	maxRegion              = 3
	maxPostalCode          = 10
)

var (
	countryCodePattern = regexp.MustCompile(`^[A-Z]{2}$`)
	alpha3Pattern      = regexp.MustCompile(`^[A-Z]{3}$`)
	languagePattern    = regexp.MustCompile(`^[a-z]{2}$`)
	currencyPattern    = regexp.MustCompile(`^[A-Z]{3}$`)
)

// keyOwner records which code a lookup key belongs to and which file set
// it, so that a later file may override an earlier one while two entries
// of one file may not collide.
type keyOwner struct {
	code   string
	file   int
	isCode bool
	text   string
}

type regionBuild struct {
	version string
	hint    string
	keys    map[string]keyOwner
	file    string
}

type postalBuild struct {
	spec postalSpec
	file string
}

type refOwner struct {
	customer string
	file     int
}

// builder merges pack files in order and compiles the result.
type builder struct {
	file      int
	fileName  string
	pack      *Pack
	countries map[string]*countrySpec
	keys      map[string]keyOwner
	regions   map[string]*regionBuild
	postal    map[string]postalBuild
	org       organizationSpec
	refs      map[salesArea]refOwner
}

func newBuilder() *builder {
	return &builder{
		pack: &Pack{
			languages: make(map[string]bool),
		},
		countries: make(map[string]*countrySpec),
		keys:      make(map[string]keyOwner),
		regions:   make(map[string]*regionBuild),
		postal:    make(map[string]postalBuild),
		refs:      make(map[salesArea]refOwner),
	}
}

func (b *builder) errorf(format string, args ...any) error {
	return fmt.Errorf("loading %s: %s: %w", b.fileName, fmt.Sprintf(format, args...), ErrInvalidPack)
}

// addFile decodes one YAML file and merges it over the files before it.
func (b *builder) addFile(name string, data []byte) error {
	b.file++
	b.fileName = name

	var f packFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("loading %s: %w: %w", name, err, ErrInvalidPack)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return b.errorf("the file contains more than one YAML document, want one")
	}

	if f.DefaultLanguage != "" {
		lang := strings.ToLower(strings.TrimSpace(f.DefaultLanguage))
		if !languagePattern.MatchString(lang) {
			return b.errorf("default_language %q is not an ISO 639-1 code such as en", f.DefaultLanguage)
		}
		b.pack.defaultLanguage = lang
	}
	for _, l := range f.Languages {
		lang := strings.ToLower(strings.TrimSpace(l))
		if !languagePattern.MatchString(lang) {
			return b.errorf("languages entry %q is not an ISO 639-1 code such as de", l)
		}
		b.pack.languages[lang] = true
	}

	if err := b.addCountries(f.Countries); err != nil {
		return err
	}
	if err := b.addRegions(f.Regions); err != nil {
		return err
	}
	if err := b.addPostalCodes(f.PostalCodes); err != nil {
		return err
	}
	return b.addOrganization(f.Organization)
}

func (b *builder) addCountries(countries map[string]countrySpec) error {
	codes := slices.Sorted(maps.Keys(countries))

	// Codes go in first, so that an alias in the same file that spells
	// another country's code is caught whatever the map order.
	for _, raw := range codes {
		code := strings.ToUpper(strings.TrimSpace(raw))
		if !countryCodePattern.MatchString(code) {
			return b.errorf("country key %q is not a two-letter ISO 3166-1 alpha-2 code", raw)
		}
		b.keys[lookupKey(code)] = keyOwner{code: code, file: b.file, isCode: true, text: code}
	}

	for _, raw := range codes {
		spec := countries[raw]
		code := strings.ToUpper(strings.TrimSpace(raw))
		merged, ok := b.countries[code]
		if !ok {
			merged = &countrySpec{}
			b.countries[code] = merged
		}
		if err := b.mergeCountry(code, merged, spec); err != nil {
			return err
		}

		texts := append([]string{spec.Name, spec.Alpha3}, spec.Aliases...)
		for _, text := range texts {
			if strings.TrimSpace(text) == "" {
				continue
			}
			if err := b.claimCountryKey(code, text); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *builder) mergeCountry(code string, merged *countrySpec, spec countrySpec) error {
	if spec.Name != "" {
		merged.Name = strings.TrimSpace(spec.Name)
	}
	if spec.Alpha3 != "" {
		a3 := strings.ToUpper(strings.TrimSpace(spec.Alpha3))
		if !alpha3Pattern.MatchString(a3) {
			return b.errorf("countries.%s.alpha3 %q is not a three-letter ISO 3166-1 alpha-3 code", code, spec.Alpha3)
		}
		merged.Alpha3 = a3
	}
	if spec.Language != "" {
		lang := strings.ToLower(strings.TrimSpace(spec.Language))
		if !languagePattern.MatchString(lang) {
			return b.errorf("countries.%s.language %q is not an ISO 639-1 code such as de", code, spec.Language)
		}
		merged.Language = lang
	}
	if spec.Currency != "" {
		cur := strings.ToUpper(strings.TrimSpace(spec.Currency))
		if !currencyPattern.MatchString(cur) {
			return b.errorf("countries.%s.currency %q is not an ISO 4217 code such as EUR", code, spec.Currency)
		}
		merged.Currency = cur
	}
	if spec.Region != "" {
		if spec.Region != "required" && spec.Region != "optional" {
			return b.errorf("countries.%s.region is %q, want required or optional", code, spec.Region)
		}
		merged.Region = spec.Region
	}
	if spec.PostalCode != "" {
		if spec.PostalCode != "required" && spec.PostalCode != "optional" {
			return b.errorf("countries.%s.postal_code is %q, want required or optional", code, spec.PostalCode)
		}
		merged.PostalCode = spec.PostalCode
	}
	return nil
}

func (b *builder) claimCountryKey(code, text string) error {
	key := lookupKey(text)
	if key == "" {
		return b.errorf("countries.%s has the alias %q, which has no letters or digits", code, text)
	}
	prev, ok := b.keys[key]
	switch {
	case !ok || prev.code == code:
	case prev.isCode:
		return b.errorf("countries.%s has the alias %q, which is the code of another country", code, text)
	case prev.file == b.file:
		return b.errorf("the alias %q is given for both %s and %s", text, prev.code, code)
	}
	if !ok || !prev.isCode {
		b.keys[key] = keyOwner{code: code, file: b.file, text: text}
	}
	return nil
}

func (b *builder) addRegions(regions map[string]regionSpec) error {
	for _, raw := range slices.Sorted(maps.Keys(regions)) {
		spec := regions[raw]
		country := strings.ToUpper(strings.TrimSpace(raw))
		if !countryCodePattern.MatchString(country) {
			return b.errorf("region table key %q is not a two-letter ISO 3166-1 alpha-2 code", raw)
		}

		t, ok := b.regions[country]
		if !ok || spec.Replace {
			t = &regionBuild{keys: make(map[string]keyOwner)}
			if ok {
				t.version, t.hint = b.regions[country].version, b.regions[country].hint
			}
			b.regions[country] = t
		}
		t.file = b.fileName
		if spec.Version != "" {
			t.version = strings.TrimSpace(spec.Version)
		}
		if spec.Hint != "" {
			t.hint = strings.TrimSpace(spec.Hint)
		}

		codes := slices.Sorted(maps.Keys(spec.Codes))
		for _, rawCode := range codes {
			code := strings.ToUpper(strings.TrimSpace(rawCode))
			if code == "" || utf8.RuneCountInString(code) > maxRegion {
				return b.errorf("regions.%s code %q must have 1 to %d characters to fit SAP's REGION field", country, rawCode, maxRegion)
			}
			t.keys[lookupKey(code)] = keyOwner{code: code, file: b.file, isCode: true, text: code}
		}
		for _, rawCode := range codes {
			code := strings.ToUpper(strings.TrimSpace(rawCode))
			for _, name := range spec.Codes[rawCode] {
				if err := b.claimRegionKey(t, country, code, name); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (b *builder) claimRegionKey(t *regionBuild, country, code, name string) error {
	key := lookupKey(name)
	if key == "" {
		return b.errorf("regions.%s.codes.%s has the name %q, which has no letters or digits", country, code, name)
	}
	prev, ok := t.keys[key]
	switch {
	case !ok || prev.code == code:
	case prev.isCode:
		return b.errorf("regions.%s.codes.%s has the name %q, which is the region code %s", country, code, name, prev.code)
	case prev.file == b.file:
		return b.errorf("regions.%s gives the name %q to both %s and %s", country, name, prev.code, code)
	}
	if !ok || !prev.isCode {
		t.keys[key] = keyOwner{code: code, file: b.file, text: name}
	}
	return nil
}

func (b *builder) addPostalCodes(rules map[string]postalSpec) error {
	for _, raw := range slices.Sorted(maps.Keys(rules)) {
		spec := rules[raw]
		country := strings.ToUpper(strings.TrimSpace(raw))
		if !countryCodePattern.MatchString(country) {
			return b.errorf("postal code rule key %q is not a two-letter ISO 3166-1 alpha-2 code", raw)
		}
		if spec.Separator != "" && (!spec.Compact || spec.SeparatorAt == 0) {
			return b.errorf("postal_codes.%s sets a separator, which needs compact: true and a non-zero separator_at", country)
		}
		if spec.MaxLength < 0 || spec.MaxLength > maxPostalCode {
			return b.errorf("postal_codes.%s.max_length is %d, want 1 to %d (SAP's POSTL_COD1)", country, spec.MaxLength, maxPostalCode)
		}
		if _, err := compilePostalPattern(spec.Pattern); err != nil {
			return b.errorf("postal_codes.%s.pattern %q is not a valid Go regular expression", country, spec.Pattern)
		}
		b.postal[country] = postalBuild{spec: spec, file: b.fileName}
	}
	return nil
}

func compilePostalPattern(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, nil
	}
	return regexp.Compile(`^(?:` + pattern + `)$`)
}

func (b *builder) addOrganization(o organizationSpec) error {
	set := func(dst *string, v string) {
		if v = strings.ToUpper(strings.TrimSpace(v)); v != "" {
			*dst = v
		}
	}
	set(&b.org.CompanyCode, o.CompanyCode)
	set(&b.org.SalesOrg, o.SalesOrg)
	set(&b.org.DistributionChannel, o.DistributionChannel)
	set(&b.org.Division, o.Division)
	if o.ReferenceCustomer != "" {
		b.org.ReferenceCustomer = sap.NormalizeCustomerNo(o.ReferenceCustomer)
	}

	for _, r := range o.ReferenceCustomers {
		area := salesArea{
			salesOrg:            strings.ToUpper(strings.TrimSpace(r.SalesOrg)),
			distributionChannel: strings.ToUpper(strings.TrimSpace(r.DistributionChannel)),
			division:            strings.ToUpper(strings.TrimSpace(r.Division)),
		}
		customer := sap.NormalizeCustomerNo(r.Customer)
		if area.salesOrg == "" || area.distributionChannel == "" || area.division == "" || customer == "" {
			return b.errorf("organization.reference_customers entry (sales_org %q, distribution_channel %q, division %q, customer %q) needs all four values",
				r.SalesOrg, r.DistributionChannel, r.Division, r.Customer)
		}
		if prev, ok := b.refs[area]; ok && prev.file == b.file && prev.customer != customer {
			return b.errorf("organization.reference_customers gives sales area %s both customer %s and %s", area, prev.customer, customer)
		}
		b.refs[area] = refOwner{customer: customer, file: b.file}
	}

	if len(o.Allowed) > 0 {
		b.pack.org.allowed = nil
		for _, a := range o.Allowed {
			pair := orgPair{
				companyCode: strings.ToUpper(strings.TrimSpace(a.CompanyCode)),
				salesOrg:    strings.ToUpper(strings.TrimSpace(a.SalesOrg)),
			}
			if pair.companyCode == "" || pair.salesOrg == "" {
				return b.errorf("organization.allowed entry (company_code %q, sales_org %q) needs both values", a.CompanyCode, a.SalesOrg)
			}
			b.pack.org.allowed = append(b.pack.org.allowed, pair)
		}
	}
	return nil
}

// build checks the merged files as a whole and compiles the Pack.
func (b *builder) build() (*Pack, error) {
	p := b.pack
	fail := func(format string, args ...any) (*Pack, error) {
		return nil, fmt.Errorf("building mapping pack: %s: %w", fmt.Sprintf(format, args...), ErrInvalidPack)
	}

	if p.defaultLanguage == "" {
		return fail("default_language is not set")
	}
	if len(p.languages) > 0 && !p.languages[p.defaultLanguage] {
		return fail("default_language %q is missing from languages: add it there or choose another", p.defaultLanguage)
	}

	p.countries = make(map[string]*countryInfo, len(b.countries))
	for code, spec := range b.countries {
		if spec.Language != "" && len(p.languages) > 0 && !p.languages[spec.Language] {
			return fail("countries.%s.language %q is missing from languages: add it there or choose another", code, spec.Language)
		}
		if spec.Region == "required" && b.regions[code] == nil {
			return fail("countries.%s.region is required, but regions has no table for %s: add one or make the region optional", code, code)
		}
		p.countries[code] = &countryInfo{
			code:           code,
			name:           spec.Name,
			language:       spec.Language,
			currency:       spec.Currency,
			regionRequired: spec.Region == "required",
			postalRequired: spec.PostalCode == "required",
		}
	}

	p.countryKeys = make(map[string]string, len(b.keys))
	for key, owner := range b.keys {
		p.countryKeys[key] = owner.code
	}

	p.regions = make(map[string]*regionTable, len(b.regions))
	for country, t := range b.regions {
		if p.countries[country] == nil {
			return fail("regions in %s has a table for %s, which is not in countries", t.file, country)
		}
		table := &regionTable{version: t.version, hint: t.hint, keys: make(map[string]string, len(t.keys))}
		for key, owner := range t.keys {
			table.keys[key] = owner.code
		}
		p.regions[country] = table
	}

	p.postalRules = make(map[string]*postalRule, len(b.postal))
	for country, pb := range b.postal {
		if p.countries[country] == nil {
			return fail("postal_codes in %s has a rule for %s, which is not in countries", pb.file, country)
		}
		p.postalRules[country] = compilePostalRule(pb.spec)
	}

	if err := b.buildOrganization(); err != nil {
		return nil, err
	}
	return p, nil
}

func compilePostalRule(spec postalSpec) *postalRule {
	// The pattern compiled once already in addPostalCodes.
	pattern, _ := compilePostalPattern(spec.Pattern)
	maxLength := spec.MaxLength
	if maxLength == 0 {
		maxLength = maxPostalCode
	}
	return &postalRule{
		pattern:     pattern,
		format:      strings.TrimSpace(spec.Format),
		example:     strings.TrimSpace(spec.Example),
		upper:       spec.Upper,
		compact:     spec.Compact,
		separator:   spec.Separator,
		separatorAt: spec.SeparatorAt,
		maxLength:   maxLength,
	}
}

func (b *builder) buildOrganization() error {
	o := &b.pack.org
	o.companyCode = b.org.CompanyCode
	o.salesOrg = b.org.SalesOrg
	o.distributionChannel = b.org.DistributionChannel
	o.division = b.org.Division
	o.referenceCustomer = b.org.ReferenceCustomer
	o.referenceCustomers = make(map[salesArea]string, len(b.refs))
	for area, r := range b.refs {
		o.referenceCustomers[area] = r.customer
	}

	checks := []struct {
		name  string
		value string
		max   int
	}{
		{"company_code", o.companyCode, maxCompanyCode},
		{"sales_org", o.salesOrg, maxSalesOrg},
		{"distribution_channel", o.distributionChannel, maxDistributionChannel},
		{"division", o.division, maxDivision},
		{"reference_customer", o.referenceCustomer, maxCustomerNo},
	}
	for _, c := range checks {
		if utf8.RuneCountInString(c.value) > c.max {
			return fmt.Errorf("building mapping pack: organization.%s %q is longer than the %d characters SAP allows: %w", c.name, c.value, c.max, ErrInvalidPack)
		}
	}
	for area, customer := range o.referenceCustomers {
		if len(area.salesOrg) > maxSalesOrg || len(area.distributionChannel) > maxDistributionChannel ||
			len(area.division) > maxDivision || len(customer) > maxCustomerNo {
			return fmt.Errorf("building mapping pack: organization.reference_customers entry %s -> %s does not fit SAP's field lengths (4/2/2 and 10): %w", area, customer, ErrInvalidPack)
		}
	}
	if o.companyCode != "" && o.salesOrg != "" && !o.pairAllowed(o.companyCode, o.salesOrg) {
		return fmt.Errorf("building mapping pack: the default company_code %s and sales_org %s are not in organization.allowed: add the pair or change the defaults: %w", o.companyCode, o.salesOrg, ErrInvalidPack)
	}
	return nil
}

func (o *orgDefaults) pairAllowed(companyCode, salesOrg string) bool {
	if len(o.allowed) == 0 {
		return true
	}
	return slices.Contains(o.allowed, orgPair{companyCode: companyCode, salesOrg: salesOrg})
}
