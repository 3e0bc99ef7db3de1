package mapping

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// SAP's customer master keeps the name in NAME1..NAME4 of KNA1, each
// CHAR35.
const (
	nameLineMax = 35
	nameLines   = 4
)

// collapseSpace trims s and replaces every run of white space, line breaks
// included, by one space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// splitName splits a company name into lines of at most nameLineMax
// characters, breaking between words. A word longer than a line is cut
// where the line ends and continues on the next line. Characters are
// counted as Unicode code points after NFC composition, so "ü" typed as
// "u" plus a combining mark counts once. The result may have more than
// nameLines lines; the caller decides what to do then.
//
// NOTE: a Unicode SAP system counts UTF-16 code units, so a character
// outside the Basic Multilingual Plane (most emoji, rare CJK ideographs)
// takes two of the 35 places in SAP but one here.
func splitName(name string) []string {
	var lines []string
	var line strings.Builder
	lineLen := 0

	flush := func() {
		if lineLen > 0 {
			lines = append(lines, line.String())
			line.Reset()
			lineLen = 0
		}
	}

	for _, word := range strings.Fields(norm.NFC.String(name)) {
		wordLen := utf8.RuneCountInString(word)
		if lineLen > 0 && lineLen+1+wordLen > nameLineMax {
			flush()
		}
		if lineLen > 0 {
			line.WriteByte(' ')
			lineLen++
		}
		for wordLen > nameLineMax-lineLen {
			// The word does not fit even on an empty line: cut it hard.
			room := nameLineMax - lineLen
			cut := byteOffset(word, room)
			line.WriteString(word[:cut])
			lineLen += room
			flush()
			word = word[cut:]
			wordLen -= room
		}
		line.WriteString(word)
		lineLen += wordLen
	}
	flush()
	return lines
}

// byteOffset returns the byte index of the rune at position n of s.
func byteOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}
