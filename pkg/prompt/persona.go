// Package prompt turns a person into the persona of their AI twin and assembles the prompt of one chat
// turn within a token budget: the rules and the persona, a rolling summary of older turns, and the
// most recent turns that fit.
package prompt

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/store"
)

// Persona is what a twin knows about the person it speaks for. Own is true for the person's own twin,
// which may use private shade fields and memories; anyone else's twin holds public fields only.
type Persona struct {
	UserID   string
	Nickname string
	Bio      string
	Own      bool
	Facets   []Facet
	// Memories is empty unless Own.
	Memories []Memory
}

// Facet is one shade as the twin may use it.
type Facet struct {
	Name        string
	Confidence  string // empty for another person's twin: confidence is not a public field
	Description string
	Content     string
	Topics      []string
}

// Memory is one key memory of the person (own twin only).
type Memory struct {
	Subject string
	Content string
}

// PersonaOf returns the persona of u's twin. own says whether the person talking is u: then every
// shade field and the memories are used. Otherwise only public shade fields are used, a shade whose
// Public is nil is left out, and memories are never included. Facets are ordered by confidence,
// highest first, so that a tight budget keeps the strongest ones.
func PersonaOf(u store.User, own bool) Persona {
	p := Persona{UserID: u.ID, Nickname: u.Nickname, Bio: u.Bio, Own: own}
	shades := slices.Clone(u.Shades)
	slices.SortStableFunc(shades, func(a, b store.Shade) int {
		return confidenceRank(a.Confidence) - confidenceRank(b.Confidence)
	})
	for _, s := range shades {
		if own {
			p.Facets = append(p.Facets, Facet{Name: s.Name, Confidence: s.Confidence, Description: s.Description,
				Content: s.Content, Topics: s.Topics})
			continue
		}
		if s.Public == nil {
			continue
		}
		name := s.Public.Name
		if name == "" {
			name = s.Name // as SecondMe and the public profile do: the name is never private
		}
		p.Facets = append(p.Facets, Facet{Name: name, Description: s.Public.Description, Content: s.Public.Content,
			Topics: s.Public.Topics})
	}
	if own {
		for _, m := range u.Memories {
			p.Memories = append(p.Memories, Memory{Subject: m.Subject, Content: m.Content})
		}
	}
	return p
}

// confidenceRank orders confidence levels, strongest first; unknown levels come last.
func confidenceRank(c string) int {
	switch c {
	case store.ConfidenceVeryHigh:
		return 0
	case store.ConfidenceHigh:
		return 1
	case store.ConfidenceMedium:
		return 2
	case store.ConfidenceLow:
		return 3
	case store.ConfidenceVeryLow:
		return 4
	}
	return 5
}

// lines renders the persona as data lines, most important first: name, bio, facets, memories.
func (p Persona) lines() []string {
	out := []string{"Name: " + oneLine(p.Nickname)}
	if p.Bio != "" {
		out = append(out, "About me: "+oneLine(p.Bio))
	}
	for _, f := range p.Facets {
		var b strings.Builder
		b.WriteString("Facet: ")
		b.WriteString(oneLine(f.Name))
		if f.Confidence != "" {
			b.WriteString(" (confidence " + strings.ToLower(strings.ReplaceAll(f.Confidence, "_", " ")) + ")")
		}
		for _, t := range []string{f.Description, f.Content} {
			if t = oneLine(t); t != "" {
				b.WriteString(" | " + t)
			}
		}
		if len(f.Topics) > 0 {
			topics := make([]string, 0, len(f.Topics))
			for _, t := range f.Topics {
				topics = append(topics, oneLine(t))
			}
			b.WriteString(" | topics: " + strings.Join(topics, ", "))
		}
		out = append(out, b.String())
	}
	for _, m := range p.Memories {
		out = append(out, "Memory: "+oneLine(m.Subject)+" | "+oneLine(m.Content))
	}
	return out
}

// data is the persona as the structured part of a request (llm.Data): what its first n lines (as
// lines renders them, the ones the prompt holds) say. Memories are facets named by their subject.
func (p Persona) data(n int) llm.Persona {
	out := llm.Persona{ID: p.UserID, Name: oneLine(p.Nickname)}
	n-- // the name
	if p.Bio != "" && n > 0 {
		out.Bio = oneLine(p.Bio)
		n--
	}
	for _, f := range p.Facets {
		if n <= 0 {
			return out
		}
		n--
		var texts []string
		for _, t := range []string{f.Description, f.Content} {
			if t = oneLine(t); t != "" {
				texts = append(texts, t)
			}
		}
		out.Facets = append(out.Facets, llm.Facet{Name: oneLine(f.Name), Texts: texts, Topics: f.Topics})
	}
	for _, m := range p.Memories {
		if n <= 0 {
			return out
		}
		n--
		out.Facets = append(out.Facets, llm.Facet{Name: oneLine(m.Subject), Texts: []string{oneLine(m.Content)}})
	}
	return out
}

// oneLine folds runs of white space (new lines included) into single spaces, so that a text cannot
// break out of the quoted block it is placed in. A text that is one line already is returned as it is,
// without allocating; another is written once into a string of its own.
func oneLine(s string) string {
	prevSpace := true // a leading space is folded away
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		space := isSpace(r)
		if space && (prevSpace || r != ' ') {
			return foldSpace(s)
		}
		prevSpace = space
		i += n
	}
	if prevSpace && s != "" { // a trailing space
		return foldSpace(s)
	}
	return s
}

// foldSpace is strings.Join(strings.Fields(s), " ") in one allocation.
func foldSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	gap := false
	for i := 0; i < len(s); {
		r, n := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case isSpace(r):
			gap = b.Len() > 0
		case gap:
			b.WriteByte(' ')
			gap = false
			fallthrough
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isSpace is unicode.IsSpace, with ASCII decided without a call.
func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || uint32(r)-'\t' <= '\r'-'\t'
	}
	return unicode.IsSpace(r)
}
