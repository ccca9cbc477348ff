// Package formula is the deterministic part of compatibility: a documented score of two people from
// their PUBLIC shades alone (shared topics and facets weighted by confidence, complementary traits,
// similar wording), with reasons that name the shades, and the normalised terms that the candidate
// index uses. It needs no model and no network, and it scores pairs without allocating.
package formula

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terms returns the normalised terms of a text, in order, repeats kept: the text is lower-cased and
// split on everything that is not a letter or a digit; runs of Han characters become overlapping
// character pairs (the usual way to index Chinese without a dictionary); stop words, single letters
// and bare numbers are dropped; every other word is stemmed (see Stem).
func Terms(text string) []string {
	var out []string
	eachTerm(text, func(t, _ string) { out = append(out, t) })
	return out
}

// eachTerm calls f with each normalised term of text, as Terms describes, and the word it came from.
func eachTerm(text string, f func(term, raw string)) {
	i := 0
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.Is(unicode.Han, r):
			j := i
			for j < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[j:])
				if !unicode.Is(unicode.Han, r2) {
					break
				}
				j += s2
			}
			hanPairs(text[i:j], f)
			i = j
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			j := i
			for j < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[j:])
				if !(unicode.IsLetter(r2) || unicode.IsDigit(r2)) || unicode.Is(unicode.Han, r2) {
					break
				}
				j += s2
			}
			if w := word(text[i:j]); w != "" {
				f(w, text[i:j])
			}
			i = j
		default:
			i += size
		}
	}
}

// hanPairs emits the overlapping character pairs of a run of Han characters (the character itself
// when the run is one character long).
func hanPairs(run string, f func(term, raw string)) {
	if utf8.RuneCountInString(run) == 1 {
		f(run, run)
		return
	}
	for i := 0; i < len(run); {
		_, s1 := utf8.DecodeRuneInString(run[i:])
		if i+s1 >= len(run) {
			break
		}
		_, s2 := utf8.DecodeRuneInString(run[i+s1:])
		f(run[i:i+s1+s2], run[i:i+s1+s2])
		i += s1
	}
}

// word normalises one alphanumeric word: lower case, stop words and bare numbers dropped, stemmed.
func word(w string) string {
	w = strings.ToLower(w)
	if utf8.RuneCountInString(w) < 2 || stopWords[w] || isNumber(w) {
		return ""
	}
	return Stem(w)
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
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

// stopWords are common English words that say nothing about a person.
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
