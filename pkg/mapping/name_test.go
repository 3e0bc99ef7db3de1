package mapping

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestSplitName(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"short", "GenePoint", []string{"GenePoint"}},
		{"whitespace collapsed", "  Edge \t Communications\n Inc. ", []string{"Edge Communications Inc."}},
		{"empty", "   ", nil},
		{
			"break between words",
			"Burlington Textiles Corp of America International Holdings",
			[]string{"Burlington Textiles Corp of America", "International Holdings"},
		},
		{
			// 35 characters exactly stays on one line.
			"exactly one line",
			"Abcdefghij Abcdefghij Abcdefghij Ab",
			[]string{"Abcdefghij Abcdefghij Abcdefghij Ab"},
		},
		{
			// Umlauts are one character each, though two bytes in UTF-8:
			// these 35 characters are 41 bytes.
			"umlauts counted in characters",
			"Müller Bäckerei Öko Süßwaren Grünau",
			[]string{"Müller Bäckerei Öko Süßwaren Grünau"},
		},
		{
			"umlauts over 35 characters",
			"Müller Bäckerei Öko Süßwaren Grünauer",
			[]string{"Müller Bäckerei Öko Süßwaren", "Grünauer"},
		},
		{
			"umlauts break at 35 characters",
			"Überlandwerk Südwürttemberg Großhändler für Kühlgeräte",
			[]string{"Überlandwerk Südwürttemberg", "Großhändler für Kühlgeräte"},
		},
		{
			// A decomposed "ü" (u and a combining mark) is composed first.
			"decomposed umlaut composed",
			"Mu\u0308ller",
			[]string{"Müller"},
		},
		{
			// 38 Japanese characters without spaces: 114 bytes, cut at 35.
			"japanese cut at 35 characters",
			"株式会社日本電気通信システムインテグレーション東京本社営業部第一課第二係担当",
			[]string{"株式会社日本電気通信システムインテグレーション東京本社営業部第一課第二", "係担当"},
		},
		{
			"japanese words with spaces",
			"トヨタ自動車株式会社 東京本社",
			[]string{"トヨタ自動車株式会社 東京本社"},
		},
		{
			"long word cut hard",
			"Donaudampfschifffahrtselektrizitaetenhauptbetriebswerk GmbH",
			[]string{"Donaudampfschifffahrtselektrizitaet", "enhauptbetriebswerk GmbH"},
		},
		{
			"long word after short word",
			"The Donaudampfschifffahrtselektrizitaetenhauptbetriebswerkbauunterbeamtengesellschaft",
			[]string{"The", "Donaudampfschifffahrtselektrizitaet", "enhauptbetriebswerkbauunterbeamteng", "esellschaft"},
		},
		{
			"four full lines",
			strings.Repeat("Abcdefghijklmnopqrstuvwxyz12345678 ", 4),
			[]string{
				"Abcdefghijklmnopqrstuvwxyz12345678",
				"Abcdefghijklmnopqrstuvwxyz12345678",
				"Abcdefghijklmnopqrstuvwxyz12345678",
				"Abcdefghijklmnopqrstuvwxyz12345678",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := splitName(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("splitName(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			for _, line := range got {
				if n := utf8.RuneCountInString(line); n > nameLineMax {
					t.Errorf("splitName(%q) line %q has %d characters, want at most %d", tt.in, line, n, nameLineMax)
				}
			}
		})
	}
}

func TestSplitNameKeepsEveryCharacter(t *testing.T) {
	t.Parallel()

	inputs := []string{
		"Grand Hotels & Resorts Ltd",
		"Überlandwerk Südwürttemberg Großhändler für Kühlgeräte und Klimatechnik",
		"株式会社日本電気通信システムインテグレーション東京本社営業部第一課第二係担当",
		strings.Repeat("x", 140),
	}
	for _, in := range inputs {
		got := strings.ReplaceAll(strings.Join(splitName(in), ""), " ", "")
		want := strings.ReplaceAll(in, " ", "")
		if got != want {
			t.Errorf("splitName(%q) lost characters: joined %q, want %q", in, got, want)
		}
	}
}

func TestSplitNameTooLong(t *testing.T) {
	t.Parallel()

	// 141 characters cannot fit in 4 lines of 35.
	in := strings.Repeat("y", 141)
	if got := splitName(in); len(got) != 5 {
		t.Errorf("splitName(141 characters) = %d lines, want 5", len(got))
	}
}
