package text

import "testing"

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		kind Kind
		want string
	}{
		{"plain body", "hello there", Body, ""},
		{"body with newline and tab", "one\n\ttwo", Body, ""},
		{"empty body", "", Body, ""},
		{"empty name", "", Name, ""},
		{"body with NUL", "before\x00after", Body, Controls},
		{"body with ESC", "\x1b[31mred", Body, Controls},
		{"body with a C1 control", "a\u0085b", Body, Controls},
		{"body with DEL", "a\x7fb", Body, Controls},
		{"body with a carriage return", "a\r\nb", Body, Controls},
		{"body with an override", "quoted \u202eotouq", Body, ""},
		{"body of a zero-width space", "\u200b", Body, ""},
		{"invalid UTF-8", "a\xffb", Body, NotUTF8},
		{"name", "Ana María", Name, ""},
		{"name in Arabic", "سارة", Name, ""},
		{"name with an emoji sequence", "👩\u200d💻", Name, ""},
		{"name of a symbol", "★", Name, ""},
		{"name with a newline", "a\nb", Name, Controls},
		{"name with a tab", "a\tb", Name, Controls},
		{"name of a zero-width space", "\u200b", Name, NothingToShow},
		{"name of spaces and joiners", " \u200d\u2060\ufeff ", Name, NothingToShow},
		{"name of a Hangul filler", "\u3164\u3164", Name, NothingToShow},
		{"name of a blank braille pattern", "\u2800", Name, NothingToShow},
		{"name of a combining mark", "\u0301", Name, NothingToShow},
		{"name with a right-to-left override", "abc\u202edcba", Name, Bidi},
		{"name with an embedding", "\u202ba", Name, Bidi},
		{"name with a pop", "a\u202c", Name, Bidi},
		{"name with an isolate", "\u2066a\u2069", Name, Bidi},
		{"name with a first-strong isolate", "a\u2068b", Name, Bidi},
		{"name with a right-to-left mark", "a\u200fb", Name, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Check(tt.s, tt.kind); got != tt.want {
				t.Errorf("Check(%q, %v) = %q, want %q", tt.s, tt.kind, got, tt.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		kind Kind
		want string
	}{
		{"body keeps newlines and tabs", "one\n\ttwo", Body, "one\n\ttwo"},
		{"body loses controls", "a\x00b\x1b[1m\r\u0085c", Body, "ab[1mc"},
		{"body keeps an override", "a\u202eb", Body, "a\u202eb"},
		{"body loses invalid UTF-8", "a\xffb", Body, "ab"},
		{"name: newlines and tabs become spaces", "a\nb\tc\rd", Name, "a b c d"},
		{"name loses overrides and isolates", "abc\u202edcba\u2066x\u2069", Name, "abcdcbax"},
		{"name of nothing visible", "\u200b \u3164", Name, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clean(tt.s, tt.kind)
			if got != tt.want {
				t.Errorf("Clean(%q, %v) = %q, want %q", tt.s, tt.kind, got, tt.want)
			}
			if why := Check(got, tt.kind); why != "" {
				t.Errorf("Clean(%q, %v) = %q breaks the rule: %s", tt.s, tt.kind, got, why)
			}
		})
	}
}

// FuzzClean checks that whatever Clean returns keeps the rule, and that clean text stays as it is.
func FuzzClean(f *testing.F) {
	f.Add("before\x00after \x1b[31mred \u0085", true)
	f.Add("abc\u202edcba", true)
	f.Add("\u200b", true)
	f.Add("line\nline\ttab", false)
	f.Fuzz(func(t *testing.T, s string, name bool) {
		k := Body
		if name {
			k = Name
		}
		c := Clean(s, k)
		if why := Check(c, k); why != "" {
			t.Fatalf("Clean(%q) = %q breaks the rule: %s", s, c, why)
		}
		if Check(s, k) == "" && Clean(s, k) != s {
			t.Fatalf("Clean changed %q, which keeps the rule, to %q", s, c)
		}
	})
}
