package mapping

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// lookupKey returns the form in which country and region names are
// compared: accents dropped, letters upper-cased, and everything that is
// not a letter or digit removed. "U.K.", "uk" and " U K " share the key
// "UK", and "Baden-Württemberg" matches "baden wurttemberg".
func lookupKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining mark left over from decomposing an accented letter.
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// Country returns the ISO 3166-1 alpha-2 code for s, which may be a code,
// an ISO alpha-3 code, or a name or abbreviation listed in the pack. Case,
// accents, spaces and punctuation do not matter. It reports false for an
// empty or unknown s; no country is ever assumed.
func (p *Pack) Country(s string) (string, bool) {
	key := lookupKey(s)
	if key == "" || isPlaceholder(s) {
		return "", false
	}
	code, ok := p.countryKeys[key]
	return code, ok
}

// countryLabel returns "Germany (DE)" for messages.
func (p *Pack) countryLabel(code string) string {
	name := p.CountryName(code)
	if name == code {
		return code
	}
	return name + " (" + code + ")"
}

// resolveCountry returns the alpha-2 code for value, or a problem naming
// field when value is empty or unknown.
func (p *Pack) resolveCountry(field, value string) (string, *Problem) {
	label := fieldLabels[field]
	value = collapseSpace(value)
	if value == "" {
		return "", &Problem{
			Field:   field,
			Message: label + " is empty: enter a country such as DE or United States, because SAP needs one and sfsap never guesses it",
			Err:     ErrMissing,
		}
	}
	if isPlaceholder(value) {
		return "", &Problem{
			Field:   field,
			Value:   value,
			Message: fmt.Sprintf("%s %q is a placeholder, not a country: enter the real country, because sfsap never guesses one", label, value),
			Err:     ErrMissing,
		}
	}
	code, ok := p.Country(value)
	if !ok {
		return "", &Problem{
			Field:   field,
			Value:   value,
			Message: fmt.Sprintf("%s %q is not a known country: enter a country name or ISO code such as DE or United States", label, value),
			Err:     ErrUnknownCountry,
		}
	}
	return code, nil
}

// placeholders are the values people type when they do not know one. Some
// would otherwise read as country codes once punctuation is dropped, such
// as "N/A" as NA (Namibia). The bare code "NA" is still Namibia.
var placeholders = []string{"n/a", "n.a.", "n.a", "na.", "n/v", "none", "unknown", "tbd", "tba", "null", "nil", "-", "--", "?", "x", "xx", "xxx"}

// isPlaceholder reports whether value is a placeholder rather than data.
func isPlaceholder(value string) bool {
	return slices.Contains(placeholders, strings.ToLower(strings.TrimSpace(value)))
}
