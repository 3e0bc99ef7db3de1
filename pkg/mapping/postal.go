package mapping

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// genericPostalRule applies to countries without a rule of their own: any
// text up to the length of SAP's POSTL_COD1.
var genericPostalRule = &postalRule{maxLength: maxPostalCode}

// normalize returns the postal code in the form the rule's pattern expects:
// white space collapsed, upper-cased if the rule sets upper, and for compact
// rules spaces and hyphens removed and the rule's separator put back at its
// place. "sw1a1aa" becomes "SW1A 1AA" under the GB rule, and "021381234"
// becomes "02138-1234" under the US rule.
func (r *postalRule) normalize(s string) string {
	s = collapseSpace(s)
	if r.upper {
		s = strings.ToUpper(s)
	}
	if !r.compact {
		return s
	}

	s = strings.NewReplacer(" ", "", "-", "").Replace(s)
	if r.separator == "" {
		return s
	}
	n := utf8.RuneCountInString(s)
	at := r.separatorAt
	if at < 0 {
		at = n + at
	}
	if at <= 0 || at >= n {
		return s
	}
	i := byteOffset(s, at)
	return s[:i] + r.separator + s[i:]
}

// valid reports whether a normalised postal code fits the rule.
func (r *postalRule) valid(s string) bool {
	if utf8.RuneCountInString(s) > r.maxLength {
		return false
	}
	return r.pattern == nil || r.pattern.MatchString(s)
}

func (p *Pack) postalRule(country string) *postalRule {
	if r, ok := p.postalRules[country]; ok {
		return r
	}
	return genericPostalRule
}

// postalCode normalises and checks the postal code of an Account in an
// already resolved country. country may be "" when the country is
// unknown, and then only the length is checked.
func (p *Pack) postalCode(country, value string) (string, *Problem) {
	label := fieldLabels[FieldBillingPostalCode]
	rule := p.postalRule(country)
	code := rule.normalize(value)

	if code == "" {
		if info := p.countries[country]; info != nil && info.postalRequired {
			msg := fmt.Sprintf("%s is empty but SAP needs a postal code for %s: enter one", label, p.countryLabel(country))
			if rule.example != "" {
				msg += " such as " + rule.example
			}
			return "", &Problem{Field: FieldBillingPostalCode, Message: msg, Err: ErrMissing}
		}
		return "", nil
	}

	if rule.valid(code) {
		return code, nil
	}
	if rule.pattern == nil {
		return "", &Problem{
			Field: FieldBillingPostalCode,
			Value: value,
			Message: fmt.Sprintf("%s %q has %d characters but SAP accepts at most %d: correct the postal code",
				label, collapseSpace(value), utf8.RuneCountInString(code), rule.maxLength),
			Err: ErrTooLong,
		}
	}

	msg := fmt.Sprintf("%s %q is not a valid postal code for %s", label, collapseSpace(value), p.countryLabel(country))
	switch {
	case rule.format != "" && rule.example != "":
		msg += fmt.Sprintf(": use %s, such as %s", rule.format, rule.example)
	case rule.format != "":
		msg += ": use " + rule.format
	case rule.example != "":
		msg += ": use the form of " + rule.example
	}
	return "", &Problem{Field: FieldBillingPostalCode, Value: value, Message: msg, Err: ErrInvalidFormat}
}

// looksLikePostalCode reports whether s, a piece of a pasted address line,
// can be the postal code of country. With a pattern for the country the
// pattern decides. Without one, s must consist of digits and at most one
// hyphen with at least three digits, which is strict on purpose so that
// "Suite 200" is not taken for a postal code and a city.
func (p *Pack) looksLikePostalCode(country, s string) bool {
	rule := p.postalRule(country)
	if rule.pattern != nil {
		return rule.valid(rule.normalize(s))
	}
	digits, hyphens := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '-':
			hyphens++
		default:
			return false
		}
	}
	return digits >= 3 && hyphens <= 1 && len(s) <= maxPostalCode
}
