package terms_test

import (
	"slices"
	"testing"

	"github.com/secondme/twin/pkg/terms"
)

func TestTerms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		want       []string
	}{
		{"empty", "", nil},
		{"case, punctuation and stop words", "I love Hiking, and the MOUNTAINS!", []string{"hik", "mountain"}},
		{"word forms meet", "hike hikes hiked hiking", []string{"hik", "hik", "hik", "hik"}},
		{"plurals in -ies", "party parties", []string{"parti", "parti"}},
		{"doubled consonant", "running runner", []string{"run", "runner"}},
		{"numbers and single letters dropped", "a 42 b jazz 3d", []string{"jazz", "3d"}},
		{"han characters in pairs", "我喜欢音乐", []string{"我喜", "喜欢", "欢音", "音乐"}},
		{"one han character", "猫 cats", []string{"猫", "cat"}},
		{"mixed scripts split", "jazz音乐", []string{"jazz", "音乐"}},
		{"invalid utf-8 skipped", "jazz\xff\xfeblues", []string{"jazz", "blu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := terms.Of(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Terms(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestStem(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"cat": "cat", "cats": "cat", "classes": "class", "glass": "glass", "status": "status", "analysis": "analysis",
		"movies": "movi", "movie": "movi", "cooked": "cook", "cooking": "cook", "swimming": "swim", "travel": "travel",
	}
	for in, want := range tests {
		if got := terms.Stem(in); got != want {
			t.Errorf("Stem(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzTerms checks the tokenizer on any text: it never panics and never returns an empty term.
func FuzzTerms(f *testing.F) {
	f.Add("I love Hiking, and the MOUNTAINS!")
	f.Add("我喜欢音乐 jazz\xff")
	f.Fuzz(func(t *testing.T, text string) {
		for _, term := range terms.Of(text) {
			if term == "" {
				t.Fatalf("empty term from %q", text)
			}
		}
	})
}
