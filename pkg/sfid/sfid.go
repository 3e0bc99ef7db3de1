// Package sfid validates and normalises Salesforce record ids.
//
// Salesforce ids come in a case-sensitive 15-character form and an
// 18-character form whose last three characters encode the case of the
// first fifteen. sfsap keys every message, subject and ledger entry on the
// 18-character form.
package sfid

import (
	"fmt"
	"strings"
)

// EmptyID is the id Salesforce puts in recordIds of an overflow event,
// where no real record is meant.
const EmptyID = "000000000000000AAA"

const checksumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

// To18 returns the 18-character form of a 15- or 18-character id. An
// 18-character id is returned with its checksum recomputed from the first
// fifteen characters, so differently cased suffixes compare equal.
func To18(id string) (string, error) {
	if err := checkChars(id); err != nil {
		return "", err
	}
	switch len(id) {
	case 15:
		return id + checksum(id), nil
	case 18:
		return id[:15] + checksum(id[:15]), nil
	default:
		return "", fmt.Errorf("invalid Salesforce id %q: length %d, want 15 or 18 characters", id, len(id))
	}
}

// Valid reports whether id is a well-formed 18-character id whose checksum
// matches its first fifteen characters (compared case-insensitively, as
// Salesforce does).
func Valid(id string) bool {
	if len(id) != 18 || checkChars(id) != nil {
		return false
	}
	return strings.EqualFold(id[15:], checksum(id[:15]))
}

// Equal reports whether two ids name the same record. Ids of either length
// are accepted; ids that are not well formed are never equal.
func Equal(a, b string) bool {
	a18, errA := To18(a)
	b18, errB := To18(b)
	return errA == nil && errB == nil && a18 == b18
}

func checksum(id15 string) string {
	var out [3]byte
	for chunk := range 3 {
		bits := 0
		for i := range 5 {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		out[chunk] = checksumAlphabet[bits]
	}
	return string(out[:])
}

func checkChars(id string) error {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("invalid Salesforce id %q: character %q at position %d is not a letter or digit", id, c, i)
		}
	}
	return nil
}
