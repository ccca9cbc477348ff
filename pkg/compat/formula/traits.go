package formula

import (
	"math/bits"

	"github.com/secondme/twin/pkg/terms"
)

// complements lists pairs of traits that complete each other: a person with a trait on the left gets
// on well with a person with the matching trait on the right, and the other way round. Each side is a
// few words; a person has the trait when one of the words appears (stemmed) anywhere in their public
// shades. Pair i uses bits 2i (left) and 2i+1 (right) of Features.traits.
var complements = [][2][]string{
	{{"listener", "listening", "empathetic", "empathy"}, {"storyteller", "storytelling", "talker", "talkative", "expressive"}},
	{{"planner", "planning", "organized", "organised", "structured"}, {"spontaneous", "improvisation", "improviser", "flexible"}},
	{{"introvert", "introverted", "quiet", "reserved"}, {"extrovert", "extroverted", "outgoing", "sociable"}},
	{{"mentor", "mentoring", "teacher", "teaching", "coach"}, {"learner", "learning", "student", "curious", "curiosity"}},
	{{"cook", "cooking", "chef", "baker", "baking"}, {"foodie", "eater", "tasting", "gourmet"}},
	{{"leader", "leadership", "decisive"}, {"supporter", "supportive", "collaborator", "collaborative"}},
	{{"artist", "artistic", "creative", "creativity", "designer"}, {"engineer", "engineering", "analytical", "builder", "technical"}},
	{{"writer", "writing", "author", "poet"}, {"reader", "reading", "bookworm"}},
	{{"musician", "singer", "songwriter", "guitarist", "pianist"}, {"audience", "concertgoer", "gig", "fan"}},
	{{"calm", "patient", "steady", "grounded"}, {"energetic", "enthusiastic", "lively", "adventurous"}},
	{{"dreamer", "visionary", "idealist"}, {"pragmatic", "practical", "realist", "doer"}},
	{{"homebody", "cozy", "nesting"}, {"traveler", "traveller", "wanderer", "explorer"}},
}

// traitBit maps a stemmed trait word to its bit.
var traitBit = func() map[string]uint64 {
	m := make(map[string]uint64)
	for i, pair := range complements {
		for side, words := range pair {
			for _, w := range words {
				m[terms.Stem(w)] |= 1 << uint(2*i+side)
			}
		}
	}
	return m
}()

const (
	evenBits uint64 = 0x5555555555555555
	oddBits  uint64 = 0xAAAAAAAAAAAAAAAA
)

// partners returns the traits that complete the traits in t: each left bit becomes its right bit and
// each right bit its left bit. partners(partners(t)) == t, which makes complementCount symmetric.
func partners(t uint64) uint64 {
	return (t&evenBits)<<1 | (t&oddBits)>>1
}

// complementCount is the number of (trait of a, completing trait of b) pairs.
func complementCount(a, b uint64) int {
	return bits.OnesCount64(a & partners(b))
}

// traitWord is the first word listed for a trait bit, to name it in reasons.
func traitWord(bit int) string {
	return complements[bit/2][bit%2][0]
}
