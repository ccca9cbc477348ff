// Package text is the one rule for the text people show each other: chat messages and the session
// titles made from them, nicknames, bios, shade names and fields, topics and memories.
//
//   - Control characters other than newline and tab are never allowed (NUL, ESC and the other C0
//     controls, carriage return, DEL, the C1 controls).
//   - A name (one line that names someone or something: a nickname, a shade name, a topic, a title)
//     holds no newline or tab, no bidirectional override or isolate (U+202A-U+202E, U+2066-U+2069:
//     they let "abc\u202Edcba" show as "abcabcd"), and, unless empty, at least one visible character
//     (a nickname of only U+200B ZERO WIDTH SPACE is invisible).
//
// The API refuses text that breaks the rule (Check, a 400 naming the field); text that comes from
// elsewhere, such as a SecondMe import, is cleaned with Clean.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is how a piece of text is shown.
type Kind int

const (
	// Body is text shown as paragraphs: a chat message, a bio, a shade's description or content, a
	// memory. It may hold newlines and tabs.
	Body Kind = iota
	// Name is one line that names someone or something: a nickname, a shade name, a topic, a session
	// title (and, for want of a third kind, a URL).
	Name
)

// Reasons Check gives.
const (
	NotUTF8       = "not valid UTF-8"
	Controls      = "contains control characters"
	Bidi          = "contains bidirectional override or isolate characters"
	NothingToShow = "must contain a visible character"
)

// Check returns why s breaks the rule for its kind, or "" when it keeps it. The empty string keeps it
// (whether a field is required is the caller's rule). s is checked as given: trim it first.
func Check(s string, k Kind) string {
	if !utf8.ValidString(s) {
		return NotUTF8
	}
	visible := false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			if k == Name {
				return Controls
			}
		case unicode.IsControl(r):
			return Controls
		case k == Name && isBidiControl(r):
			return Bidi
		case !visible:
			visible = isVisible(r)
		}
	}
	if k == Name && s != "" && !visible {
		return NothingToShow
	}
	return ""
}

// Clean returns s made to keep the rule for its kind, for text that comes from elsewhere: invalid
// UTF-8, control characters and, in a name, bidirectional overrides and isolates are removed, and a
// name's newlines and tabs become spaces; a name with nothing visible becomes "". It does not trim.
func Clean(s string, k Kind) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			if k == Name {
				return ' '
			}
			return r
		case r == '\r' && k == Name:
			return ' '
		case unicode.IsControl(r), k == Name && isBidiControl(r):
			return -1
		}
		return r
	}, s)
	if k == Name && !strings.ContainsFunc(s, isVisible) {
		return ""
	}
	return s
}

// isBidiControl reports whether r is a bidirectional embedding, override or isolate control.
func isBidiControl(r rune) bool {
	return '\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069'
}

// blank holds the letters and symbols that draw nothing (fillers and the blank braille pattern),
// often used for invisible names.
var blank = map[rune]bool{'\u115f': true, '\u1160': true, '\u3164': true, '\uffa0': true, '\u2800': true}

// isVisible reports whether r draws something on its own: a letter, number, punctuation or symbol,
// other than the blank ones. Spaces, format characters (zero-width ones, joiners, marks of direction)
// and combining marks on nothing do not.
func isVisible(r rune) bool {
	return !blank[r] && unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S)
}
