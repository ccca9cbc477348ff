package formula_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/store"
)

var vocabulary = strings.Fields(`hiking climbing jazz piano cooking baking chess travel photography painting
poetry running cycling yoga gardening startups robotics astronomy history philosophy cinema anime football
tennis swimming coffee wine sailing knitting podcasts volunteering languages dance theatre economics
birdwatching camping surfing skiing fishing pottery calligraphy meditation`)

var confidences = []string{store.ConfidenceVeryHigh, store.ConfidenceHigh, store.ConfidenceMedium,
	store.ConfidenceLow, store.ConfidenceVeryLow}

// randomUser makes a person with up to 6 shades of random topics and texts, some of them private.
func randomUser(r *rand.Rand, id string) store.User {
	u := store.User{ID: id, Nickname: "P" + id, ProfileVersion: 1}
	for i := range r.IntN(7) {
		pick := func(n int) []string {
			var out []string
			for range n {
				out = append(out, vocabulary[r.IntN(len(vocabulary))])
			}
			return out
		}
		sh := store.Shade{ID: fmt.Sprint(i), Name: strings.Join(pick(2), " "), Confidence: confidences[r.IntN(len(confidences))],
			Description: "private " + strings.Join(pick(5), " "), Topics: pick(3)}
		if r.IntN(4) > 0 {
			sh.Public = &store.PublicShade{Name: strings.Join(pick(2), " ") + " lover", Description: strings.Join(pick(6), " "),
				Content: "I am a patient listener who likes " + strings.Join(pick(4), " and "), Topics: pick(1 + r.IntN(4))}
			if r.IntN(3) == 0 {
				sh.Public.Content += " and an outgoing storyteller"
			}
		}
		u.Shades = append(u.Shades, sh)
	}
	return u
}

func score(a, b store.User) int {
	return formula.Score(formula.NewFeatures(a), formula.NewFeatures(b)).Total()
}

func TestScoreSymmetricDeterministicBounded(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		a, b := randomUser(r, "a"), randomUser(r, "b")
		fa, fb := formula.NewFeatures(a), formula.NewFeatures(b)
		ab, ba := formula.Score(fa, fb), formula.Score(fb, fa)
		if ab != ba {
			t.Fatalf("pair %d: Score(a, b) = %+v, Score(b, a) = %+v", i, ab, ba)
		}
		if again := formula.Score(formula.NewFeatures(a), formula.NewFeatures(b)); again != ab {
			t.Fatalf("pair %d: second Score = %+v, first %+v", i, again, ab)
		}
		for name, p := range map[string]float64{"topics": ab.Topics, "facets": ab.Facets, "text": ab.Text, "complement": ab.Complement} {
			if p < 0 || p > 1 {
				t.Fatalf("pair %d: %s = %v, want within [0, 1]", i, name, p)
			}
		}
		if s := ab.Total(); s < 0 || s > 100 {
			t.Fatalf("pair %d: Total = %d, want 0-100", i, s)
		}
		if ea, eb := formula.Explain(fa, fb).Score, formula.Explain(fb, fa).Score; ea != ab.Total() || eb != ea {
			t.Fatalf("pair %d: Explain scores %d and %d, Score %d", i, ea, eb, ab.Total())
		}
	}
}

func shade(name, conf, text string, topics ...string) store.Shade {
	return store.Shade{Name: name, Confidence: conf, Public: &store.PublicShade{Name: name, Description: text, Topics: topics}}
}

var alice = store.User{ID: "a", Nickname: "Alice", Shades: []store.Shade{
	shade("Trail Runner", store.ConfidenceVeryHigh, "Runs mountain trails every weekend and trains for ultramarathons.", "trail running", "mountains", "ultramarathon"),
	shade("Jazz Pianist", store.ConfidenceHigh, "Plays jazz piano in a small band, loves improvisation.", "jazz", "piano", "improvisation"),
	shade("Good Listener", store.ConfidenceMedium, "Friends say she is a patient listener.", "friendship", "empathy"),
}}

var bob = store.User{ID: "b", Nickname: "Bob", Shades: []store.Shade{
	shade("Spreadsheet Wizard", store.ConfidenceVeryHigh, "Builds financial models for a bank.", "finance", "excel", "spreadsheets"),
	shade("Reality TV", store.ConfidenceLow, "Never misses an episode of cooking competitions.", "television", "competitions"),
}}

func TestScoreIdenticalHighDisjointLow(t *testing.T) {
	t.Parallel()
	same := alice
	same.ID = "c"
	if got := score(alice, same); got < 75 {
		t.Errorf("identical profiles score %d, want >= 75", got)
	}
	if got := score(alice, bob); got > 15 {
		t.Errorf("disjoint profiles score %d, want <= 15", got)
	}
	if got := score(alice, store.User{ID: "e"}); got != 0 {
		t.Errorf("against no public shades: %d, want 0", got)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		u := randomUser(r, "u")
		v := u
		v.ID = "v"
		if len(formula.NewFeatures(u).TopicTerms()) == 0 {
			continue
		}
		if got := score(u, v); got < 60 {
			t.Fatalf("identical random profiles score %d, want >= 60: %+v", got, u)
		}
	}
}

func TestMoreSharedTopicsNeverLower(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		a, b := randomUser(r, "a"), randomUser(r, "b")
		before := score(a, b)
		topic := vocabulary[r.IntN(len(vocabulary))]
		a2, b2 := withTopic(r, a, topic), withTopic(r, b, topic)
		if after := score(a2, b2); after < before {
			t.Fatalf("case %d: adding shared topic %q lowered the score from %d to %d", i, topic, before, after)
		}
	}
}

// withTopic adds a topic to a random public shade of u (a new one when u has none).
func withTopic(r *rand.Rand, u store.User, topic string) store.User {
	u.Shades = slices.Clone(u.Shades)
	var public []int
	for i, sh := range u.Shades {
		if sh.Public != nil {
			public = append(public, i)
		}
	}
	if len(public) == 0 {
		u.Shades = append(u.Shades, store.Shade{Name: "new", Confidence: store.ConfidenceMedium, Public: &store.PublicShade{Topics: []string{topic}}})
		return u
	}
	i := public[r.IntN(len(public))]
	p := *u.Shades[i].Public
	p.Topics = append(slices.Clone(p.Topics), topic)
	u.Shades[i].Public = &p
	return u
}

func TestPrivateFieldsIgnored(t *testing.T) {
	t.Parallel()
	a := alice
	a.Shades = append(slices.Clone(a.Shades), store.Shade{Name: "Finance", Confidence: store.ConfidenceVeryHigh,
		Description: "Builds financial models in excel spreadsheets.", Topics: []string{"finance", "excel", "spreadsheets"}})
	for i := range a.Shades {
		a.Shades[i].Description = "private finance excel spreadsheets"
	}
	if got, want := score(a, bob), score(alice, bob); got != want {
		t.Errorf("with private shades and fields matching Bob: %d, want %d (private data must not count)", got, want)
	}
}

func TestExplainNamesShades(t *testing.T) {
	t.Parallel()
	carol := store.User{ID: "c", Nickname: "Carol", Shades: []store.Shade{
		shade("Weekend Hiker", store.ConfidenceHigh, "Hikes in the mountains.", "mountains", "hiking"),
		shade("Storyteller", store.ConfidenceHigh, "An outgoing storyteller at every party.", "stories"),
		shade("Chess Club", store.ConfidenceMedium, "Plays chess on Thursdays.", "chess"),
	}}
	r := formula.Explain(formula.NewFeatures(alice), formula.NewFeatures(carol))
	var got []string
	for _, x := range append(r.Reasons, r.Challenges...) {
		got = append(got, x.Text)
	}
	want := []string{
		`Both into mountains: Alice's "Trail Runner" and Carol's "Weekend Hiker"`,
		`A listener and a storyteller: Alice's "Good Listener" and Carol's "Storyteller"`,
		`Carol is into chess ("Chess Club"), which Alice has not mentioned`,
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("reasons %q lack %q", got, w)
		}
	}
	if r.Score <= 0 || !strings.HasPrefix(r.Summary, fmt.Sprintf("Profile score %d/100 ", r.Score)) {
		t.Errorf("summary %q, score %d", r.Summary, r.Score)
	}
}

func TestScoreDoesNotAllocate(t *testing.T) {
	fa, fb := formula.NewFeatures(alice), formula.NewFeatures(bob)
	if n := testing.AllocsPerRun(100, func() { _ = formula.Score(fa, fb).Total() }); n != 0 {
		t.Errorf("Score allocates %v times per pair, want 0", n)
	}
}

func BenchmarkScore(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	fs := make([]*formula.Features, 256)
	for i := range fs {
		fs[i] = formula.NewFeatures(randomUser(r, fmt.Sprint(i)))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = formula.Score(fs[i%256], fs[(i*7+3)%256]).Total()
		i++
	}
}
