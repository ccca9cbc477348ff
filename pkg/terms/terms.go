// Package terms turns text into normalised terms, the shared vocabulary of matching (the candidate
// index and the deterministic score) and of the offline model: the text is split on everything that is
// not a letter or a digit; runs of Han characters become overlapping character pairs (the usual way to
// index Chinese without a dictionary); words are lower-cased and crudely stemmed; stop words, single
// letters and bare numbers are dropped.
package terms

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Of returns the normalised terms of a text, in order, repeats kept.
func Of(text string) []string {
	var out []string
	Each(text, func(t, _ string) { out = append(out, t) })
	return out
}

// Set returns the set of normalised terms of a text.
func Set(text string) map[string]bool {
	set := make(map[string]bool)
	Each(text, func(t, _ string) { set[t] = true })
	return set
}

// Each calls f with each normalised term of text, in order, and the word it came from.
func Each(text string, f func(term, word string)) {
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		han := r >= utf8.RuneSelf && unicode.Is(unicode.Han, r)
		if !han && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			i += size
			continue
		}
		j := i + size
		for j < len(text) {
			r2, s2 := utf8.DecodeRuneInString(text[j:])
			if h := r2 >= utf8.RuneSelf && unicode.Is(unicode.Han, r2); h != han || (!h && !unicode.IsLetter(r2) && !unicode.IsDigit(r2)) {
				break
			}
			j += s2
		}
		if han {
			hanPairs(text[i:j], f)
		} else if t := word(text[i:j]); t != "" {
			f(t, text[i:j])
		}
		i = j
	}
}

// hanPairs emits the overlapping character pairs of a run of Han characters, or the character itself
// when the run is one character long.
func hanPairs(run string, f func(term, word string)) {
	_, first := utf8.DecodeRuneInString(run)
	if first == len(run) {
		f(run, run)
		return
	}
	for i := 0; ; {
		_, s1 := utf8.DecodeRuneInString(run[i:])
		if i+s1 >= len(run) {
			return
		}
		_, s2 := utf8.DecodeRuneInString(run[i+s1:])
		f(run[i:i+s1+s2], run[i:i+s1+s2])
		i += s1
	}
}

// word lower-cases and stems a word; it returns "" for stop words, single letters and numbers.
func word(w string) string {
	w = strings.ToLower(w)
	if utf8.RuneCountInString(w) < 2 || stopWords[w] || strings.TrimFunc(w, unicode.IsDigit) == "" {
		return ""
	}
	return Stem(w)
}

// Stem reduces an English word to a crude stem so that the forms of one word meet: plurals
// ("hikes", "parties"), "-ing" and "-ed" forms (with a doubled final consonant undone), a final "e",
// and a final "y" (which becomes "i"). "hiking", "hikes", "hiked" and "hike" all become "hik";
// "party" and "parties" both become "parti". Words of three letters or fewer are left alone.
func Stem(w string) string {
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "ies"):
		w = w[:len(w)-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	}
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		w = undouble(w[:len(w)-3])
	case len(w) > 4 && strings.HasSuffix(w, "ed"):
		w = undouble(w[:len(w)-2])
	}
	if len(w) > 3 {
		switch w[len(w)-1] {
		case 'e':
			w = w[:len(w)-1]
		case 'y':
			w = w[:len(w)-1] + "i"
		}
	}
	return w
}

// undouble turns a doubled final consonant into one ("runn" -> "run"), except l, s and z.
func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && strings.IndexByte("bdfgkmnprt", w[n-1]) >= 0 {
		return w[:n-1]
	}
	return w
}

// stopWords are common English words that say nothing about a person or what a message is about.
var stopWords = toSet(`a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each even ever every few
for from further get gets got had has have having he her here hers herself him himself his how i if in
into is it its itself just like likes love loves me more most much my myself no nor not now of off often
on once only or other our ours ourselves out over own really same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we
well were what when where which while who whom why will with would you your yours yourself yourselves
enjoy enjoys thing things lot lots way ways always something someone people person`)

func toSet(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
