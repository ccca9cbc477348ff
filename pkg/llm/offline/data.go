package offline

import (
	"encoding/json"
	"hash/fnv"
	"strings"

	"github.com/secondme/twin/pkg/lang"
	"github.com/secondme/twin/pkg/llm"
)

// maxTranscriptLines bounds the conversation the offline model writes.
const maxTranscriptLines = 50

// fromData answers a request from its structured part (llm.Data), and reports whether it could: a
// transcript (with the verdict its schema asks for next to the lines), or a judge's verdict, of the two
// personas it names.
func fromData(req llm.Request) (string, bool) {
	d := req.Data
	if d == nil || len(d.Personas) < 2 {
		return "", false
	}
	switch d.Task {
	case llm.TaskTranscript:
		return transcript(req), true
	case llm.TaskJudge:
		if req.Schema == nil {
			return "", false
		}
		b, err := json.Marshal(fillSchema(req.Schema, judged(d)))
		return string(b), err == nil
	}
	return "", false
}

// judged is what the offline judge reads out of the first two personas of d: their overlap, the
// first presented first.
func judged(d *llm.Data) evidence {
	return compare(personaText(d.Personas[0]), personaText(d.Personas[1]), d.Personas[0].Name, d.Personas[1].Name)
}

// transcript writes the conversation of the first two personas of the request's data, Lines lines
// (at most maxTranscriptLines), the first persona first, as the JSON object {"lines": [{"speaker": 1
// or 2, "text"}]}, with whatever else the request's schema asks for (the conversation call's verdict
// of the pair) filled as a judge's answer with the first persona presented first. Each line is the
// offline chat reply of its speaker's twin to the conversation so far as that twin sees it (the first
// twin answers an opener), so the twins alternate, no line repeats an earlier one while a variant is
// left, and every line says a sentence of its speaker's own persona.
func transcript(req llm.Request) string {
	d, maxTokens := req.Data, req.MaxTokens
	n := min(max(d.Lines, 2), maxTranscriptLines)
	personas := [2]persona{personaFromData(d.Personas[0]), personaFromData(d.Personas[1])}
	opener := "You have just met the AI twin of " + d.Personas[1].Name + ". Say hello and ask them something you would like to know."
	if personas[0].language() == lang.Chinese && personas[1].language() == lang.Chinese {
		// Two personas written in Chinese talk in Chinese (each line answers the last in its language).
		opener = "你刚认识了" + d.Personas[1].Name + "的 AI 分身。打个招呼，问问你想了解的事。"
	}
	type line struct {
		Speaker int    `json:"speaker"`
		Text    string `json:"text"`
	}
	lines := make([]line, 0, n)
	for i := range n {
		self := i % 2
		var msgs []llm.Message
		if self == 0 {
			msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: opener})
		}
		for _, l := range lines {
			role := llm.RoleUser
			if l.Speaker == self+1 {
				role = llm.RoleModel
			}
			msgs = append(msgs, llm.Message{Role: role, Content: l.Text})
		}
		text := chatReply(llm.Request{Messages: msgs, MaxTokens: maxTokens / n}, personas[self])
		lines = append(lines, line{Speaker: self + 1, Text: text})
	}
	out := map[string]any{}
	if req.Schema != nil {
		if v, ok := fillSchema(req.Schema, judged(d)).(map[string]any); ok {
			out = v
		}
	}
	out["lines"] = lines
	b, _ := json.Marshal(out)
	return string(b)
}

// personaFromData is the persona of the structured part of a request: the bio's sentences, and for
// each facet its sentences, made relevant by the facet's name and topics.
func personaFromData(d llm.Persona) persona {
	p := persona{name: d.Name}
	if d.Bio != "" {
		p.addSentences(d.Bio, nil)
	}
	for _, f := range d.Facets {
		if f.Name != "" {
			// A memory is a facet named by its subject, without topics.
			p.addLabel(f.Name, len(f.Topics) == 0)
		}
		extra := termSet(f.Name)
		for _, t := range f.Topics {
			eachTerm(t, func(term, _ string) { extra[term] = true })
		}
		for _, t := range f.Texts {
			p.addSentences(t, extra)
		}
	}
	return p
}

// personaText is every word of a persona, for comparing two of them.
func personaText(d llm.Persona) string {
	var b strings.Builder
	b.WriteString(d.Bio)
	for _, f := range d.Facets {
		b.WriteString("\n" + f.Name)
		for _, t := range f.Texts {
			b.WriteString("\n" + t)
		}
		b.WriteString("\n" + strings.Join(f.Topics, ", "))
	}
	return b.String()
}

// fromData returns the persona of d, built once per distinct persona (by a 64-bit hash of its fields).
func (c *personaCache) fromData(d llm.Persona) persona {
	h := fnv.New64a()
	add := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	add(d.ID)
	add(d.Name)
	add(d.Bio)
	for _, f := range d.Facets {
		add("\x01" + f.Name)
		for _, t := range f.Texts {
			add(t)
		}
		for _, t := range f.Topics {
			add("\x02" + t)
		}
	}
	key := h.Sum64()
	c.mu.Lock()
	p, ok := c.byData[key]
	c.mu.Unlock()
	if ok {
		return p
	}
	p = personaFromData(d)
	c.mu.Lock()
	if c.byData == nil || len(c.byData) >= maxCachedPersonas {
		c.byData = make(map[uint64]persona)
	}
	c.byData[key] = p
	c.mu.Unlock()
	return p
}
