package formula_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/lang"
)

// TestReasonsInChinese explains random pairs of English profiles and checks every reason reads in
// both languages: In(English) is its Text, and In(Chinese) is a Chinese sentence (no English sentence
// words left, Han characters present) that keeps the people's own words: their nicknames, and the
// shades it names as they wrote them.
func TestReasonsInChinese(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(15, 15))
	english := []string{"Both ", " into ", " mention ", "'s ", " and a ", " shares no ", " is into ", " has not mentioned"}
	kinds := map[string]bool{}
	for i := range 400 {
		a, b := randomShades(r, "a", "Ana"), randomShades(r, "b", "Noah Lee")
		res := formula.Explain(formula.NewFeatures(a), formula.NewFeatures(b))
		for _, x := range append(append([]formula.Reason(nil), res.Reasons...), res.Challenges...) {
			if got := x.In(lang.English); got != x.Text {
				t.Fatalf("pair %d: In(English) = %q, Text %q", i, got, x.Text)
			}
			zh := x.In(lang.Chinese)
			kinds[strings.SplitN(zh, "：", 2)[0][:6]] = true
			if !strings.ContainsFunc(zh, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Fatalf("pair %d: %q has no Chinese", i, zh)
			}
			for _, w := range english {
				if strings.Contains(zh, w) {
					t.Fatalf("pair %d: %q (of %q) keeps the English %q", i, zh, x.Text, w)
				}
			}
			for _, s := range []string{x.ShadeA, x.ShadeB} {
				if s != "" && !strings.Contains(zh, "“"+s+"”") && !strings.Contains(strings.ToLower(zh), "“"+strings.ToLower(s)+"”") {
					t.Fatalf("pair %d: %q does not quote the shade %q", i, zh, s)
				}
			}
			if !strings.Contains(zh, "Ana") && !strings.Contains(zh, "Noah Lee") {
				t.Fatalf("pair %d: %q names nobody", i, zh)
			}
		}
		if s := res.SummaryIn(lang.Chinese); lang.Of(s) != lang.Chinese || !strings.HasPrefix(s, "个人资料得分 ") {
			t.Fatalf("summary %q is not Chinese", s)
		}
		if res.SummaryIn(lang.English) != res.Summary {
			t.Fatalf("SummaryIn(English) = %q, Summary %q", res.SummaryIn(lang.English), res.Summary)
		}
	}
	if len(kinds) < 4 {
		t.Errorf("only %d kinds of reason seen: %v", len(kinds), kinds)
	}
}
