package compat

import (
	"fmt"
	"strings"

	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/terms"
)

// texts returns the sentences of reasons.
func texts(rs []formula.Reason) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Text)
	}
	return out
}

// withJudge adds the judge's highlights and challenges to the deterministic reasons, up to
// formula.MaxReasons and formula.MaxChallenges. A judge's item is kept only when it names the public
// shades it comes from as the people wrote them (a highlight one shade of each person, a challenge a
// shade of either), is about something no reason kept so far is about, and (a highlight) quotes a
// pair of shades no other highlight quotes; anything else (a bare
// "Music", "Both mention cook." next to a reason about cooking) would restate or float free.
func withJudge(r formula.Result, fa, fb *formula.Features, v Verdict) (highlights, challenges []string) {
	namesA, namesB := fa.ShadeNames(), fb.ShadeNames()
	var used []string
	quoted := make(map[[2]string]bool) // pairs of shades (A's, B's) a highlight already quotes
	for _, x := range append(append([]formula.Reason(nil), r.Reasons...), r.Challenges...) {
		used = append(used, x.Stems...)
		quoted[[2]string{x.ShadeA, x.ShadeB}] = true
	}
	pick := func(own []formula.Reason, judged []string, limit int, both bool) []string {
		out := texts(own)
		for _, s := range merge(maxListItems, judged) {
			if len(out) >= limit {
				break
			}
			sa, sb := named(s, namesA), named(s, namesB)
			if both && (sa == nil || sb == nil) || !both && sa == nil && sb == nil {
				continue
			}
			stems := aboutStems(s, append(sa, sb...))
			if relatedAny(stems, used) || both && quotesAny(quoted, sa, sb) {
				continue
			}
			used = append(used, stems...)
			for _, x := range sa {
				for _, y := range sb {
					quoted[[2]string{x, y}] = true
				}
			}
			out = append(out, s)
		}
		return out
	}
	return pick(r.Reasons, v.Highlights, formula.MaxReasons, true), pick(r.Challenges, v.Challenges, formula.MaxChallenges, false)
}

// quotesAny says whether a pair of shades (one of sa, one of sb) is quoted already.
func quotesAny(quoted map[[2]string]bool, sa, sb []string) bool {
	for _, x := range sa {
		for _, y := range sb {
			if quoted[[2]string{x, y}] {
				return true
			}
		}
	}
	return false
}

// named returns the shade names of names that s contains, with their case.
func named(s string, names []string) []string {
	var out []string
	for _, n := range names {
		if len(n) >= 2 && strings.Contains(s, n) {
			out = append(out, n)
		}
	}
	return out
}

// aboutStems returns the terms of s that are not words of the shade names it quotes: what it is about.
func aboutStems(s string, shades []string) []string {
	skip := terms.Set(strings.Join(shades, " "))
	var out []string
	for _, t := range terms.Of(s) {
		if !skip[t] {
			out = append(out, t)
		}
	}
	return out
}

// relatedAny says whether a stem of xs is a stem of ys or begins one (or the other way round), the
// shorter having at least 4 letters.
func relatedAny(xs, ys []string) bool {
	for _, x := range xs {
		for _, y := range ys {
			a, b := x, y
			if len(a) > len(b) {
				a, b = b, a
			}
			if a == b || len(a) >= 4 && strings.HasPrefix(b, a) {
				return true
			}
		}
	}
	return false
}

// scoreSentence explains a score by its two labelled parts, so that the number people see is the
// number the text explains: "Score 68/100: profile 62 · twins' conversation +6."
func scoreSentence(score, profile, adjust int) string {
	return fmt.Sprintf("Score %d/100: profile %d · twins' conversation %+d.", score, profile, adjust)
}
