package offline

import (
	"strings"

	"github.com/secondme/twin/pkg/terms"
)

// chatStopWords are words of conversation that say nothing about what a message is about, on top of
// the stop words of package terms.
var chatStopWords = map[string]bool{
	"don": true, "done": true, "hello": true, "hey": true, "hi": true, "know": true, "ok": true,
	"okay": true, "please": true, "say": true, "tell": true, "thank": true, "thanks": true,
	"think": true, "want": true, "yes": true,
}

// eachTerm calls f with each normalised term of text (terms.Each) and the word it came from, leaving
// out the words of conversation.
func eachTerm(text string, f func(term, word string)) {
	terms.Each(text, func(t, w string) {
		if !chatStopWords[strings.ToLower(w)] {
			f(t, w)
		}
	})
}

// termSet returns the set of normalised terms of text, without the words of conversation.
func termSet(text string) map[string]bool {
	set := make(map[string]bool)
	eachTerm(text, func(t, _ string) { set[t] = true })
	return set
}
