package compat_test

import (
	"testing"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/compat"
)

// FuzzParseVerdict feeds model answers to the verdict parser: it never panics, and whatever it
// accepts is a score within 0-100 with bounded, clean lists.
func FuzzParseVerdict(f *testing.F) {
	f.Add(`{"score": 70, "reasoning": "r", "highlights": ["a", "A"], "challenges": []}`)
	f.Add("```json\n{\"score\": 1e2}\n```")
	f.Add(`{"score": -0}`)
	f.Add(`}{`)
	f.Fuzz(func(t *testing.T, text string) {
		v, err := compat.ParseVerdict(text)
		if err != nil {
			return
		}
		if v.Score < 0 || v.Score > 100 {
			t.Fatalf("score %v accepted", v.Score)
		}
		for _, l := range [][]string{v.Highlights, v.Challenges} {
			if len(l) > 6 {
				t.Fatalf("%d items kept", len(l))
			}
			for _, s := range l {
				if s == "" || len(s) > 200 {
					t.Fatalf("item %q kept", s)
				}
			}
		}
		if utf8.ValidString(text) && !utf8.ValidString(v.Reasoning) {
			t.Fatalf("reasoning %q is not valid UTF-8", v.Reasoning)
		}
	})
}
