package compat_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/offline"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/terms"
)

var cardWords = strings.Fields(`cook cooking cooks chef foodie poet poetry poems garden gardening gardener
chess hiking hike hikes jazz piano pianist reading reader writer writing listener storyteller travel
homebody climbing yoga painting artist engineer running runner`)

// randomPerson makes a person with random public shades named in mixed case.
func randomPerson(r *rand.Rand, id, nickname string) store.User {
	u := store.User{ID: id, Nickname: nickname, ProfileVersion: 1}
	word := func() string { return cardWords[r.IntN(len(cardWords))] }
	for i := range r.IntN(6) {
		name := word()
		if r.IntN(2) == 0 {
			name = "Home " + strings.ToUpper(name[:1]) + name[1:]
		}
		u.Shades = append(u.Shades, store.Shade{ID: fmt.Sprint(i), Name: name, Confidence: store.ConfidenceHigh,
			Public: &store.PublicShade{Name: name, Description: "Into " + word() + ".", Topics: []string{word(), word()}}})
	}
	return u
}

// namingJudge answers like a model that names shades in some items and not in others.
func namingJudge(a, b store.User) func(string) string {
	return func(string) string {
		var hs, cs []string
		for _, x := range a.Shades {
			for _, y := range b.Shades {
				hs = append(hs, fmt.Sprintf("%s's %s meets %s's %s", a.Nickname, x.Name, b.Nickname, y.Name))
			}
			cs = append(cs, fmt.Sprintf("Ask about %s", x.Name))
		}
		hs = append(hs, "Music", "Both mention cook.")
		out, _ := jsonVerdict(73, hs, cs)
		return out
	}
}

func jsonVerdict(score int, hs, cs []string) (string, error) {
	q := func(xs []string) string {
		var parts []string
		for _, x := range xs {
			parts = append(parts, strconv.Quote(x))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprintf(`{"score": %d, "reasoning": "Fine.", "highlights": %s, "challenges": %s}`, score, q(hs), q(cs)), nil
}

var (
	blended = regexp.MustCompile(`^Score (\d+)/100: profile (\d+) · twins' conversation ([+-]\d+)\.`)
	profile = regexp.MustCompile(`^Profile score (\d+)/100 `)
)

// TestMatchCardProperties checks, on random profiles and with three kinds of judge (none, the
// offline model, one that names shades in some items), what a stored match shows: at most 3
// highlights and 2 challenges; each naming public shades of the right people exactly as written;
// no two about the same thing by stem; and the score shown is the one the reasoning explains.
func TestMatchCardProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(21, 22))
	var withJudge int
	for i := range 600 {
		a, b := randomPerson(r, "01A", "Ana"), randomPerson(r, "01B", "Noah")
		models := map[string]llm.Model{"none": nil, "offline": offline.New(), "naming": &fakeModel{verdict: namingJudge(a, b)}}
		for name, model := range models {
			m, err := compat.New(model, compat.Config{Messages: 2}).Compute(context.Background(), a, b)
			if err != nil {
				t.Fatal(err)
			}
			fail := func(format string, args ...any) {
				t.Helper()
				t.Fatalf("pair %d, judge %s: %s\nmatch %+v", i, name, fmt.Sprintf(format, args...), m)
			}
			if len(m.Highlights) > formula.MaxReasons || len(m.Challenges) > formula.MaxChallenges {
				fail("%d highlights, %d challenges", len(m.Highlights), len(m.Challenges))
			}
			namesA, namesB := shadeNames(a), shadeNames(b)
			for _, h := range m.Highlights {
				if !containsAny(h, namesA) || !containsAny(h, namesB) {
					fail("highlight %q does not name a public shade of each", h)
				}
			}
			for _, c := range m.Challenges {
				if !containsAny(c, namesA) && !containsAny(c, namesB) && !strings.HasSuffix(c, "shares no public shades yet") {
					fail("challenge %q names no public shade", c)
				}
			}
			items := append(append([]string(nil), m.Highlights...), m.Challenges...)
			for x := range items {
				for y := x + 1; y < len(items); y++ {
					if s := commonStem(about(items[x], a, b), about(items[y], a, b)); s != "" {
						fail("%q and %q are both about %q", items[x], items[y], s)
					}
				}
			}
			if g := blended.FindStringSubmatch(m.Reasoning); g != nil {
				withJudge++
				n := atoi(g[1:])
				profile := formula.Score(formula.NewFeatures(a), formula.NewFeatures(b)).Total()
				if n[0] != m.Score || n[1] != profile || n[0] != n[1]+n[2] || n[2] < -compat.DefaultModelRange || n[2] > compat.DefaultModelRange {
					fail("reasoning %q does not explain the score %d by the profile score %d and an adjustment within ±%d", m.Reasoning, m.Score, profile, compat.DefaultModelRange)
				}
			} else if g := profile.FindStringSubmatch(m.Reasoning); g == nil || g[1] != strconv.Itoa(m.Score) {
				fail("reasoning %q does not state the score %d first", m.Reasoning, m.Score)
			}
		}
	}
	if withJudge == 0 {
		t.Error("no blended score was checked")
	}
}

func shadeNames(u store.User) []string {
	var out []string
	for _, sh := range u.Shades {
		out = append(out, sh.Public.Name)
	}
	return out
}

func containsAny(s string, names []string) bool {
	for _, n := range names {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// about returns the stems of an item that are not the people's names, their shade names or the
// fixed wording of reasons: what the item is about.
func about(s string, a, b store.User) []string {
	skip := terms.Set(strings.Join(append(append(shadeNames(a), shadeNames(b)...), a.Nickname, b.Nickname,
		"both into mention meets which has not mentioned shares public shades yet ask"), " "))
	var out []string
	for _, t := range terms.Of(s) {
		if !skip[t] {
			out = append(out, t)
		}
	}
	return out
}

// commonStem returns a stem of xs that is, begins or is begun by a stem of ys (4 letters at least).
func commonStem(xs, ys []string) string {
	for _, x := range xs {
		for _, y := range ys {
			s, l := x, y
			if len(s) > len(l) {
				s, l = l, s
			}
			if s == l || len(s) >= 4 && strings.HasPrefix(l, s) {
				return s
			}
		}
	}
	return ""
}

func atoi(ss []string) []int {
	out := make([]int, len(ss))
	for i, s := range ss {
		out[i], _ = strconv.Atoi(s)
	}
	return out
}

// TestOfflineConversationProperties checks the offline model's twin-to-twin conversation on random
// profiles: the twins alternate, A first; no line repeats an earlier one; every line carries a term
// of its speaker's own public shades.
func TestOfflineConversationProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(31, 32))
	for i := range 300 {
		a, b := randomPerson(r, "01A", "Ana"), randomPerson(r, "01B", "Noah")
		if len(a.Shades) == 0 || len(b.Shades) == 0 {
			continue
		}
		n := []int{compat.DefaultMessages, 10}[i%2]
		c, err := compat.Converse(context.Background(), offline.New(), a, b, n)
		if err != nil {
			t.Fatal(err)
		}
		if !c.Judged {
			t.Fatalf("pair %d: the offline conversation call gave no verdict", i)
		}
		lines := c.Lines
		if len(lines) != n {
			t.Fatalf("pair %d: %d lines, want %d", i, len(lines), n)
		}
		seen := make(map[string]bool)
		for j, l := range lines {
			self := []store.User{a, b}[j%2]
			if l.Speaker != self.ID {
				t.Fatalf("pair %d: line %d spoken by %s, want %s", i, j, l.Speaker, self.ID)
			}
			if seen[l.Text] {
				t.Fatalf("pair %d: line %d repeats %q\n%+v", i, j, l.Text, lines)
			}
			seen[l.Text] = true
			if !grounded(l.Text, self) {
				t.Fatalf("pair %d: line %d %q carries nothing of %s's public shades %+v", i, j, l.Text, self.Nickname, self.Shades)
			}
		}
	}
}

// grounded says whether text holds a term of u's public shade texts and topics.
func grounded(text string, u store.User) bool {
	own := make(map[string]bool)
	for _, sh := range u.Shades {
		p := sh.Public
		for t := range terms.Set(strings.Join(append([]string{p.Description, p.Content}, p.Topics...), " ")) {
			own[t] = true
		}
	}
	for _, t := range terms.Of(text) {
		if own[t] {
			return true
		}
	}
	return false
}
