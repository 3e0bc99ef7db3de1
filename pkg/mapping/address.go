package mapping

import (
	"strings"
	"unicode"
)

// pastedAddress is the result of splitStreet: the parts of a BillingStreet
// that contains a whole address. Fields are "" when the text lacks them.
type pastedAddress struct {
	// street is the street lines joined by ", ".
	street     string
	city       string
	state      string
	postalCode string
	// country is an ISO 3166-1 alpha-2 code.
	country string
	// localityLine and countryLine are the source lines, for the record of
	// derived values.
	localityLine string
	countryLine  string
}

// splitStreet takes apart a BillingStreet into which someone pasted a whole
// address, as in
//
//	345 Shoreline Park
//	Mountain View, CA 94043
//	USA
//
// From the end it takes a line that is only a country, then a locality line
// of the forms "City, ST 12345", "City ST 12345", "City, State" (state in
// the region table), "12345 City" or "City, County AB1 2CD", optionally
// ending in ", Country". What is left are the street lines. A single line is
// always street only. country is the Account's own country code, or "" if
// it has none. Its postal code rule decides whether a line is a locality
// line. Without it, the rule of a country found in the text applies.
//
// A line counts as a locality line only when its postal code satisfies the
// country's postal rule. For countries without a rule, the code must be all
// digits, and a line with the code at its end must also have a comma before
// it. A candidate city must contain no digits and must not look like a
// street name. These checks keep lines such as "Suite 200" or "12345 Main
// Street" in the street.
func (p *Pack) splitStreet(raw, country string) pastedAddress {
	lines := streetLines(raw)
	var out pastedAddress

	if len(lines) >= 2 {
		last := lines[len(lines)-1]
		if code, ok := p.Country(last); ok {
			out.country = code
			out.countryLine = last
			lines = lines[:len(lines)-1]
		}
	}

	if len(lines) >= 2 {
		line := lines[len(lines)-1]
		rulesCountry := country
		if rulesCountry == "" {
			rulesCountry = out.country
		}

		city, state, postal, ok := p.parseLocality(line, rulesCountry)
		if !ok {
			// "Chicago, IL 60601, USA" carries the country after a last
			// comma. The whole line goes first, so that "Mountain View, CA"
			// stays California rather than Canada.
			if i := strings.LastIndex(line, ","); i > 0 {
				if code, found := p.Country(line[i+1:]); found {
					if rulesCountry == "" {
						rulesCountry = code
					}
					city, state, postal, ok = p.parseLocality(strings.TrimSpace(line[:i]), rulesCountry)
					if ok && out.country == "" {
						out.country = code
						out.countryLine = line
					}
				}
			}
		}
		if ok {
			out.city, out.state, out.postalCode = city, state, postal
			out.localityLine = line
			lines = lines[:len(lines)-1]
		}
	}

	out.street = strings.Join(lines, ", ")
	return out
}

// streetLines splits raw at line breaks and returns the non-empty lines
// with white space collapsed and trailing commas removed.
func streetLines(raw string) []string {
	raw = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(raw)
	var lines []string
	for _, l := range strings.Split(raw, "\n") {
		l = strings.TrimRight(collapseSpace(l), ", ")
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// parseLocality reads a locality line such as "Austin, TX 78767" or
// "80331 München" as city, state and postal code.
func (p *Pack) parseLocality(line, country string) (city, state, postal string, ok bool) {
	tokens := strings.Fields(line)
	if len(tokens) < 2 {
		return "", "", "", false
	}
	hasPattern := p.postalRule(country).pattern != nil

	// City first: the postal code is the last one or two tokens.
	if hasDigit(tokens[len(tokens)-1]) {
		for n := min(2, len(tokens)-1); n >= 1; n-- {
			candidate := strings.Join(tokens[len(tokens)-n:], " ")
			before := strings.TrimRight(strings.Join(tokens[:len(tokens)-n], " "), ", ")
			if !p.looksLikePostalCode(country, candidate) {
				continue
			}
			if !hasPattern && !strings.Contains(before, ",") {
				continue
			}
			city, state := p.splitCityState(country, before)
			if isCityName(city) {
				return city, state, candidate, true
			}
		}
		return "", "", "", false
	}

	// Postal code first: the postal code is the first one or two tokens.
	if hasDigit(tokens[0]) {
		for n := min(2, len(tokens)-1); n >= 1; n-- {
			candidate := strings.Join(tokens[:n], " ")
			rest := strings.Trim(strings.Join(tokens[n:], " "), ", ")
			if p.looksLikePostalCode(country, candidate) && isCityName(rest) {
				return rest, "", candidate, true
			}
		}
		return "", "", "", false
	}

	// No postal code: "Mountain View, CA" counts only when the part after
	// the comma is a region of the country.
	if i := strings.LastIndex(line, ","); i > 0 {
		city := strings.TrimSpace(line[:i])
		state := strings.TrimSpace(line[i+1:])
		if _, err := p.region(country, FieldBillingState, state); err == nil && state != "" && isCityName(city) {
			return city, state, "", true
		}
	}
	return "", "", "", false
}

// splitCityState splits "Mountain View, CA" at the last comma. Without a
// comma it looks for a region name in the last words, as in "Tucson AZ" or
// "Salt Lake City Utah", and otherwise returns before as the city.
func (p *Pack) splitCityState(country, before string) (city, state string) {
	if i := strings.LastIndex(before, ","); i >= 0 {
		return strings.TrimSpace(before[:i]), strings.TrimSpace(before[i+1:])
	}
	table := p.regions[country]
	words := strings.Fields(before)
	if table == nil || len(words) < 2 {
		return before, ""
	}
	for n := min(3, len(words)-1); n >= 1; n-- {
		candidate := strings.Join(words[len(words)-n:], " ")
		if _, ok := table.keys[lookupKey(candidate)]; ok {
			return strings.Join(words[:len(words)-n], " "), candidate
		}
	}
	return before, ""
}

func hasDigit(s string) bool {
	return strings.ContainsFunc(s, unicode.IsDigit)
}

// isCityName reports whether s can be a city taken from a pasted address:
// some letters, no digits, and not a street name.
func isCityName(s string) bool {
	if s == "" || hasDigit(s) || !strings.ContainsFunc(s, unicode.IsLetter) {
		return false
	}
	return !looksLikeStreet(s)
}

// Words that mark a street rather than a city: English designators at the
// end ("Main Street"), Romance ones at the start ("Rue de la Paix"), and
// German compounds ending in a designator ("Leopoldstr.").
var (
	streetLastWords = map[string]bool{
		"street": true, "st": true, "avenue": true, "ave": true, "road": true, "rd": true,
		"lane": true, "ln": true, "drive": true, "dr": true, "boulevard": true, "blvd": true,
		"way": true, "place": true, "pl": true, "court": true, "ct": true, "square": true,
		"sq": true, "highway": true, "hwy": true, "parkway": true, "pkwy": true,
		"suite": true, "ste": true, "floor": true, "room": true, "building": true, "unit": true,
	}
	streetFirstWords = map[string]bool{
		"rue": true, "via": true, "viale": true, "piazza": true, "calle": true, "avenida": true,
		"plaza": true, "rua": true, "chemin": true, "route": true, "boulevard": true, "avenue": true,
	}
	streetSuffixes = []string{"strasse", "straße", "str", "weg", "gasse", "platz", "allee"}
)

func looksLikeStreet(s string) bool {
	words := strings.Fields(strings.ToLower(s))
	if len(words) == 0 {
		return false
	}
	first := strings.Trim(words[0], ".,")
	last := strings.Trim(words[len(words)-1], ".,")
	if streetLastWords[last] || streetFirstWords[first] {
		return true
	}
	for _, suffix := range streetSuffixes {
		if strings.HasSuffix(last, suffix) {
			return true
		}
	}
	return false
}
