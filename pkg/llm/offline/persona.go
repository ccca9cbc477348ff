package offline

import (
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// maxFactRunes caps one sentence the offline model repeats.
const maxFactRunes = 240

// fact is one sentence of a persona that the offline model may say, with the terms that make it
// relevant: its own, and those of the facet (name and topics) it belongs to.
type fact struct {
	text  string
	own   map[string]bool
	extra map[string]bool
}

// say is the fact as the twin says it: in the first person, cut to maxFactRunes, ending with a stop.
func (f fact) say() string {
	return sentence(firstPerson(clip(f.text, maxFactRunes)))
}

// persona is what the offline model reads out of a system prompt.
type persona struct {
	name   string
	labels []string // facet and memory names, in order, for suggestions
	// proper are the labels said as written, not in lower case: memories, named by their subject.
	proper map[string]bool
	facts  []fact
}

// parsePersona reads the persona out of a system prompt. When the prompt quotes its data (lines that
// start with "> ", as pkg/prompt writes them) only quoted lines count, except those under a summary or
// conversation heading; otherwise every line counts but headings and instructions. Lines of the form
// "Key: text | text | topics: a, b" (pkg/prompt's "Name:", "About me:", "Facet:", "Memory:") are
// understood; anything else is read as plain sentences.
func parsePersona(system string) persona {
	return personaOf(personaLines(system))
}

// personaLines returns the lines of a system prompt that parsePersona reads, unquoted and without
// list markers.
func personaLines(system string) []string {
	var out []string
	quoted := false
	for l := range strings.Lines(system) {
		if strings.HasPrefix(strings.TrimSpace(l), ">") {
			quoted = true
			break
		}
	}
	skip := false
	for raw := range strings.Lines(system) {
		l := strings.TrimSpace(raw)
		if l == "" {
			continue
		}
		if quoted {
			if !strings.HasPrefix(l, ">") {
				skip = headingSkipped(l)
				continue
			}
			if skip {
				continue
			}
			l = strings.TrimSpace(strings.TrimPrefix(l, ">"))
		} else if isHeading(l) || isInstruction(l) {
			continue
		}
		out = append(out, stripBullet(l))
	}
	return out
}

// personaOf reads a persona out of the lines personaLines returned.
func personaOf(lines []string) persona {
	var p persona
	for _, l := range lines {
		p.addLine(l)
	}
	return p
}

// maxCachedPersonas bounds personaCache; past it the cache starts again empty.
const maxCachedPersonas = 256

// personaCache keeps the personas read out of system prompts by the lines they were read from. A
// twin's persona lines are the same from one turn to the next (the summary and the conversation,
// which change, are not among them), so each is read once. It is safe for concurrent use; a persona
// it returns is shared and must not be changed.
type personaCache struct {
	mu     sync.Mutex
	m      map[string]persona
	byData map[uint64]persona // personas of requests that carry them as data (fromData)
}

// get returns the persona of a system prompt, read once per distinct set of persona lines.
func (c *personaCache) get(system string) persona {
	lines := personaLines(system)
	key := strings.Join(lines, "\n")
	c.mu.Lock()
	p, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return p
	}
	p = personaOf(lines)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedPersonas {
		c.m = make(map[string]persona)
	}
	c.m[key] = p
	c.mu.Unlock()
	return p
}

// addLine adds the facts of one persona line.
func (p *persona) addLine(l string) {
	key, rest, ok := strings.Cut(l, ":")
	if !ok || len(strings.Fields(key)) > 4 || strings.TrimSpace(rest) == "" {
		p.addSentences(l, nil)
		return
	}
	key = strings.ToLower(strings.TrimSpace(key))
	segments := strings.Split(rest, "|")
	switch key {
	case "name", "nickname":
		p.name = strings.TrimSpace(rest)
		return
	case "about me", "bio", "about":
		p.addSentences(rest, nil)
		return
	}
	label := strings.TrimSpace(segments[0])
	if i := strings.Index(label, "(confidence"); i >= 0 {
		label = strings.TrimSpace(label[:i])
	}
	texts := segments[1:]
	if len(texts) == 0 {
		// "Key: text" with no segments: the key is the label, the rest the text.
		label, texts = strings.TrimSpace(key), segments
	}
	if label != "" {
		p.addLabel(label, key == "memory")
	}
	extra := termSet(label)
	var sentences []string
	for _, s := range texts {
		s = strings.TrimSpace(s)
		if k, topics, ok := strings.Cut(s, ":"); ok && isTopicsKey(k) {
			eachTerm(topics, func(t, _ string) { extra[t] = true })
			continue
		}
		sentences = append(sentences, s)
	}
	for _, s := range sentences {
		p.addSentences(s, extra)
	}
}

// addLabel adds the name of a facet, or of a memory (proper) whose name is a subject to say as written.
func (p *persona) addLabel(label string, proper bool) {
	p.labels = append(p.labels, label)
	if proper {
		if p.proper == nil {
			p.proper = make(map[string]bool)
		}
		p.proper[label] = true
	}
}

// addSentences adds each sentence of text as a fact.
func (p *persona) addSentences(text string, extra map[string]bool) {
	for _, s := range splitSentences(text) {
		own := termSet(s)
		if len(own) == 0 && len(extra) == 0 {
			continue
		}
		p.facts = append(p.facts, fact{text: s, own: own, extra: extra})
	}
}

// isTopicsKey reports whether k names a list of keywords rather than a sentence.
func isTopicsKey(k string) bool {
	switch strings.ToLower(strings.TrimSpace(k)) {
	case "topics", "topic", "tags", "keywords", "interests":
		return true
	}
	return false
}

// headingSkipped reports whether the quoted lines under heading h are not about the person: a
// summary of the conversation, or a transcript.
func headingSkipped(h string) bool {
	if len(h) > 120 {
		return false // a paragraph, not a heading
	}
	h = strings.ToLower(h)
	for _, w := range []string{"summary", "conversation", "transcript", "dialog", "history"} {
		if strings.Contains(h, w) {
			return true
		}
	}
	return false
}

// isHeading reports whether l is a heading: Markdown, or a short line ending with a colon.
func isHeading(l string) bool {
	return strings.HasPrefix(l, "#") || (strings.HasSuffix(l, ":") && len(strings.Fields(l)) <= 10)
}

// isInstruction reports whether l reads as an instruction to the model rather than a fact.
func isInstruction(l string) bool {
	first, _, _ := strings.Cut(strings.ToLower(stripBullet(l)), " ")
	switch strings.TrimRight(first, ",.:;") {
	case "you", "never", "do", "don't", "always", "ignore", "stay", "keep", "reply", "answer", "respond",
		"speak", "if", "treat", "refuse", "only", "be", "use", "write", "rules", "return", "output":
		return true
	}
	return false
}

// stripBullet removes a list marker ("- ", "* ", "• ", "1. ", "2) ") from the start of l.
func stripBullet(l string) string {
	for _, m := range []string{"- ", "* ", "• "} {
		if strings.HasPrefix(l, m) {
			return strings.TrimSpace(l[len(m):])
		}
	}
	i := 0
	for i < len(l) && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	if i > 0 && i+1 < len(l) && (l[i] == '.' || l[i] == ')') && l[i+1] == ' ' {
		return strings.TrimSpace(l[i+2:])
	}
	return l
}

// splitSentences splits text after ".", "!", "?" followed by a space, and after "。", "！", "？".
func splitSentences(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		end := 0
		switch r {
		case '。', '！', '？':
			end = i + utf8.RuneLen(r)
		case '.', '!', '?':
			if i+1 < len(text) && text[i+1] == ' ' {
				end = i + 1
			}
		}
		if end > 0 {
			if s := strings.TrimSpace(text[start:end]); s != "" {
				out = append(out, s)
			}
			start = end
		}
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// clip cuts s to at most n runes at a word boundary, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRightFunc(cut, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
}

// firstPerson rewrites a sentence about the person in the first person, as a twin speaks of itself:
// second person ("You love hiking; your dog comes along" -> "I love hiking; my dog comes along"), third
// person ("She enjoys machines with her sister" -> "I enjoy machines with my sister"), a sentence
// without a subject ("Writes poetry" -> "I write poetry"), and the verbs that share its subject
// ("Plays piano and thinks in chords" -> "I play piano and think in chords").
func firstPerson(s string) string {
	return coordinatedVerbs(subjectFirst(thirdToFirst(secondToFirst(s))))
}

// subjectFirst rewrites a sentence that starts with "she", "he" or "they" and a verb, or with a
// capitalised verb alone (present or past, perhaps after an adverb: "Still plays bass"), to start
// with "I" and the verb's first-person form. Only common verbs are known, so that a sentence starting
// with a plural noun ("Dogs make me happy") is left alone.
func subjectFirst(s string) string {
	first, rest, _ := strings.Cut(s, " ")
	switch strings.ToLower(first) {
	case "she", "he", "they":
		verb, tail, _ := strings.Cut(rest, " ")
		if base, ok := baseVerb(strings.ToLower(verb)); ok {
			return strings.TrimSpace("I " + base + " " + tail)
		}
		return s
	}
	if rest == "" || first == "" || !unicode.IsUpper(rune(first[0])) {
		return s
	}
	lower := strings.ToLower(first)
	if adverbs[lower] {
		verb, tail, _ := strings.Cut(rest, " ")
		if base, ok := baseVerb(verb); ok && base != verb && tail != "" {
			return "I " + lower + " " + base + " " + tail
		}
		return s
	}
	if base, ok := baseVerb(lower); ok && base != lower {
		return "I " + base + " " + rest
	}
	// A past tense before a capital is more likely a participle ("Trained Carnatic singer").
	if r, _ := utf8.DecodeRuneInString(rest); pastVerb(lower) && !unicode.IsUpper(r) {
		return "I " + lower + " " + rest
	}
	return s
}

// coordinatedVerbs puts in the first person the verbs of a sentence that starts with "I" and goes on
// with more verbs of the same subject: after "and", "or", "but", a comma or a semicolon ("I play
// piano, teach and thinks in chords" -> "... and think ..."). A verb counts only when a word follows
// it, so that a list of plural nouns ("walks and rides.") is left alone. After a subject of its own
// ("who", "she", "the band ...") the clause is left alone up to the next semicolon, where a clause
// that starts with a verb takes up the person again.
func coordinatedVerbs(s string) string {
	if !strings.HasPrefix(s, "I ") {
		return s
	}
	words := strings.Split(s, " ")
	own := true // the clause's subject is the person
	for i := 2; i < len(words); i++ {
		prev := words[i-1]
		lead, core, trail := splitPunct(words[i])
		lower := strings.ToLower(core)
		if strings.HasSuffix(prev, ";") {
			own = false
			j := i
			for j < len(words)-1 && adverbs[strings.ToLower(words[j])] {
				j++
			}
			if base, ok := baseVerb(words[j]); ok && base != words[j] {
				own = true
			}
		}
		if !own {
			continue
		}
		switch lower {
		case "who", "which", "whose", "she", "he", "they", "it", "we", "you":
			own = false
			continue
		}
		p := strings.ToLower(strings.TrimRight(prev, ",;"))
		joined := strings.HasSuffix(prev, ",") || strings.HasSuffix(prev, ";") || coordinators[p] ||
			adverbs[p] && i >= 2 && (coordinators[strings.ToLower(words[i-2])] || strings.HasSuffix(words[i-2], ",") || strings.HasSuffix(words[i-2], ";"))
		if !joined || lead != "" || trail != "" || i+1 >= len(words) || coordinators[strings.ToLower(words[i+1])] {
			continue
		}
		if base, ok := baseVerb(core); ok && base != core {
			words[i] = base
		}
	}
	return strings.Join(words, " ")
}

// coordinators join two verbs of one subject.
var coordinators = map[string]bool{"and": true, "or": true, "but": true, "then": true}

// adverbs are the adverbs that may stand between a subject and its verb.
var adverbs = map[string]bool{"still": true, "often": true, "sometimes": true, "also": true, "always": true,
	"never": true, "usually": true, "mostly": true, "rarely": true, "just": true, "really": true, "secretly": true,
	"now": true, "occasionally": true}

// modals are verb forms that are the same in the first person as in the third.
var modals = map[string]bool{"can": true, "cannot": true, "can't": true, "could": true, "will": true, "would": true,
	"should": true, "may": true, "might": true, "must": true, "did": true, "didn't": true, "won't": true, "was": true,
	"wasn't": true, "had": true, "used": true}

// thirdToFirst rewrites "she" or "he" (and "her" or "his" before a noun, "herself" or "himself") in
// the first person, with the verb after the subject: "when she cannot sleep" -> "when I cannot sleep",
// "she builds" -> "I build", "Her grandmother" -> "My grandmother". A sentence whose subject pronouns
// are of both genders, or that has "her" and "his" without a subject pronoun, speaks of someone else
// too and is left alone; so is one whose subject pronoun is followed by no verb it knows. An object
// "her" ("letters to her", "wears her down") is taken to be someone else and left alone.
func thirdToFirst(s string) string {
	words := strings.Split(s, " ")
	var she, he, her, his bool
	for _, w := range words {
		_, core, _ := splitPunct(w)
		switch strings.ToLower(core) {
		case "she":
			she = true
		case "he":
			he = true
		case "her", "herself":
			her = true
		case "his", "himself":
			his = true
		}
	}
	var subject, possessive, reflexive string
	switch {
	case she && he, !she && !he && her && his:
		return s
	case she || !he && her:
		subject, possessive, reflexive = "she", "her", "herself"
	case he || his:
		subject, possessive, reflexive = "he", "his", "himself"
	default:
		return s
	}
	out := slices.Clone(words)
	for i := 0; i < len(words); i++ {
		lead, core, trail := splitPunct(words[i])
		upper := core != "" && unicode.IsUpper(rune(core[0]))
		switch strings.ToLower(core) {
		case subject:
			if trail != "" || i+1 >= len(words) {
				return s
			}
			if strings.ToLower(words[i+1]) == "and" && i+3 < len(words) && strings.ToLower(words[i+2]) == possessive {
				// "she and her partner split" -> "my partner and I split"
				l2, noun, t2 := splitPunct(words[i+3])
				if l2 == "" && t2 == "" {
					out[i], out[i+1], out[i+2], out[i+3] = lead+capital("my", upper), noun, "and", "I"
					i += 3
					continue
				}
			}
			j := i + 1
			for j < len(words)-1 && adverbs[strings.ToLower(words[j])] {
				j++
			}
			_, verb, vtrail := splitPunct(words[j])
			lv := strings.ToLower(verb)
			switch base, ok := baseVerb(lv); {
			case modals[lv]:
			case ok && base != lv:
				out[j] = base + vtrail
			default:
				return s
			}
			out[i] = lead + "I" + trail
		case possessive:
			if trail != "" || i+1 >= len(words) {
				continue
			}
			l2, next, _ := splitPunct(words[i+1])
			if next == "" || l2 != "" || objectFollowers[strings.ToLower(next)] ||
				knownVerbs[strings.ToLower(next)] && strings.ToLower(next) != "own" {
				continue
			}
			out[i] = lead + capital("my", upper) + trail
		case reflexive:
			out[i] = lead + capital("myself", upper) + trail
		}
	}
	return strings.Join(out, " ")
}

// objectFollowers are words after which "her" is an object ("wears her down", "to her and"), not a
// possessive.
var objectFollowers = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`down up out off in on at to from with for about into over back away and or but
	a an the that this these those how what when why where who faster more less most least again too so as than
	if because while`) {
		m[w] = true
	}
	return m
}()

// capital returns w with its first letter upper case when upper is set.
func capital(w string, upper bool) string {
	if !upper {
		return w
	}
	return strings.ToUpper(w[:1]) + w[1:]
}

// pastVerb reports whether w is the past tense of a known verb ("learned", "studied", "wrote").
func pastVerb(w string) bool {
	if irregularPast[w] {
		return true
	}
	if !strings.HasSuffix(w, "ed") || len(w) < 4 {
		return false
	}
	stem := w[:len(w)-2]
	n := len(stem)
	return knownVerbs[stem] || knownVerbs[stem+"e"] ||
		strings.HasSuffix(stem, "i") && knownVerbs[stem[:n-1]+"y"] ||
		n >= 2 && stem[n-1] == stem[n-2] && knownVerbs[stem[:n-1]]
}

// irregularPast are the past tenses of known irregular verbs.
var irregularPast = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`wrote ran lost grew taught made spent built found took went became began sang won
	kept left met fought bought brought drew swam rode sold thought felt led gave flew`) {
		m[w] = true
	}
	return m
}()

// baseVerb returns the first-person form of a verb of a sentence about someone ("enjoys" -> "enjoy",
// "is" -> "am") and whether the verb is known.
func baseVerb(w string) (string, bool) {
	switch w {
	case "is":
		return "am", true
	case "has":
		return "have", true
	case "does":
		return "do", true
	case "goes":
		return "go", true
	case "was":
		return "was", true
	}
	base := w
	switch {
	case strings.HasSuffix(w, "ies"):
		base = w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "sses"):
		base = w[:len(w)-2]
	case strings.HasSuffix(w, "s"):
		base = w[:len(w)-1]
	}
	return base, knownVerbs[base]
}

// knownVerbs are common verbs of what people say about themselves.
var knownVerbs = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(`love like enjoy adore build write work live play read cook run hike travel
	make spend keep collect paint teach study prefer value believe care want need dream think feel try tend seek
	find take watch listen sing dance draw design code garden grow bake swim climb ski surf explore learn speak
	volunteer help lead organise organize plan create fix tinker dislike hate avoid practice practise follow
	support ride cycle visit know own use mentor coach host walk jog train compose produce photograph film
	brew knit sew craft invest trade manage start gig transcribe feed argue perform boulder project worry
	publish fight save rewatch ship fund treat race experiment cover review rewrite found raise journal miss
	tend win show stop advise research balance translate finish boil perfect wear split negotiate doubt dread
	move burn learn lose watch sell teach spend sing rate collect wait judge fish sail row set get belong`) {
		m[w] = true
	}
	return m
}()

// secondToFirst rewrites second person in the first person.
func secondToFirst(s string) string {
	if !strings.Contains(s, "you") && !strings.Contains(s, "You") && !strings.Contains(s, "YOU") {
		return s
	}
	words := strings.Split(s, " ")
	for i := 0; i < len(words); i++ {
		lead, core, trail := splitPunct(words[i])
		lower := strings.ToLower(strings.ReplaceAll(core, "’", "'"))
		var repl string
		switch lower {
		case "you're":
			repl = "I'm"
		case "you've":
			repl = "I've"
		case "you'll":
			repl = "I'll"
		case "you'd":
			repl = "I'd"
		case "your":
			repl = "my"
		case "yours":
			repl = "mine"
		case "yourself":
			repl = "myself"
		case "you":
			subject := i == 0 || trail == "" && i+1 < len(words) && isVerbAfterSubject(words[i+1]) ||
				strings.HasSuffix(words[i-1], ".") || subjectAfter[strings.ToLower(strings.Trim(words[i-1], ",;:"))]
			repl = "me"
			if subject {
				repl = "I"
				if trail == "" && i+1 < len(words) {
					switch strings.ToLower(words[i+1]) {
					case "are":
						words[i+1] = "am"
					case "were":
						words[i+1] = "was"
					}
				}
			}
		default:
			continue
		}
		if repl != "I" && repl[0] != 'I' && core != "" && unicode.IsUpper(rune(core[0])) {
			repl = strings.ToUpper(repl[:1]) + repl[1:]
		}
		words[i] = lead + repl + trail
	}
	return strings.Join(words, " ")
}

// subjectAfter are words after which "you" is the subject of a clause.
var subjectAfter = map[string]bool{"and": true, "but": true, "or": true, "that": true, "when": true, "if": true,
	"because": true, "so": true, "while": true, "where": true, "since": true, "as": true, "though": true}

// isVerbAfterSubject reports whether w is a verb form that follows a subject "you".
func isVerbAfterSubject(w string) bool {
	switch strings.ToLower(w) {
	case "are", "were", "have", "had", "do", "did", "can", "could", "will", "would", "should", "may", "might",
		"must", "love", "like", "enjoy", "tend", "often", "always", "never", "feel", "think", "believe", "value":
		return true
	}
	return false
}

// splitPunct splits a word into leading punctuation, the word, and trailing punctuation.
func splitPunct(w string) (lead, core, trail string) {
	start := strings.IndexFunc(w, func(r rune) bool { return unicode.IsLetter(r) || r == '\'' || r == '’' })
	if start < 0 {
		return w, "", ""
	}
	end := strings.LastIndexFunc(w, unicode.IsLetter)
	_, size := utf8.DecodeRuneInString(w[end:])
	return w[:start], w[start : end+size], w[end+size:]
}
