package offline

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/terms"
)

// maxOfflineItems is how many items the offline model puts in an array.
const maxOfflineItems = 3

// evidence is what the offline model reads out of a prompt that compares two personas: how much
// they overlap (0-1) and the words they share and do not share.
type evidence struct {
	score        float64
	nameA, nameB string
	shared       []string
	onlyA, onlyB []string
}

// section is a heading and the lines under it.
type section struct {
	heading string
	name    string
	body    strings.Builder
}

// weigh finds the two personas of a prompt (system text and messages) and measures their overlap.
// The personas are the first two sections that read as a profile: a section starts at a Markdown
// heading, at a short line ending with a colon, or at a second "Name:" line; sections about rules,
// formats, the conversation or a summary are not profiles. Without two profiles, the system text is
// compared with the messages. The score is the Dice coefficient of the two sets of terms raised to the
// power 0.75 (which spreads the low overlaps of real profiles): identical profiles score 1, disjoint ones 0.
func weigh(req llm.Request) evidence {
	var all strings.Builder
	all.WriteString(req.System)
	for _, m := range req.Messages {
		all.WriteString("\n" + m.Content)
	}
	if profiles := profileSections(all.String()); len(profiles) >= 2 {
		return compare(profiles[0].body.String(), profiles[1].body.String(), profiles[0].name, profiles[1].name)
	}
	b := ""
	for _, m := range req.Messages {
		b += m.Content + "\n"
	}
	return compare(req.System, b, "", "")
}

// compare measures the overlap of two profiles, a of the person named nameA and b of nameB.
func compare(a, b, nameA, nameB string) evidence {
	ev := evidence{nameA: nameA, nameB: nameB}
	countA, countB := make(map[string]int), make(map[string]int)
	forms := make(map[string]map[string]int) // term -> word -> count
	count := func(text string, into map[string]int) {
		eachTerm(text, func(t, w string) {
			if structural[t] {
				return
			}
			into[t]++
			if forms[t] == nil {
				forms[t] = make(map[string]int)
			}
			forms[t][strings.ToLower(w)]++
		})
	}
	count(a, countA)
	count(b, countB)
	// The commonest form names a term (then the shortest, then the first in order), whatever the
	// order of the profiles.
	words := make(map[string]string, len(forms))
	for t, ws := range forms {
		best := ""
		for w, n := range ws {
			if best == "" || cmp.Or(cmp.Compare(ws[best], n), cmp.Compare(len(w), len(best)), cmp.Compare(w, best)) < 0 {
				best = w
			}
		}
		words[t] = best
	}
	var shared, onlyA, onlyB []string
	for t := range countA {
		if countB[t] > 0 {
			shared = append(shared, t)
		} else if !mentions(countB, t) {
			onlyA = append(onlyA, t)
		}
	}
	for t := range countB {
		if countA[t] == 0 && !mentions(countA, t) {
			onlyB = append(onlyB, t)
		}
	}
	if n := len(countA) + len(countB); n > 0 {
		ev.score = math.Pow(2*float64(len(shared))/float64(n), 0.75)
	}
	byWeight := func(ts []string, weight func(string) int) []string {
		slices.SortFunc(ts, func(x, y string) int {
			return cmp.Or(cmp.Compare(weight(y), weight(x)), cmp.Compare(x, y))
		})
		// One word per thing: "teaches" and "teacher", "poet" and "poetry" are said once.
		out := make([]string, 0, maxOfflineItems)
		var kept []string
		for _, t := range ts {
			if len(out) == maxOfflineItems {
				break
			}
			if !slices.ContainsFunc(kept, func(k string) bool { return sameThing(k, t) }) {
				kept = append(kept, t)
				out = append(out, words[t])
			}
		}
		return out
	}
	ev.shared = byWeight(shared, func(t string) int { return countA[t] + countB[t] })
	ev.onlyA = byWeight(onlyA, func(t string) int { return countA[t] })
	ev.onlyB = byWeight(onlyB, func(t string) int { return countB[t] })
	return ev
}

// sameThing says whether two stems name the same thing: equal, or the shorter (4 letters at least)
// begins the longer ("teach" and "teacher").
func sameThing(x, y string) bool {
	if len(x) > len(y) {
		x, y = y, x
	}
	return x == y || len(x) >= 4 && strings.HasPrefix(y, x)
}

// mentions says whether counts holds a stem that names the same thing as t: a difference "only Ada
// mentions teaches" is not one when Bob mentions "teacher".
func mentions(counts map[string]int, t string) bool {
	for u := range counts {
		if sameThing(u, t) {
			return true
		}
	}
	return false
}

// structural are the stems of the words that structure a profile in a prompt ("Facet:", "topics:",
// "(no public facets)"); both profiles have them, so they say nothing about a match.
var structural = func() map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields("facet topics memory confidence name nickname profile quoted data public bio high medium low") {
		m[terms.Stem(w)] = true
	}
	return m
}()

// profileSections splits text into sections and returns those that read as a profile. A section
// starts at a heading: a Markdown heading, a short line ending with a colon, a line followed by quoted
// ("> ") lines (pkg/compat's "Person 1: Ada"), or a second "Name:" line. A heading "X: Ada" names its
// person Ada; so does a "Name: Ada" line.
func profileSections(text string) []*section {
	lines := strings.Split(text, "\n")
	quotedAfter := func(i int) bool {
		for _, l := range lines[i+1:] {
			if l = strings.TrimSpace(l); l != "" {
				return strings.HasPrefix(l, ">")
			}
		}
		return false
	}
	var sections []*section
	cur := &section{}
	hasName := false
	for i, raw := range lines {
		l := strings.TrimSpace(raw)
		quoted := strings.HasPrefix(l, ">")
		inner := strings.TrimSpace(strings.TrimPrefix(l, ">"))
		name, isName := "", false
		if k, v, ok := strings.Cut(inner, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "name") {
			name, isName = strings.TrimSpace(v), true
		}
		switch {
		case l != "" && !quoted && (isHeading(l) || quotedAfter(i)):
			sections = append(sections, cur)
			cur, hasName = &section{heading: l}, false
			if _, v, ok := strings.Cut(l, ":"); ok && v != "" && len(strings.Fields(v)) <= 6 {
				cur.name = strings.TrimSpace(v)
			}
			continue
		case isName && hasName:
			sections = append(sections, cur)
			cur = &section{heading: cur.heading}
		}
		if isName {
			cur.name, hasName = name, true
		}
		cur.body.WriteString(inner + "\n")
	}
	sections = append(sections, cur)
	var out []*section
	for _, s := range sections {
		if s.heading != "" && !notProfile(s.heading) && len(termSet(s.body.String())) >= 3 {
			out = append(out, s)
		}
	}
	return out
}

// notProfile reports whether a heading introduces something other than a person's profile.
func notProfile(h string) bool {
	h = strings.ToLower(h)
	for _, w := range []string{"rule", "instruction", "schema", "format", "output", "conversation", "transcript",
		"dialog", "summary", "task", "json", "answer", "reply", "respond", "history"} {
		if strings.Contains(h, w) {
			return true
		}
	}
	return false
}

// fillSchema returns a value valid for schema, derived from ev: numbers from the overlap score within
// the schema's bounds, strings from the evidence, arrays of up to three items. Property names pick
// the evidence: names like "challenges" or "risks" get what the personas do not share, others what
// they share; "reasoning" and other plain strings get a sentence that sums it up.
func fillSchema(schema map[string]any, ev evidence) any {
	return fill(schema, "", 0, ev, 0)
}

// fill returns a value for schema s of the property name, item index i.
func fill(s map[string]any, name string, i int, ev evidence, depth int) any {
	if depth > 16 {
		return nil
	}
	if v, ok := s["const"]; ok {
		return v
	}
	if enum := asSlice(s["enum"]); len(enum) > 0 {
		return enum[0]
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		if opts := asSlice(s[k]); len(opts) > 0 {
			if sub, ok := opts[0].(map[string]any); ok {
				return fill(sub, name, i, ev, depth+1)
			}
		}
	}
	switch schemaType(s) {
	case "object":
		props, _ := s["properties"].(map[string]any)
		out := make(map[string]any, len(props))
		for k, v := range props {
			if sub, ok := v.(map[string]any); ok {
				out[k] = fill(sub, k, 0, ev, depth+1)
			}
		}
		return out
	case "array":
		items, _ := s["items"].(map[string]any)
		if items == nil {
			items = map[string]any{"type": "string"}
		}
		n := max(min(len(phrases(name, ev)), maxOfflineItems), int(number(s["minItems"], 0)))
		if hi, ok := s["maxItems"]; ok {
			n = min(n, int(number(hi, 0)))
		}
		out := make([]any, n)
		for j := range out {
			out[j] = fill(items, name, j, ev, depth+1)
		}
		if unique, _ := s["uniqueItems"].(bool); unique {
			makeUnique(out, items)
		}
		return out
	case "integer":
		lo, hi := bounds(s, 0, 100)
		return int64(math.Round(lo + ev.score*(hi-lo)))
	case "number":
		lo, hi := bounds(s, 0, 1)
		return math.Round((lo+ev.score*(hi-lo))*100) / 100
	case "boolean":
		return ev.score >= 0.5
	case "null":
		return nil
	default:
		text := reasoning(ev)
		if name != "" && !isSummaryName(name) {
			if p := phrases(name, ev); i < len(p) {
				text = p[i]
			} else if i > 0 {
				text = fmt.Sprintf("No further evidence offline (%d).", i+1)
			}
		}
		return fitString(text, s)
	}
}

// makeUnique replaces repeated items (strings cut to a maxLength, equal scores) with variants:
// numbers counted up from the lower bound, strings numbered.
func makeUnique(items []any, schema map[string]any) {
	seen := make(map[string]bool)
	key := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	for j, v := range items {
		for try := 1; seen[key(v)] && try <= len(items); try++ {
			switch b := v.(type) {
			case string:
				v = fitString(strconv.Itoa(try), schema)
			case int64:
				lo, _ := bounds(schema, 0, 100)
				v = int64(lo) + int64(try-1)
			case float64:
				lo, _ := bounds(schema, 0, 1)
				v = lo + float64(try-1)
			case bool:
				v = !b
			}
		}
		seen[key(v)] = true
		items[j] = v
	}
}

// schemaType returns the type of s: its "type" (the first that is not "null" of a list), or what its
// keywords imply.
func schemaType(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	default:
		for _, v := range asSlice(t) {
			if v, ok := v.(string); ok && v != "null" {
				return v
			}
		}
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	if _, ok := s["items"]; ok {
		return "array"
	}
	return "string"
}

// bounds returns the inclusive range of a numeric schema, def when it sets none.
func bounds(s map[string]any, defLo, defHi float64) (float64, float64) {
	lo, hasLo := numberOK(s["minimum"])
	hi, hasHi := numberOK(s["maximum"])
	if v, ok := numberOK(s["exclusiveMinimum"]); ok {
		lo, hasLo = v+1, true
	}
	if v, ok := numberOK(s["exclusiveMaximum"]); ok {
		hi, hasHi = v-1, true
	}
	switch {
	case !hasLo && !hasHi:
		return defLo, defHi
	case !hasLo:
		lo = hi - (defHi - defLo)
	case !hasHi:
		hi = lo + (defHi - defLo)
	}
	return lo, max(lo, hi)
}

// isSummaryName reports whether a property asks for a sentence that sums up.
func isSummaryName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"reason", "summary", "explan", "rational", "verdict", "analysis", "comment"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// isDifferenceName reports whether a property asks for what sets the personas apart.
func isDifferenceName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"challenge", "risk", "concern", "differ", "weak", "con", "friction", "conflict", "warning"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// phrases returns the evidence phrases for a property: differences or shared ground.
func phrases(name string, ev evidence) []string {
	a, b := cmp.Or(ev.nameA, "one of them"), cmp.Or(ev.nameB, "the other")
	var out []string
	if isDifferenceName(name) {
		for j := 0; j < maxOfflineItems; j++ {
			switch {
			case j%2 == 0 && j/2 < len(ev.onlyA):
				out = append(out, "Only "+a+" mentions "+ev.onlyA[j/2]+".")
			case j%2 == 1 && j/2 < len(ev.onlyB):
				out = append(out, "Only "+b+" mentions "+ev.onlyB[j/2]+".")
			}
		}
		return out
	}
	for _, w := range ev.shared {
		out = append(out, "Both mention "+w+".")
	}
	return out
}

// reasoning sums the evidence up in a sentence.
func reasoning(ev evidence) string {
	var b strings.Builder
	if len(ev.shared) > 0 {
		b.WriteString("Both profiles mention " + joinList(ev.shared, "and"))
	} else {
		b.WriteString("The two profiles share no obvious interests")
	}
	if diff := append(slices.Clone(ev.onlyA[:min(len(ev.onlyA), 2)]), ev.onlyB[:min(len(ev.onlyB), 2)]...); len(diff) > 0 {
		b.WriteString("; they differ on " + joinList(diff, "and"))
	}
	b.WriteString(". An offline estimate from the overlap of the two profiles.")
	return b.String()
}

// fitString bounds text by the schema's minLength and maxLength (in runes).
func fitString(text string, s map[string]any) string {
	if hi, ok := numberOK(s["maxLength"]); ok && hi >= 1 {
		if r := []rune(text); len(r) > int(hi) {
			text = string(r[:int(hi)])
		}
	}
	if lo, ok := numberOK(s["minLength"]); ok {
		for n := len([]rune(text)); n < int(lo); n++ {
			text += "."
		}
	}
	return text
}

// asSlice returns v as a list when it is one.
func asSlice(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	return nil
}

// number returns v as a float64, def when it is not a number.
func number(v any, def float64) float64 {
	if f, ok := numberOK(v); ok {
		return f
	}
	return def
}

// numberOK returns v as a float64 and whether it is a number (Go numbers and json.Number both).
func numberOK(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}
