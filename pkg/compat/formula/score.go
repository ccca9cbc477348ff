package formula

import (
	"math"
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
