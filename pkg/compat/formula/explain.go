package formula

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/secondme/twin/pkg/lang"
	"github.com/secondme/twin/pkg/terms"
)

// Caps on what a match shows: a few distinct reasons read better than many that repeat each other.
const (
	MaxReasons    = 3
	MaxChallenges = 2
)

// Reason is one sentence of a match, with what it is made of, so that tests and callers can check it.
type Reason struct {
	// Text is the sentence shown to people.
	Text string
	// Stems are the normalised terms the reason is about; no two reasons of a Result share a stem
	// (or a stem that begins another, such as "poet" and "poetri").
	Stems []string
	// ShadeA and ShadeB are the public shade names of A and of B the reason comes from, as the
	// person wrote them ("" when the reason comes from one side only).
	ShadeA, ShadeB string
	// kind and words are what Text is written from, so that In can write it in another language.
	kind  reasonKind
	words []string
}

// Result is a deterministic score with the reasons for it.
type Result struct {
	Score  int
	Points Points
	// Reasons are what the two have in common or what completes each other, at most MaxReasons,
	// each naming the shades it comes from.
	Reasons []Reason
	// Challenges say what differs, at most MaxChallenges, as openers for a first conversation.
	Challenges []Reason
	// Summary is one sentence about the score: the score itself, then its parts labelled as parts.
	Summary string
}

// Explain scores a pair and says why, naming the shades each reason comes from. It is slower than
// Score (it allocates) and is meant for the one pair being stored.
//
// Highlights are picked, best first, from the terms both people use (topics, then shade names) and
// from complementary traits, one reason per pair of shades and per
// stem, so the same thing never shows twice ("cook" and "cooking"; a trait that restates a shared
// topic). Challenges name, for each side, the heaviest topic of one person that the other never
// mentions anywhere in their public shades, from a shade no highlight quotes when there is one.
func Explain(a, b *Features) Result {
	p := Score(a, b)
	r := Result{Score: p.Total(), Points: p}
	var used stemSet
	pairs := make(map[[2]int32]bool)
	quoted := [2]map[int32]bool{{}, {}} // shades of A and of B that highlights quote
	add := func(c Reason, sa, sb int32) {
		if len(r.Reasons) == MaxReasons || used.related(c.Stems) || pairs[[2]int32{sa, sb}] {
			return
		}
		used = append(used, c.Stems...)
		pairs[[2]int32{sa, sb}] = true
		quoted[0][sa], quoted[1][sb] = true, true
		r.Reasons = append(r.Reasons, c)
	}
	shared := func(x, y []term, kind reasonKind) []func() {
		var out []func()
		for _, st := range sharedTerms(x, y) {
			out = append(out, func() {
				n := a.names[st.id]
				sa, sb := a.shadeNames[st.shadeA], b.shadeNames[st.shadeB]
				add(newReason(kind, []string{n.stem}, sa, sb, n.word, a.Nickname, sa, b.Nickname, sb), st.shadeA, st.shadeB)
			})
		}
		return out
	}
	common := append(shared(a.topics, b.topics, sharedTopic), shared(a.facets, b.facets, sharedFacet)...)
	// Shared interests first (the heaviest part of the score), then traits that complete each other.
	// The words both use in their shade texts count in the score but make no reason: shared words
	// are mostly common ones ("plays", "small") and say little.
	order := append(common, traitReasons(a, b, add)...)
	for _, f := range order {
		f()
	}

	for _, f := range []*Features{b, a} {
		if f.publicCount == 0 && len(r.Challenges) < MaxChallenges {
			r.Challenges = append(r.Challenges, newReason(noPublicShades, nil, "", "", f.Nickname))
		}
	}
	if a.publicCount > 0 && b.publicCount > 0 {
		for i, side := range [][2]*Features{{b, a}, {a, b}} {
			if c, ok := difference(side[0], side[1], used, quoted[1-i], side[0] == a); ok && len(r.Challenges) < MaxChallenges {
				used = append(used, c.Stems...)
				r.Challenges = append(r.Challenges, c)
			}
		}
	}
	r.Summary = r.SummaryIn(lang.English)
	return r
}

// SummaryIn returns the Summary of r in a language (package lang).
func (r Result) SummaryIn(language string) string {
	p := r.Points
	if language == lang.Chinese {
		return fmt.Sprintf("个人资料得分 %d/100，来自公开的侧面；其中：共同话题 %d%%，侧面名称 %d%%，用词 %d%%，互补特质 %d%%。",
			r.Score, pct(p.Topics), pct(p.Facets), pct(p.Text), pct(p.Complement))
	}
	return fmt.Sprintf("Profile score %d/100 from public shades; its parts: shared topics %d%%, shade names %d%%, wording %d%%, complementary traits %d%%.",
		r.Score, pct(p.Topics), pct(p.Facets), pct(p.Text), pct(p.Complement))
}

// difference is a challenge: the heaviest topic of x that y never mentions in
// any public shade and that no reason so far is about, from a shade not in quoted when there is one.
// isA says whether x is A of the pair.
func difference(x, y *Features, used stemSet, quoted map[int32]bool, isA bool) (Reason, bool) {
	ts := slices.Clone(x.topics)
	slices.SortStableFunc(ts, func(s, t term) int {
		switch {
		case s.w > t.w:
			return -1
		case s.w < t.w:
			return 1
		}
		return strings.Compare(x.names[s.id].stem, x.names[t.id].stem)
	})
	// Shades no highlight quotes first: a challenge from a shade a highlight praises reads as a
	// contradiction.
	slices.SortStableFunc(ts, func(s, t term) int {
		switch {
		case !quoted[s.shade] && quoted[t.shade]:
			return -1
		case quoted[s.shade] && !quoted[t.shade]:
			return 1
		}
		return 0
	})
	for _, t := range ts {
		n := x.names[t.id]
		if y.mentions(n.stem) || used.related([]string{n.stem}) {
			continue
		}
		shade := x.shadeNames[t.shade]
		c := newReason(notMentioned, []string{n.stem}, "", "", x.Nickname, n.word, shade, y.Nickname)
		if isA {
			c.ShadeA = shade
		} else {
			c.ShadeB = shade
		}
		return c, true
	}
	return Reason{}, false
}

// mentions says whether stem, or a stem related to it, appears anywhere in the person's public shades.
func (f *Features) mentions(stem string) bool {
	if _, ok := f.names[termID(stem)]; ok {
		return true
	}
	for _, n := range f.names {
		if related(n.stem, stem) {
			return true
		}
	}
	return false
}

// traitReasons returns, for each trait of a completed by a trait of b (either way round), a step
// that adds the reason.
func traitReasons(a, b *Features, add func(Reason, int32, int32)) []func() {
	var out []func()
	for bit := 0; bit < 64; bit++ {
		other := bit ^ 1
		if a.traits&(1<<uint(bit)) == 0 || b.traits&(1<<uint(other)) == 0 {
			continue
		}
		out = append(out, func() {
			sa, sb := a.traitShade[bit], b.traitShade[other]
			na, nb := a.shadeNames[sa], b.shadeNames[sb]
			c := newReason(traitPair, traitStems(bit), na, nb, strconv.Itoa(bit), strconv.Itoa(other), a.Nickname, na, b.Nickname, nb)
			add(c, sa, sb)
		})
	}
	return out
}

// traitStems are the stems of both sides of a trait pair, so that a trait reason never restates a
// shared topic ("cook" shared, then "a cook and a foodie").
func traitStems(bit int) []string {
	var out []string
	for _, side := range complements[bit/2] {
		for _, w := range side {
			out = append(out, terms.Stem(w))
		}
	}
	return out
}

// stemSet is the stems the reasons so far are about.
type stemSet []string

// related says whether any of stems is, or is related to, a stem of the set.
func (s stemSet) related(stems []string) bool {
	for _, x := range stems {
		for _, y := range s {
			if related(x, y) {
				return true
			}
		}
	}
	return false
}

// related says whether two stems name the same thing: equal, or one begins the other and the shorter
// has at least 4 letters ("poet" and "poetri", "garden" and "gardener").
func related(x, y string) bool {
	if len(x) > len(y) {
		x, y = y, x
	}
	return x == y || (len(x) >= 4 && strings.HasPrefix(y, x))
}

// quote puts a shade name in double quotes, as the person wrote it.
func quote(s string) string { return `"` + s + `"` }

func pct(x float64) int { return int(math.Round(100 * x)) }

// sharedTerm is a term two vectors share, with the shades it comes from.
type sharedTerm struct {
	id             uint64
	w              float64
	shadeA, shadeB int32
}

// sharedTerms returns the terms a and b share, heaviest first.
func sharedTerms(a, b []term) []sharedTerm {
	var out []sharedTerm
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].id < b[j].id:
			i++
		case a[i].id > b[j].id:
			j++
		default:
			out = append(out, sharedTerm{id: a[i].id, w: a[i].w * b[j].w, shadeA: a[i].shade, shadeB: b[j].shade})
			i++
			j++
		}
	}
	slices.SortStableFunc(out, func(x, y sharedTerm) int {
		switch {
		case x.w > y.w:
			return -1
		case x.w < y.w:
			return 1
		}
		return 0
	})
	return out
}
