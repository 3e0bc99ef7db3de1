package mapping

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"sync"
)

//go:embed defaults/*.yaml
var defaultFiles embed.FS

// Pack is a compiled mapping pack: the tables and defaults that turn an
// Account into an SAP customer. A Pack never changes after Load returns
// it, so one Pack may be used from many goroutines.
type Pack struct {
	defaultLanguage string
	languages       map[string]bool
	countries       map[string]*countryInfo
	// countryKeys maps the lookup key of every code, alpha-3 code and alias
	// to an ISO 3166-1 alpha-2 code.
	countryKeys map[string]string
	regions     map[string]*regionTable
	postalRules map[string]*postalRule
	org         orgDefaults
}

type countryInfo struct {
	code           string
	name           string
	language       string
	currency       string
	regionRequired bool
	postalRequired bool
}

type regionTable struct {
	version string
	hint    string
	// keys maps the lookup key of every region code and name to the code.
	keys map[string]string
}

type postalRule struct {
	pattern     *regexp.Regexp
	format      string
	example     string
	upper       bool
	compact     bool
	separator   string
	separatorAt int
	maxLength   int
}

type orgDefaults struct {
	companyCode         string
	salesOrg            string
	distributionChannel string
	division            string
	referenceCustomer   string
	referenceCustomers  map[salesArea]string
	// allowed lists the permitted (company code, sales org) pairs. Empty
	// means every pair is permitted.
	allowed []orgPair
}

type salesArea struct {
	salesOrg, distributionChannel, division string
}

func (s salesArea) String() string {
	return s.salesOrg + "/" + s.distributionChannel + "/" + s.division
}

type orgPair struct {
	companyCode, salesOrg string
}

var defaultPack = sync.OnceValues(func() (*Pack, error) {
	return load(nil)
})

// Default returns the built-in pack from the embedded defaults directory.
// It panics if the embedded files are broken, which the package tests rule
// out.
func Default() *Pack {
	p, err := defaultPack()
	if err != nil {
		panic(fmt.Sprintf("mapping: built-in pack is broken: %v", err))
	}
	return p
}

// Load returns the built-in pack with the YAML files at paths merged over
// it, in order, so a later file overrides an earlier one. Without paths it
// returns [Default]. Errors about file content wrap [ErrInvalidPack].
//
// Merging works per entry. Each country field set in a later file replaces
// the earlier value, and aliases are added. A postal code rule, an
// organisational default or a reference customer of a sales area replaces
// the earlier one. Region codes and names are added, unless the later
// table sets replace: true, which drops the codes of earlier files. A
// non-empty allowed list replaces the earlier list.
func Load(paths ...string) (*Pack, error) {
	if len(paths) == 0 {
		return defaultPack()
	}
	return load(paths)
}

func load(paths []string) (*Pack, error) {
	b := newBuilder()

	names, err := fs.Glob(defaultFiles, "defaults/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing built-in mapping files: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		data, err := defaultFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading built-in mapping file %s: %w", name, err)
		}
		if err := b.addFile("built-in "+path.Base(name), data); err != nil {
			return nil, err
		}
	}

	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading mapping pack: %w", err)
		}
		if err := b.addFile(p, data); err != nil {
			return nil, err
		}
	}
	return b.build()
}

// CountryName returns the English name of an ISO 3166-1 alpha-2 code, or
// the code itself when the pack does not know it.
func (p *Pack) CountryName(code string) string {
	if c, ok := p.countries[code]; ok && c.name != "" {
		return c.name
	}
	return code
}

// RegionTableVersion returns the version label of the region table for an
// ISO 3166-1 alpha-2 code, and "" when the country has no table.
func (p *Pack) RegionTableVersion(code string) string {
	if t, ok := p.regions[code]; ok {
		return t.version
	}
	return ""
}
