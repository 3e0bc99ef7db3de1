package mapping

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// phoneMax is the length of SAP's TEL1_NUMBR and FAX_NUMBER.
const phoneMax = 30

// normalizePhone returns a phone or fax number with only the characters SAP
// keeps: digits, "+", spaces and hyphens. Brackets, slashes and dots, which
// people use to group digits, become spaces, so "(650) 867-3450" becomes
// "650 867-3450". Typographic dashes become hyphens. The trunk prefix "(0)" in an international number such
// as "+49 (0)89 1234" is dropped, because it is not dialled after the
// country code. It reports false when s contains anything else, such as
// letters from "ext. 12", so that no digit is silently lost.
func normalizePhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "+") {
		s = strings.ReplaceAll(s, "(0)", " ")
	}

	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r == '+', r == '-':
			b.WriteRune(r)
		case strings.ContainsRune("‐‑‒–—−", r):
			// Typographic dashes, as word processors write them.
			b.WriteByte('-')
		case r == '(' || r == ')' || r == '/' || r == '.' || unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			return "", false
		}
	}
	return collapseSpace(b.String()), true
}

// phone checks one phone-like field of an Account.
func phone(field, value string) (string, *Problem) {
	label := fieldLabels[field]
	number, ok := normalizePhone(value)
	if !ok {
		return "", &Problem{
			Field: field,
			Value: value,
			Message: fmt.Sprintf("%s %q contains characters that SAP does not accept: use only digits, spaces, hyphens and a leading +, and put extensions or notes elsewhere",
				label, value),
			Err: ErrInvalidFormat,
		}
	}
	if n := utf8.RuneCountInString(number); n > phoneMax {
		return "", &Problem{
			Field: field,
			Value: value,
			Message: fmt.Sprintf("%s %q has %d characters after formatting but SAP accepts at most %d: shorten the number",
				label, value, n, phoneMax),
			Err: ErrTooLong,
		}
	}
	return number, nil
}
