package compat

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/prompt"
	"github.com/secondme/twin/pkg/store"
)

// Limits of one line of a twin-to-twin conversation.
const (
	lineMaxTokens = 200
	lineMaxChars  = 600
)

// Converse has the twins of a and b talk, n messages in turn, a first. Each twin speaks from its own
// person's public persona (prompt.PersonaOf with own false) under the twin rules of pkg/prompt. The lines
// are the evidence stored with the match.
func Converse(ctx context.Context, m llm.Model, a, b store.User, n int) ([]store.TranscriptLine, error) {
	lines := make([]store.TranscriptLine, 0, n)
	personas := [2]prompt.Persona{prompt.PersonaOf(a, false), prompt.PersonaOf(b, false)}
	for i := range n {
		self, other := a, b
		if i%2 == 1 {
			self, other = b, a
		}
		req := turn(personas[i%2], self.ID, other, lines)
		reply, err := m.Generate(ctx, req, nil)
		if err != nil {
			return nil, fmt.Errorf("twin of %s, message %d: %w", self.ID, i+1, err)
		}
		lines = append(lines, store.TranscriptLine{Speaker: self.ID, Text: clip(reply.Text, lineMaxChars)})
	}
	return lines, nil
}

// turn is the request for the next line of the twin of self (persona p): the conversation so far as
// it sees it (its own lines are the assistant's, the other twin's are the person's); the first twin
// starts from an opener.
func turn(p prompt.Persona, self string, other store.User, lines []store.TranscriptLine) llm.Request {
	var history []store.ChatMessage
	if len(lines) == 0 || lines[0].Speaker == self {
		history = append(history, store.ChatMessage{Role: store.RoleUser, Content: opener(other)})
	}
	for _, l := range lines {
		role := store.RoleUser
		if l.Speaker == self {
			role = store.RoleAssistant
		}
		history = append(history, store.ChatMessage{Role: role, Content: l.Text})
	}
	// The message to answer is the newest one, which is always the other twin's (or the opener).
	msg := history[len(history)-1].Content
	history = history[:len(history)-1]
	req := prompt.Build(prompt.Input{Persona: p, History: history, Message: msg}, prompt.Config{}).Request
	req.System += meeting(other)
	req.MaxTokens = lineMaxTokens
	return req
}

// clip trims s and cuts it to at most n bytes on a rune boundary, marking the cut with an ellipsis.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
