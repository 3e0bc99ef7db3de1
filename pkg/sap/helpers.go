package sap

import (
	"strings"
	"unicode/utf8"
)

// ReadError turns an Unknown error into a Transient one, for calls that
// change nothing in SAP, such as lookups: an unknown outcome there is just
// a failure to retry.
func ReadError(op string, err error) error {
	if KindOf(err) == Unknown {
		return &Error{Kind: Transient, Op: op, Err: err}
	}
	return err
}

// Snippet returns the first 200 bytes of a response body, with runs of
// white space collapsed, for an error message.
func Snippet(body []byte) string {
	const limit = 200
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > limit {
		s = s[:limit]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}
