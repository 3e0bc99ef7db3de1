package sap

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSnippet(t *testing.T) {
	t.Parallel()
	if got := Snippet(nil); got != "(empty body)" {
		t.Errorf("Snippet(nil) = %q, want (empty body)", got)
	}
	if got := Snippet([]byte("  a\n\tb  ")); got != "a b" {
		t.Errorf("Snippet with white space = %q, want %q", got, "a b")
	}
	long := Snippet([]byte(strings.Repeat("ü", 300)))
	if !utf8.ValidString(long) || !strings.HasSuffix(long, "...") || len(long) > 203 {
		t.Errorf("Snippet of 600 bytes = %d bytes, valid UTF-8 %v; want at most 200 bytes plus ...", len(long), utf8.ValidString(long))
	}
}

func TestReadErrorMakesUnknownTransient(t *testing.T) {
	t.Parallel()
	unknown := &Error{Kind: Unknown, Op: "create", Err: errors.New("timed out")}
	if k := KindOf(ReadError("find", unknown)); k != Transient {
		t.Errorf("KindOf(ReadError(unknown)) = %v, want transient", k)
	}
	permanent := &Error{Kind: Permanent, Op: "find"}
	if k := KindOf(ReadError("find", permanent)); k != Permanent {
		t.Errorf("KindOf(ReadError(permanent)) = %v, want permanent", k)
	}
}
