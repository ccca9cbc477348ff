package compat

import (
	"fmt"
	"slices"
	"strings"

	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/lang"
	"github.com/secondme/twin/pkg/store"
)

// Reading is what one reader reads of a stored match: the reasoning, highlights and challenges in
// their language.
type Reading struct {
	Reasoning              string
	Highlights, Challenges []string
}

// Read returns the words of the stored match m of the people a and b (either order) for a reader of a
// language (package lang). Matches are stored in English, so an English reader reads them as stored.
// A Chinese reader reads the deterministic reasons rendered in Chinese at read time from the two
// public profiles as they are now (formula.Explain, which is cheap for one pair), then the judge's
// highlights and challenges that the model wrote in Chinese; the judge's English ones, which cannot
// be translated here, are left out. The reasoning is the score sentence in Chinese (with its parts
// when the profiles are still those the match was computed from), then the judge's reasoning when it
// is in Chinese.
func Read(m store.Match, a, b store.User, language string) Reading {
	if language != lang.Chinese {
		return Reading{Reasoning: m.Reasoning, Highlights: m.Highlights, Challenges: m.Challenges}
	}
	if a.ID > b.ID {
		a, b = b, a
	}
	r := formula.Explain(formula.NewFeatures(a), formula.NewFeatures(b))
	stored := make(map[string]bool) // the deterministic reasons as they are stored, in English
	for _, x := range append(slices.Clone(r.Reasons), r.Challenges...) {
		stored[x.Text] = true
	}
	inChinese := func(own []formula.Reason, judged []string, limit int) []string {
		out := make([]string, 0, limit)
		for _, x := range own {
			out = append(out, x.In(lang.Chinese))
		}
		for _, s := range judged {
			if len(out) < limit && !stored[s] && lang.Of(s) == lang.Chinese {
				out = append(out, s)
			}
		}
		return out
	}
	return Reading{
		Reasoning:  chineseReasoning(m, a, b, r),
		Highlights: inChinese(r.Reasons, m.Highlights, formula.MaxReasons),
		Challenges: inChinese(r.Challenges, m.Challenges, formula.MaxChallenges),
	}
}

// chineseReasoning is the reasoning of m in Chinese; r is the deterministic part explained from a and b
// as they are now.
func chineseReasoning(m store.Match, a, b store.User, r formula.Result) string {
	current := m.A == a.ID && m.B == b.ID && m.VersionA == a.ProfileVersion && m.VersionB == b.ProfileVersion &&
		strings.HasPrefix(m.Algorithm, formula.Version)
	if !slices.Contains(m.Parts, PartModel) {
		if current && r.Score == m.Score {
			return r.SummaryIn(lang.Chinese)
		}
		return fmt.Sprintf("匹配度 %d/100。", m.Score)
	}
	s := fmt.Sprintf("匹配度 %d/100。", m.Score)
	if current {
		s = fmt.Sprintf("匹配度 %d/100：个人资料 %d · 分身对话 %+d。", m.Score, r.Score, m.Score-r.Score)
	}
	// The stored reasoning is the English score sentence, then the judge's own words.
	if _, judge, ok := strings.Cut(m.Reasoning, ". "); ok && lang.Of(judge) == lang.Chinese {
		s += judge
	}
	return s
}
