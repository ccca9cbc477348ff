package compat_test

import (
	"errors"
	"strings"
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

// FuzzParseTranscript feeds model answers to the transcript parser: it never panics, and whatever it
// accepts has 2 to n lines, speakers alternating from the first person, each line non-empty, one
// line and at most 600 bytes.
func FuzzParseTranscript(f *testing.F) {
	f.Add(`{"lines": [{"speaker": 1, "text": "Hi"}, {"speaker": 2, "text": "Hello"}]}`, 6)
	f.Add("```json\n{\"lines\": [{\"speaker\": \"1\", \"text\": \"a\\nb\"}, {\"speaker\": 2.0, \"text\": \"c\"}, {\"speaker\": 1, \"text\": \"d\"}]}\n```", 2)
	f.Add(`{"lines": [{"speaker": 2, "text": "x"}, {"speaker": 1, "text": "y"}]}`, 2)
	f.Add(`{"lines": null}`, 0)
	f.Fuzz(func(t *testing.T, text string, n int) {
		n = n%30 + 2
		if n < 2 {
			n = 2
		}
		lines, err := compat.ParseTranscript(text, "A", "B", n)
		if err != nil {
			if !errors.Is(err, compat.ErrBadTranscript) {
				t.Fatalf("err = %v, want ErrBadTranscript", err)
			}
			return
		}
		if len(lines) < 2 || len(lines) > n {
			t.Fatalf("%d lines kept, want 2 to %d", len(lines), n)
		}
		for i, l := range lines {
			if want := []string{"A", "B"}[i%2]; l.Speaker != want {
				t.Fatalf("line %d spoken by %q, want %q", i, l.Speaker, want)
			}
			if l.Text == "" || len(l.Text) > 600 || strings.ContainsAny(l.Text, "\n\r\t") || !utf8.ValidString(l.Text) {
				t.Fatalf("line %d %q kept", i, l.Text)
			}
		}
	})
}
