// Package lang names the languages Second Me speaks (Simplified Chinese and English) and chooses one:
// from a request's Accept-Language header, or from the script of a text.
package lang

import (
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The languages, as BCP 47 tags: the values of a profile's language.
const (
	Chinese = "zh-CN"
	English = "en"
	// Default is the language when nothing says otherwise.
	Default = English
)

// Valid reports whether tag is one of the languages, exactly as written ("zh-CN" or "en").
func Valid(tag string) bool { return tag == Chinese || tag == English }

// Supported returns the language a tag of any case and region stands for: Chinese for zh and every
// zh-* (the only Chinese we have), English for en and every en-*, "" for anything else.
func Supported(tag string) string {
	t := strings.ToLower(strings.TrimSpace(tag))
	switch {
	case t == "zh" || strings.HasPrefix(t, "zh-"):
		return Chinese
	case t == "en" || strings.HasPrefix(t, "en-"):
		return English
	}
	return ""
}

// maxRanges bounds how many language ranges of a header are read; a longer header is cut there.
const maxRanges = 32

// FromAcceptLanguage returns the language an Accept-Language header prefers ("zh-CN;q=0.9, en;q=0.8"):
// of the ranges we speak, the one with the highest quality, the earlier one on a tie; "*" stands for
// Default. A range with q=0 is refused, and a malformed range or quality is skipped. It returns ""
// when the header names no language we speak.
func FromAcceptLanguage(header string) string {
	best, bestQ := "", 0.0
	for i, part := range strings.Split(header, ",") {
		if i == maxRanges {
			break
		}
		tag, params, _ := strings.Cut(part, ";")
		q, ok := quality(params)
		if !ok || q <= bestQ {
			continue
		}
		l := Supported(tag)
		if strings.TrimSpace(tag) == "*" {
			l = Default
		}
		if l != "" {
			best, bestQ = l, q
		}
	}
	return best
}

// quality reads the q parameter of a range's parameters ("q=0.8"): 1 when there is none, and false
// when it is malformed or outside 0-1.
func quality(params string) (float64, bool) {
	if strings.TrimSpace(params) == "" {
		return 1, true
	}
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" || len(v) > 5 || strings.ContainsAny(v, "eE+-xXnN_") {
			return 0, false
		}
		q, err := strconv.ParseFloat(v, 64)
		if err != nil || q < 0 || q > 1 {
			return 0, false
		}
		return q, true
	}
	return 1, true
}

// Of returns the language a text is written in: Chinese when it has more Han words than other words
// (a Chinese word taken as 1.5 characters: "我喜欢 jazz" is Chinese, "Do you like 中国菜?" English),
// else English, also for a text with no words.
func Of(text string) string {
	han, words := 0, 0
	inWord := false
	for _, r := range text {
		isHan := unicode.Is(unicode.Han, r)
		if isHan {
			han++
		}
		letter := !isHan && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if letter && !inWord {
			words++
		}
		inWord = letter
	}
	if han > 0 && 2*han > 3*words {
		return Chinese
	}
	return English
}

// Cookie is the cookie the browser client keeps the person's choice of language in (the profile's
// language once they sign in), so that pages and errors the server writes follow it.
const Cookie = "sm_lang"

// FromRequest returns the language of a request from what the browser says: the Cookie when it
// names one of the languages, else Accept-Language, else Default. (The signed-in person's own
// language, when a handler knows it, comes first: see pkg/api's Language.)
func FromRequest(r *http.Request) string {
	if c, err := r.Cookie(Cookie); err == nil && Valid(c.Value) {
		return c.Value
	}
	if l := FromAcceptLanguage(strings.Join(r.Header.Values("Accept-Language"), ",")); l != "" {
		return l
	}
	return Default
}

// Typeset spaces Chinese text as Chinese typesetting does: one space between a Han character and a
// Latin letter or digit next to it, none before or after Chinese punctuation, none doubled.
func Typeset(text string) string {
	latin := func(r rune) bool { return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) }
	han := func(r rune) bool { return unicode.Is(unicode.Han, r) }
	punct := func(r rune) bool { return strings.ContainsRune("。！？，、：；（）《》“”", r) }
	var b strings.Builder
	prev := rune(0)
	rs := []rune(strings.TrimSpace(text))
	for i, r := range rs {
		if r == ' ' {
			next := rune(0)
			if i+1 < len(rs) {
				next = rs[i+1]
			}
			if prev == ' ' || punct(prev) || punct(next) || next == ' ' {
				continue
			}
		} else if han(prev) && latin(r) || latin(prev) && han(r) {
			b.WriteRune(' ')
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}
