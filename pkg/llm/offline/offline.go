// Package offline is the deterministic offline model, the default when no provider is configured. It
// makes no network call and needs no key: it replies in persona, and answers requests with a JSON
// schema from the overlap of the two personas it is given.
package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/lang"
	"github.com/secondme/twin/pkg/llm"
)

// maxOfflineFacts is how many persona sentences one offline reply repeats.
const maxOfflineFacts = 2

// Model is the deterministic offline model, the default when no provider is configured. It makes
// no network call: it replies in persona with the sentences of the system prompt's persona that
// share the most terms with the last message and streams the reply word by word. It does not mark its
// replies in their text: Reply.Offline and Reply.Model tell the caller (and the client, which says
// once per conversation that the offline twin answers) who wrote them. With a Schema it returns JSON valid for the schema, derived from the overlap of the two
// personas of the prompt (see fillSchema). The same request always gets the same reply.
type Model struct {
	// Pace, when set, is the pause between streamed words, so a person sees the reply being written
	// (the local stack's OFFLINE_PACE). Zero streams at once.
	Pace time.Duration

	personas personaCache
}

var _ llm.Model = (*Model)(nil)

// New returns the offline model.
func New() *Model { return &Model{} }

// Generate implements llm.Model.
func (o *Model) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	if err := ctx.Err(); err != nil {
		return llm.Reply{}, err
	}
	reply := llm.Reply{Model: llm.ModelOffline, Offline: true}
	var pieces []string
	if text, ok := fromData(req); ok {
		pieces = []string{text}
	} else if req.Schema != nil {
		b, err := json.Marshal(fillSchema(req.Schema, weigh(req)))
		if err != nil {
			return reply, fmt.Errorf("offline: encode JSON reply: %w", err)
		}
		pieces = []string{string(b)}
	} else {
		pieces = splitPieces(chatReply(req, o.persona(req)))
	}
	if onDelta == nil {
		reply.Text = strings.Join(pieces, "")
		return reply, nil
	}
	var text strings.Builder
	for i, p := range pieces {
		if i > 0 && o.Pace > 0 {
			sleep(ctx, o.Pace)
		}
		if err := ctx.Err(); err != nil {
			reply.Text = text.String()
			return reply, err
		}
		if err := onDelta(p); err != nil {
			reply.Text = text.String()
			return reply, err
		}
		text.WriteString(p)
	}
	reply.Text = text.String()
	return reply, nil
}

// persona is the twin's persona of a chat request: from its structured part (llm.Data), or, for a
// request without one, read out of the system prompt.
func (o *Model) persona(req llm.Request) persona {
	if d := req.Data; d != nil && d.Task == llm.TaskChat && len(d.Personas) > 0 {
		return o.personas.fromData(d.Personas[0])
	}
	return o.personas.get(req.System)
}

// chatReply composes the offline reply of a twin with persona p to the last message of req, in the
// language of that message (see wordsFor): it says only the persona's sentences written in that
// language, and when it has none, says so and names what to ask about (otherLanguage). It says the
// persona's sentences it has not said yet in the conversation first, and never answers with a
// message the conversation already holds (its own or the other side's) while a variant is left: a
// twin-to-twin conversation then never repeats a line.
func chatReply(req llm.Request, p persona) string {
	msg := ""
	if n := len(req.Messages); n > 0 {
		msg = req.Messages[n-1].Content
	}
	w := wordsFor(lang.Of(msg))
	earlier := make(map[string]bool, len(req.Messages))
	var history []string
	for _, m := range req.Messages {
		earlier[strings.TrimSpace(m.Content)] = true
		history = append(history, m.Content)
	}
	h := fnv.New32a()
	h.Write([]byte(msg))
	pick := func(options ...string) string { return options[h.Sum32()%uint32(len(options))] }
	spoken := p.in(w.language)
	if len(spoken.facts) == 0 && len(p.facts) > 0 {
		return otherLanguage(w, p, msg, pick, earlier, req.MaxTokens)
	}
	p = spoken
	fresh := make([]fact, 0, len(p.facts))
	for _, f := range p.facts {
		if !saidIn(history, w.say(f)) {
			fresh = append(fresh, f)
		}
	}
	if len(fresh) == 0 {
		fresh = p.facts
	}
	terms := termSet(msg)
	picked := withoutRepeats(pickFacts(fresh, terms, maxOfflineFacts))

	var parts []string
	switch {
	case len(picked) > 0:
		if w.isQuestion(msg) {
			parts = append(parts, pick(w.asked...))
		} else {
			parts = append(parts, pick(w.agreeing...))
		}
		for _, f := range picked {
			parts = append(parts, w.say(f))
		}
	case len(p.facts) == 0:
		parts = append(parts, w.nothingYet)
	default:
		if len(terms) == 0 {
			parts = append(parts, w.hello)
		} else {
			parts = append(parts, pick(w.unsure...))
		}
		if p.name != "" {
			parts = append(parts, w.twinOf(p.name))
		}
		parts = append(parts, w.canTell+w.say(fresh[h.Sum32()%uint32(len(fresh))]))
		if topics := w.suggestions(p); topics != "" {
			parts = append(parts, w.askAbout(topics))
		}
	}
	reply := w.finish(strings.Join(parts, w.sep), req.MaxTokens)
	if !earlier[reply] {
		return reply
	}
	// A variant: each sentence of the persona (the fresh ones first) after each opener, in turn.
	start := int(h.Sum32() % uint32(max(1, len(fresh))))
	for i := range len(fresh) + len(p.facts) {
		f := fresh[(start+i)%len(fresh)]
		if i >= len(fresh) {
			f = p.facts[i-len(fresh)]
		}
		for _, o := range w.agreeing {
			if alt := w.finish(o+w.sep+w.say(f), req.MaxTokens); !earlier[alt] {
				return alt
			}
		}
	}
	return reply
}

// agreeing are the openers of a reply that picks up what the other said.
var agreeing = []string{"That resonates with me.", "Funny you should bring that up.", "I can relate to that.",
	"That reminds me of something.", "Here's something about me.", "Since we're talking about it:"}

// saidIn reports whether s was said in one of the messages.
func saidIn(messages []string, s string) bool {
	for _, m := range messages {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// finishReply cuts a reply to maxTokens words (when set).
func finishReply(text string, maxTokens int) string {
	words := strings.Fields(text)
	if maxTokens > 0 && len(words) > maxTokens {
		words = words[:maxTokens]
	}
	return strings.Join(words, " ")
}

// pickFacts returns up to n facts that share terms with the message, the most relevant first picked
// and then put back in persona order. A term of the sentence itself counts twice as much as a term of
// its facet; ties go to the earlier fact.
func pickFacts(facts []fact, msg map[string]bool, n int) []fact {
	type scored struct {
		i, score int
	}
	var best []scored
	for i, f := range facts {
		s := 0
		for t := range msg {
			if f.own[t] {
				s += 2
			} else if f.extra[t] {
				s++
			}
		}
		if s == 0 {
			continue
		}
		// Insert in order of score (descending), then index (ascending); keep n.
		at := len(best)
		for at > 0 && best[at-1].score < s {
			at--
		}
		if at >= n {
			continue
		}
		best = append(best, scored{})
		copy(best[at+1:], best[at:])
		best[at] = scored{i: i, score: s}
		if len(best) > n {
			best = best[:n]
		}
	}
	// Persona order reads more naturally.
	slices.SortFunc(best, func(a, b scored) int { return a.i - b.i })
	out := make([]fact, 0, len(best))
	seen := make(map[string]bool)
	for _, s := range best {
		if !seen[facts[s.i].text] {
			seen[facts[s.i].text] = true
			out = append(out, facts[s.i])
		}
	}
	return out
}

// suggestions names up to three facets of the persona, as "a, b or c", in lower case as they stand
// mid-sentence (see midSentence); memories keep their subject as written.
func suggestions(p persona) string {
	var names []string
	seen := make(map[string]bool)
	for _, l := range p.labels {
		if k := strings.ToLower(l); !seen[k] {
			seen[k] = true
			if !p.proper[l] {
				l = midSentence(l)
			}
			names = append(names, l)
		}
		if len(names) == 3 {
			break
		}
	}
	return joinList(names, "or")
}

// midSentence writes a name as it stands mid-sentence: a word whose only capital is its first letter
// is put in lower case ("Home cook" -> "home cook"), but acronyms and mixed case ("AI", "SecondMe",
// "NYC") stay as written. In a name in title case ("Home Cook") every such word is lowered; in one in
// sentence case ("Jazz pianist") only the first, since a later capitalised word is a proper noun, and
// not even the first when the second is capitalised too ("Bill Evans fan").
func midSentence(name string) string {
	words := strings.Fields(name)
	capitalised := func(w string) bool {
		r, _ := utf8.DecodeRuneInString(w)
		return unicode.IsUpper(r)
	}
	title := len(words) > 1
	for _, w := range words {
		if r, _ := utf8.DecodeRuneInString(w); unicode.IsLetter(r) && !unicode.IsUpper(r) {
			title = false
		}
	}
	for i, w := range words {
		if !title && (i > 0 || len(words) > 1 && capitalised(words[1])) {
			break
		}
		words[i] = lowerInitial(w)
	}
	return strings.Join(words, " ")
}

// lowerInitial puts w in lower case when its only capital letter is its first.
func lowerInitial(w string) string {
	r, size := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) || strings.IndexFunc(w[size:], unicode.IsUpper) >= 0 {
		return w
	}
	return string(unicode.ToLower(r)) + w[size:]
}

// joinList writes a, b and c.
func joinList(items []string, and string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + and + " " + items[len(items)-1]
}

// sentence ends s with a full stop unless it ends with punctuation already.
func sentence(s string) string {
	if strings.HasSuffix(s, "…") || strings.ContainsAny(s[len(s)-1:], ".!?") ||
		strings.HasSuffix(s, "。") || strings.HasSuffix(s, "！") || strings.HasSuffix(s, "？") {
		return s
	}
	return s + "."
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
