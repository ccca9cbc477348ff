package formula_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/terms"
)

// forms are words in several forms each (a stem and its full words, words that begin others), so
// that random profiles often say the same thing in different words.
var forms = strings.Fields(`cook cooking cooks chef foodie poet poetry poems garden gardening gardener
chess hiking hike hikes hiker jazz piano pianist reading reader writer writing listener storyteller
travel traveller homebody climbing climber yoga painter painting artist engineer running runner`)

// randomShades makes a person whose public shades use random forms, with names in mixed case
// ("Home cook", "POETRY", "Gardener") and, now and then, extra spaces or no public part at all.
func randomShades(r *rand.Rand, id, nickname string) store.User {
	u := store.User{ID: id, Nickname: nickname, ProfileVersion: 1}
	word := func() string { return forms[r.IntN(len(forms))] }
	for i := range r.IntN(6) {
		name := word()
		switch r.IntN(4) {
		case 0:
			name = strings.ToUpper(name[:1]) + name[1:]
		case 1:
			name = strings.ToUpper(name)
		case 2:
			name = "Home  " + name
		}
		sh := store.Shade{ID: fmt.Sprint(i), Name: "private " + word(), Confidence: confidences[r.IntN(len(confidences))]}
		if r.IntN(5) > 0 {
			sh.Public = &store.PublicShade{Name: name, Description: "Into " + word() + " and " + word() + ".",
				Content: "Some " + word() + ".", Topics: []string{word(), word()}}
			sh.Public.Topics = sh.Public.Topics[:1+r.IntN(2)]
		}
		u.Shades = append(u.Shades, sh)
	}
	return u
}

// publicNames is the set of a person's public shade names, spacing tidied as reasons quote them.
func publicNames(u store.User) map[string]bool {
	out := make(map[string]bool)
	for _, sh := range u.Shades {
		if sh.Public != nil {
			out[strings.Join(strings.Fields(sh.Public.Name), " ")] = true
		}
	}
	return out
}

// sameThing says whether two stems name the same thing: equal, or one begins the other (4 letters at
// least), as "poet" and "poetri".
func sameThing(x, y string) bool {
	if len(x) > len(y) {
		x, y = y, x
	}
	return x == y || len(x) >= 4 && strings.HasPrefix(y, x)
}

func TestExplainPropertiesOnRandomProfiles(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(11, 12))
	var full, twoChallenges, traits int
	for i := range 3000 {
		a, b := randomShades(r, "a", "Ana"), randomShades(r, "b", "Noah")
		fa, fb := formula.NewFeatures(a), formula.NewFeatures(b)
		res := formula.Explain(fa, fb)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("pair %d: %s\nA %+v\nB %+v\nresult %+v", i, fmt.Sprintf(format, args...), a.Shades, b.Shades, res)
		}
		if len(res.Reasons) > formula.MaxReasons || len(res.Challenges) > formula.MaxChallenges {
			fail("%d reasons and %d challenges, want at most %d and %d", len(res.Reasons), len(res.Challenges), formula.MaxReasons, formula.MaxChallenges)
		}
		full += b2i(len(res.Reasons) == formula.MaxReasons)
		twoChallenges += b2i(len(res.Challenges) == formula.MaxChallenges)

		// The score shown is the score the summary states first.
		if n, _, _ := strings.Cut(strings.TrimPrefix(res.Summary, "Profile score "), "/100"); n != strconv.Itoa(res.Score) {
			fail("summary %q does not state the score %d first", res.Summary, res.Score)
		}
		if want := formula.Score(fa, fb).Total(); res.Score != want {
			fail("Explain score %d, Score %d", res.Score, want)
		}

		// Every reason is about something no other reason is about (by stem, "cook" and "cooking"
		// alike, "poet" and "poetry" alike).
		all := append(append([]formula.Reason(nil), res.Reasons...), res.Challenges...)
		for x := range all {
			for y := x + 1; y < len(all); y++ {
				for _, sx := range all[x].Stems {
					for _, sy := range all[y].Stems {
						if sameThing(sx, sy) {
							fail("%q and %q are about the same thing (%s, %s)", all[x].Text, all[y].Text, sx, sy)
						}
					}
				}
			}
			if all[x].Text == "" || (len(all[x].Stems) == 0 && !strings.HasSuffix(all[x].Text, "shares no public shades yet")) {
				fail("reason %+v says nothing", all[x])
			}
		}

		// A highlight names one public shade of each person, with its owner, exactly as written.
		namesA, namesB := publicNames(a), publicNames(b)
		for _, h := range res.Reasons {
			if !namesA[h.ShadeA] || !namesB[h.ShadeB] {
				fail("highlight %+v names shades that are not A's and B's public shades", h)
			}
			if !strings.Contains(h.Text, `Ana's "`+h.ShadeA+`"`) || !strings.Contains(h.Text, `Noah's "`+h.ShadeB+`"`) {
				fail("highlight %q does not quote Ana's %q and Noah's %q", h.Text, h.ShadeA, h.ShadeB)
			}
			traits += b2i(strings.HasPrefix(h.Text, "A "))
		}
		// A challenge names the shade of the one person it is about; a side without public shades
		// is said so.
		for _, c := range res.Challenges {
			switch {
			case c.ShadeA != "" && c.ShadeB == "":
				if !namesA[c.ShadeA] || !strings.HasPrefix(c.Text, "Ana is into ") || !strings.Contains(c.Text, `"`+c.ShadeA+`"`) {
					fail("challenge %+v does not name Ana's public shade", c)
				}
			case c.ShadeB != "" && c.ShadeA == "":
				if !namesB[c.ShadeB] || !strings.HasPrefix(c.Text, "Noah is into ") || !strings.Contains(c.Text, `"`+c.ShadeB+`"`) {
					fail("challenge %+v does not name Noah's public shade", c)
				}
			case c.Text == "Ana shares no public shades yet" && len(namesA) == 0, c.Text == "Noah shares no public shades yet" && len(namesB) == 0:
			default:
				fail("challenge %+v names no shade of one side", c)
			}
			// What differs is not mentioned by the other person at all.
			other := b
			if c.ShadeB != "" {
				other = a
			}
			for _, sh := range other.Shades {
				if p := sh.Public; p != nil {
					for _, tm := range terms.Of(strings.Join(append([]string{p.Name, p.Description, p.Content}, p.Topics...), " ")) {
						for _, s := range c.Stems {
							if sameThing(s, tm) {
								fail("challenge %q: the other person mentions %q", c.Text, tm)
							}
						}
					}
				}
			}
		}

		// A shared topic always makes a highlight.
		if len(res.Reasons) == 0 && sharesTopic(a, b) {
			fail("no highlight although they share a topic")
		}
	}
	if full == 0 || twoChallenges == 0 || traits == 0 {
		t.Errorf("vacuous run: %d results with %d highlights, %d with %d challenges, %d trait highlights", full, formula.MaxReasons, twoChallenges, formula.MaxChallenges, traits)
	}
}

// sharesTopic says whether a and b have a public topic term in common.
func sharesTopic(a, b store.User) bool {
	topics := func(u store.User) map[string]bool {
		m := make(map[string]bool)
		for _, sh := range u.Shades {
			if sh.Public != nil {
				for _, tp := range sh.Public.Topics {
					for s := range terms.Set(tp) {
						m[s] = true
					}
				}
			}
		}
		return m
	}
	ta, tb := topics(a), topics(b)
	for s := range ta {
		if tb[s] {
			return true
		}
	}
	return false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
