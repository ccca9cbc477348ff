package compat

import (
	"strings"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/prompt"
	"github.com/secondme/twin/pkg/store"
)

// maxProfileChars bounds the public profile of one person in the judge's prompt.
const maxProfileChars = 4000

// PublicProfile describes a person for the judge as quoted lines, from their public persona
// (prompt.PersonaOf with own false: the public shade fields, never private fields or memories).
func PublicProfile(u store.User) string {
	p := prompt.PersonaOf(u, false)
	var b strings.Builder
	add := func(line string) bool {
		line = "> " + oneLine(line) + "\n"
		if b.Len()+len(line) > maxProfileChars {
			return false
		}
		b.WriteString(line)
		return true
	}
	if p.Bio != "" {
		add("About: " + p.Bio)
	}
	for _, f := range p.Facets {
		line := "Facet: " + f.Name
		for _, t := range []string{f.Description, f.Content} {
			if t = oneLine(t); t != "" {
				line += " | " + t
			}
		}
		if len(f.Topics) > 0 {
			line += " | topics: " + strings.Join(f.Topics, ", ")
		}
		if !add(line) {
			break
		}
	}
	if len(p.Facets) == 0 {
		add("(no public facets)")
	}
	return b.String()
}

// oneLine collapses white space, so that profile text cannot fake the structure of a prompt.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// personaData is u's public persona as the structured part of a request (llm.Data): the same public
// fields PublicProfile quotes.
func personaData(u store.User) llm.Persona {
	p := prompt.PersonaOf(u, false)
	out := llm.Persona{ID: u.ID, Name: oneLine(u.Nickname), Bio: p.Bio}
	for _, f := range p.Facets {
		var texts []string
		for _, t := range []string{f.Description, f.Content} {
			if t = oneLine(t); t != "" {
				texts = append(texts, t)
			}
		}
		out.Facets = append(out.Facets, llm.Facet{Name: f.Name, Texts: texts, Topics: f.Topics})
	}
	return out
}
