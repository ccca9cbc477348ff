package formula

import (
	"math"
	"slices"
	"strings"

	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/terms"
)

// Caps on the size of a feature vector, so that a pair is scored in bounded time however long the
// shades are: the heaviest terms are kept.
const (
	maxTopicTerms = 128
	maxFacetTerms = 64
	maxTextTerms  = 64
)

// confidenceWeight maps a shade's confidence to the weight of its terms.
var confidenceWeight = map[string]float64{
	store.ConfidenceVeryHigh: 1.0,
	store.ConfidenceHigh:     0.8,
	store.ConfidenceMedium:   0.6,
	store.ConfidenceLow:      0.4,
	store.ConfidenceVeryLow:  0.2,
}

// defaultWeight is the weight of a shade without a known confidence.
const defaultWeight = 0.5

// term is one entry of a feature vector: a term id (a hash of the normalised term), its weight, and
// the shade it came from (the heaviest one, when several share it).
type term struct {
	id    uint64
	w     float64
	shade int32
}

// Features is a person's compatibility feature vector, computed once from their PUBLIC shades and
// then scored against many others without allocating. Private shades and private fields never enter it.
type Features struct {
	// UserID and Nickname name the person in reasons.
	UserID   string
	Nickname string
	// Version is the profile version the features were computed from.
	Version int64

	topics, facets, text []term // sorted by id
	topicMass, facetMass float64
	traits               uint64

	// For reasons only (never read in the pair loop).
	shadeNames  []string
	names       map[uint64]termName
	traitShade  map[int]int32 // trait bit -> shade
	publicCount int
}

// NewFeatures computes the features of a person from the public fields of their shades.
func NewFeatures(u store.User) *Features {
	f := &Features{UserID: u.ID, Nickname: u.Nickname, Version: u.ProfileVersion,
		names: make(map[uint64]termName), traitShade: make(map[int]int32)}
	topics := newAccumulator()
	facets := newAccumulator()
	text := newAccumulator()
	for _, sh := range u.Shades {
		if sh.Public == nil {
			continue
		}
		p := sh.Public
		name := p.Name
		if name == "" {
			name = sh.Name // as prompt.PersonaOf: a shade's name is never private
		}
		si := int32(len(f.shadeNames))
		f.shadeNames = append(f.shadeNames, strings.Join(strings.Fields(name), " "))
		f.publicCount++
		w, ok := confidenceWeight[sh.Confidence]
		if !ok {
			w = defaultWeight
		}
		for _, t := range p.Topics {
			f.addWords(t, func(id uint64) { topics.max(id, w, si) }, si)
		}
		f.addWords(name, func(id uint64) { facets.max(id, w, si) }, si)
		f.addWords(p.Description, func(id uint64) { text.add(id, w, si) }, si)
		f.addWords(p.Content, func(id uint64) { text.add(id, w, si) }, si)
	}
	f.topics, f.topicMass = topics.vector(maxTopicTerms)
	f.facets, f.facetMass = facets.vector(maxFacetTerms)
	f.text, _ = text.vector(maxTextTerms)
	normalize(f.text)
	return f
}

// addWords feeds the terms of s to add, records how each term was written, and sets trait bits.
func (f *Features) addWords(s string, add func(uint64), shade int32) {
	terms.Each(s, func(t, raw string) {
		id := termID(t)
		add(id)
		if _, ok := f.names[id]; !ok {
			f.names[id] = termName{stem: t, word: strings.ToLower(raw)}
		}
		if b, ok := traitBit[t]; ok {
			for bit := 0; bit < 64; bit++ {
				if b&(1<<uint(bit)) != 0 && f.traits&(1<<uint(bit)) == 0 {
					f.traits |= 1 << uint(bit)
					f.traitShade[bit] = shade
				}
			}
		}
	})
}

// ShadeNames returns the names of the person's public shades as they wrote them (spacing tidied), in
// profile order: the names reasons quote.
func (f *Features) ShadeNames() []string { return slices.Clone(f.shadeNames) }

// TopicTerms returns the normalised terms of the person's public topics and shade names, heaviest
// first, each once: what the candidate index stores for them.
func (f *Features) TopicTerms() []string {
	all := make([]term, 0, len(f.topics)+len(f.facets))
	all = append(all, f.topics...)
	all = append(all, f.facets...)
	slices.SortStableFunc(all, func(x, y term) int {
		switch {
		case x.w > y.w:
			return -1
		case x.w < y.w:
			return 1
		}
		return strings.Compare(f.names[x.id].stem, f.names[y.id].stem)
	})
	out := make([]string, 0, len(all))
	seen := make(map[uint64]bool, len(all))
	for _, t := range all {
		if !seen[t.id] {
			seen[t.id] = true
			out = append(out, f.names[t.id].stem)
		}
	}
	return out
}

// termName is how a term is indexed (its stem) and how the person wrote it (for reasons).
type termName struct{ stem, word string }

// termID is the id of a normalised term: its 64-bit FNV-1a hash, the same in every process.
func termID(t string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(t); i++ {
		h ^= uint64(t[i])
		h *= 1099511628211
	}
	return h
}

// accumulator gathers term weights before they become a sorted vector.
type accumulator struct {
	w     map[uint64]float64
	shade map[uint64]int32
}

func newAccumulator() *accumulator {
	return &accumulator{w: make(map[uint64]float64), shade: make(map[uint64]int32)}
}

// max keeps the largest weight seen for a term, and the shade it came from.
func (a *accumulator) max(id uint64, w float64, shade int32) {
	if old, ok := a.w[id]; !ok || w > old {
		a.w[id] = w
		a.shade[id] = shade
	}
}

// add sums the weights of a term (term frequency, weighted by confidence); the shade is the first one.
func (a *accumulator) add(id uint64, w float64, shade int32) {
	old, ok := a.w[id]
	if !ok {
		a.shade[id] = shade
	}
	a.w[id] = old + w
}

// vector returns the heaviest limit terms sorted by id, and the sum of their weights.
func (a *accumulator) vector(limit int) ([]term, float64) {
	v := make([]term, 0, len(a.w))
	for id, w := range a.w {
		v = append(v, term{id: id, w: w, shade: a.shade[id]})
	}
	if len(v) > limit {
		slices.SortFunc(v, func(x, y term) int {
			switch {
			case x.w > y.w:
				return -1
			case x.w < y.w:
				return 1
			case x.id < y.id:
				return -1
			case x.id > y.id:
				return 1
			}
			return 0
		})
		v = v[:limit]
	}
	slices.SortFunc(v, func(x, y term) int {
		switch {
		case x.id < y.id:
			return -1
		case x.id > y.id:
			return 1
		}
		return 0
	})
	mass := 0.0
	for _, t := range v {
		mass += t.w
	}
	return v, mass
}

// normalize scales v to unit length (for cosine similarity).
func normalize(v []term) {
	sum := 0.0
	for _, t := range v {
		sum += t.w * t.w
	}
	if sum == 0 {
		return
	}
	n := math.Sqrt(sum)
	for i := range v {
		v[i].w /= n
	}
}
