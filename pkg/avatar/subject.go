// Package avatar decides what a portrait of a person's twin is made of: the public subject it is
// drawn from, the text prompt an image model is given, and an offline portrait drawn without a model.
// Everything here starts from the person's public profile, so no private field can reach an image.
package avatar

import (
	"strings"
	"unicode"

	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store"
)

// Limits on what a subject carries into a prompt or a drawing.
const (
	maxTopics    = 8
	maxWordRunes = 40
)

// Subject is what a portrait may show of a person: their nickname and the names and topics of their
// public shades, nothing else.
type Subject struct {
	Nickname string
	Shades   []string
	Topics   []string
}

// SubjectOf returns the subject of u's portrait. It goes through profile.PublicView, the one view of a
// person other people see, so private shades, private shade fields and memories never reach it.
func SubjectOf(u store.User) Subject {
	return subjectOfPublic(profile.PublicView(u))
}

// subjectOfPublic keeps the nickname and the public shades' names and topics, cleaned and bounded:
// topics are lower-cased, deduplicated and at most maxTopics.
func subjectOfPublic(p profile.PublicProfile) Subject {
	s := Subject{Nickname: clean(p.Nickname)}
	seen := map[string]bool{}
	for _, sh := range p.Shades {
		if name := clean(sh.Name); name != "" {
			s.Shades = append(s.Shades, name)
		}
		for _, t := range sh.Topics {
			t = strings.ToLower(clean(t))
			if t == "" || seen[t] || len(s.Topics) == maxTopics {
				continue
			}
			seen[t] = true
			s.Topics = append(s.Topics, t)
		}
	}
	return s
}

// clean keeps letters, digits, spaces and light punctuation, folds runs of space, and cuts the result
// to maxWordRunes runes, so that a field cannot smuggle markup or instructions of any length.
func clean(s string) string {
	var out []rune
	space := false
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-'&.+#", r) {
			space = true
			continue
		}
		if space && len(out) > 0 {
			out = append(out, ' ')
		}
		space = false
		out = append(out, r)
		if len(out) >= maxWordRunes {
			break
		}
	}
	return strings.TrimSpace(string(out[:min(len(out), maxWordRunes)]))
}
