package compat

import (
	"fmt"
	"strings"

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

// meeting is appended to a twin's system prompt for a twin-to-twin conversation.
func meeting(other store.User) string {
	return fmt.Sprintf("\nThis conversation: you are meeting the AI twin of %q, to find out whether your person and theirs would get along. "+
		"Be warm, curious and honest: look for common ground and say where you differ. Reply in one to three sentences.\n",
		oneLine(other.Nickname))
}

// opener starts the conversation for the first twin.
func opener(other store.User) string {
	return fmt.Sprintf("You have just met the AI twin of %q. Say hello and ask them something you would like to know.",
		oneLine(other.Nickname))
}
