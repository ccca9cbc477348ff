package formula

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Version is the version of the formula below. A stored match computed with another version is stale
// and is computed again.
const Version = "det-1"

// The deterministic score of two people A and B, from their public shades only:
//
//	topics     = sqrt(2S / (2S + U + k))  over normalised topic terms
//	facets     = the same over the normalised words of the shade names
//	text       = sqrt(cos(tA, tB))        TF vectors of the shade descriptions and contents
//	complement = min(1, c / 2)            c = pairs of complementary traits (listener/storyteller, ...)
//	score      = round(100 * (0.40 topics + 0.15 facets + 0.30 text + 0.15 complement))
//
// A term's weight is its shade's confidence (VERY_HIGH 1.0, HIGH 0.8, MEDIUM 0.6, LOW 0.4, VERY_LOW
// 0.2; the largest when several shades name it). S sums sqrt(wA*wB) over the terms both have; U sums
// the weights of the terms only one of them has; k = 0.5 keeps a single shared term from counting as a
// perfect match. The square roots spread the typical small values over the scale. Every part lies in
// [0, 1], is symmetric in A and B, grows with every shared term (S grows, U does not), and is
// computed by merge-joins over vectors sorted by term id.
const (
	weightTopics     = 0.40
	weightFacets     = 0.15
	weightText       = 0.30
	weightComplement = 0.15
	smoothing        = 0.5
	complementFull   = 2
)

// Points are the parts of a deterministic score, each in [0, 1].
type Points struct {
	Topics, Facets, Text, Complement float64
}

// Total returns the deterministic score, 0-100.
func (p Points) Total() int {
	t := weightTopics*p.Topics + weightFacets*p.Facets + weightText*p.Text + weightComplement*p.Complement
	return int(math.Round(100 * min(1, max(0, t))))
}

// Score returns the parts of the deterministic score of a pair. It is symmetric, does not allocate,
// and is meant for hot loops over many pairs.
func Score(a, b *Features) Points {
	return Points{
		Topics:     overlap(a.topics, b.topics, a.topicMass, b.topicMass),
		Facets:     overlap(a.facets, b.facets, a.facetMass, b.facetMass),
		Text:       math.Sqrt(max(0, min(1, dot(a.text, b.text)))),
		Complement: min(1, float64(complementCount(a.traits, b.traits))/complementFull),
	}
}

// overlap is sqrt(2S / (2S + U + k)) of two weighted term vectors sorted by id.
func overlap(a, b []term, massA, massB float64) float64 {
	var s, sharedA, sharedB float64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].id < b[j].id:
			i++
		case a[i].id > b[j].id:
			j++
		default:
			s += math.Sqrt(a[i].w * b[j].w)
			sharedA += a[i].w
			sharedB += b[j].w
			i++
			j++
		}
	}
	if s == 0 {
		return 0
	}
	u := max(0, massA-sharedA) + max(0, massB-sharedB)
	return math.Sqrt(2 * s / (2*s + u + smoothing))
}

// dot is the dot product of two term vectors sorted by id.
func dot(a, b []term) float64 {
	var s float64
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i].id < b[j].id:
			i++
		case a[i].id > b[j].id:
			j++
		default:
			s += a[i].w * b[j].w
			i++
			j++
		}
	}
	return s
}

// Result is a deterministic score with the reasons for it.
type Result struct {
	Score  int
	Points Points
	// Reasons name the shades they come from, for the reader.
	Reasons []string
	// Challenges say what keeps the score down.
	Challenges []string
	// Summary is one sentence about the score.
	Summary string
}

// maxReasons caps the shared terms named in reasons.
const maxReasons = 3

// Explain scores a pair and says why, naming the shades each reason comes from. It is slower than
// Score (it allocates) and is meant for the one pair being stored.
func Explain(a, b *Features) Result {
	p := Score(a, b)
	r := Result{Score: p.Total(), Points: p}
	shared := sharedTerms(a.topics, b.topics)
	for _, st := range shared[:min(len(shared), maxReasons)] {
		r.Reasons = append(r.Reasons, fmt.Sprintf("Both mention %q: %s's %q and %s's %q", a.names[st.id].word,
			a.Nickname, a.shadeNames[st.shadeA], b.Nickname, b.shadeNames[st.shadeB]))
	}
	facets := sharedTerms(a.facets, b.facets)
	if len(facets) > 0 {
		st := facets[0]
		r.Reasons = append(r.Reasons, fmt.Sprintf("Similar facets: %s's %q and %s's %q", a.Nickname,
			a.shadeNames[st.shadeA], b.Nickname, b.shadeNames[st.shadeB]))
	}
	r.Reasons = append(r.Reasons, complementReasons(a, b)...)
	r.Reasons = append(r.Reasons, complementReasons(b, a)...)
	if p.Text >= 0.4 {
		words := sharedTerms(a.text, b.text)
		var ws []string
		for _, st := range words[:min(len(words), maxReasons)] {
			ws = append(ws, fmt.Sprintf("%q", a.names[st.id].word))
		}
		r.Reasons = append(r.Reasons, fmt.Sprintf("Their shades describe them in similar words (%s)", strings.Join(ws, ", ")))
	}
	switch {
	case a.publicCount == 0 || b.publicCount == 0:
		for _, f := range []*Features{a, b} {
			if f.publicCount == 0 {
				r.Challenges = append(r.Challenges, fmt.Sprintf("%s shares no public shades yet", f.Nickname))
			}
		}
	case len(shared) == 0:
		r.Challenges = append(r.Challenges, "No topics in common")
	}
	r.Summary = fmt.Sprintf("Profile score %d/100: shared topics %d, similar facets %d%%, similar wording %d%%, complementary traits %d.",
		r.Score, len(shared), pct(p.Facets), pct(p.Text), complementCount(a.traits, b.traits))
	return r
}

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

// complementReasons names the traits of a that complete traits of b, with their shades.
func complementReasons(a, b *Features) []string {
	var out []string
	for bit := 0; bit < 64; bit += 2 {
		if a.traits&(1<<uint(bit)) != 0 && b.traits&(1<<uint(bit+1)) != 0 {
			out = append(out, fmt.Sprintf("Complementary: %s's %q (%s) and %s's %q (%s)",
				a.Nickname, a.shadeNames[a.traitShade[bit]], traitWord(bit),
				b.Nickname, b.shadeNames[b.traitShade[bit+1]], traitWord(bit+1)))
		}
	}
	return out
}
