package llm

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// eachTerm calls f with each normalised term of text and the word it came from: the text is split on
// everything that is not a letter or a digit, runs of Han characters become overlapping character
// pairs, words are lower-cased and crudely stemmed, and stop words, single letters and bare numbers
// are dropped.
func eachTerm(text string, f func(term, word string)) {
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
		} else if t := normWord(text[i:j]); t != "" {
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

// termSet returns the set of normalised terms of text.
func termSet(text string) map[string]bool {
	set := make(map[string]bool)
	eachTerm(text, func(t, _ string) { set[t] = true })
	return set
}

// normWord lower-cases and stems a word; it returns "" for stop words, single letters and numbers.
func normWord(w string) string {
	w = strings.ToLower(w)
	if utf8.RuneCountInString(w) < 2 || stopWords[w] || strings.TrimFunc(w, unicode.IsDigit) == "" {
		return ""
	}
	return stem(w)
}

// stem lets the forms of an English word meet: plurals, "-ing" and "-ed" (a doubled final consonant
// undone), a final "e", and a final "y" (made "i"). "hiking", "hikes", "hiked" and "hike" all become
// "hik". Words of three letters or fewer are left alone.
func stem(w string) string {
	if len(w) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "ies"):
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

// undouble turns a doubled final consonant into one ("runn" -> "run").
func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && strings.IndexByte("bdfgkmnprt", w[n-1]) >= 0 {
		return w[:n-1]
	}
	return w
}

// stopWords say nothing about what a message or a person is about.
var stopWords = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`a about above after again against all also am an and any are as at be
	because been before being below between both but by can could did do does doing don done down during
	each even ever every few for from further get gets got had has have having he her here hers herself him
	himself his how i if in into is it its itself just know like likes love loves me more most much my
	myself no nor not now of off often on once only or other our ours ourselves out over own really same
	say she should so some such tell than that the their theirs them themselves then there these they
	think this those through to too under until up very want was we well were what when where which while
	who whom why will with would you your yours yourself yourselves enjoy enjoys thing things lot lots way
	ways always something someone people person hi hello hey thanks thank please yes okay ok`) {
		m[w] = true
	}
	return m
}()
