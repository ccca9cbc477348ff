package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// interests are the common topics; rarer ones are drawn from a long Zipf tail of made-up hobbies.
var interests = strings.Fields(`hiking climbing jazz piano guitar cooking baking chess travel photography
painting poetry running cycling yoga gardening startups robotics astronomy history philosophy cinema anime
football tennis swimming coffee wine sailing knitting podcasts volunteering languages dance theatre
economics birdwatching camping surfing skiing fishing pottery calligraphy meditation parenting design
writing reading science math teaching nursing medicine law architecture fashion makeup gaming boardgames
crossword sudoku opera rock metal techno vinyl museums charity dogs cats horses cars motorcycles`)

var facets = []string{"Music Lover", "Trail Runner", "Home Cook", "Bookworm", "Tech Tinkerer", "Globetrotter",
	"Night Owl", "Early Bird", "Good Listener", "Storyteller", "Team Player", "Quiet Thinker", "Outgoing Host",
	"Patient Teacher", "Curious Learner", "Weekend Artist", "Planner", "Free Spirit", "Animal Person", "Gamer"}

var confidences = []string{store.ConfidenceVeryHigh, store.ConfidenceHigh, store.ConfidenceMedium,
	store.ConfidenceLow, store.ConfidenceVeryLow}

// generator makes synthetic people: 3 to 6 shades each (one in five private), 2 to 5 topics per
// shade from a Zipf distribution over the common interests and a long tail of 5,000 rarer ones, a
// facet name and a two-sentence description.
type generator struct {
	r    *rand.Rand
	zipf *rand.Zipf
	at   time.Time
}

func newGenerator(seed uint64) *generator {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &generator{r: r, zipf: rand.NewZipf(r, 1.15, 8, uint64(len(interests)+5000-1)), at: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (g *generator) topic() string {
	n := int(g.zipf.Uint64())
	if n < len(interests) {
		return interests[n]
	}
	return fmt.Sprintf("hobby%04d", n-len(interests))
}

func (g *generator) shades() []store.Shade {
	n := 3 + g.r.IntN(4)
	out := make([]store.Shade, 0, n)
	for range n {
		topics := make([]string, 2+g.r.IntN(4))
		for i := range topics {
			topics[i] = g.topic()
		}
		name := facets[g.r.IntN(len(facets))]
		desc := fmt.Sprintf("Spends free time on %s and %s. Friends know them for %s.", topics[0], topics[len(topics)-1], strings.ToLower(name))
		sh := store.Shade{ID: id.New(), Name: name, Confidence: confidences[g.r.IntN(len(confidences))], Description: desc, Topics: topics}
		if g.r.IntN(5) > 0 {
			sh.Public = &store.PublicShade{Name: name, Description: desc, Topics: topics}
		}
		out = append(out, sh)
	}
	return out
}

// person returns a discoverable person whose profile last changed at the generator's start time.
func (g *generator) person(i int) store.User {
	return store.User{ID: id.At(g.at.Add(time.Duration(i) * time.Millisecond)), Nickname: fmt.Sprint("Person ", i),
		Discoverable: true, AllowTwinChat: true, Shades: g.shades(), ProfileVersion: 1, ProfileChangedAt: g.at, CreatedAt: g.at, UpdatedAt: g.at}
}

// population returns n people.
func (g *generator) population(n int) []store.User {
	out := make([]store.User, n)
	for i := range out {
		out[i] = g.person(i)
	}
	return out
}
