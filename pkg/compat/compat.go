// Package compat scores how compatible two people are, from what they chose to make public.
//
// The deterministic part is package formula: a documented score over both people's public shades,
// always available and fast enough for hot loops. This package adds the model part (Converse,
// JudgeBoth): the two people's twins talk and a model judges the pair in both orders, in two calls.
// Scorer makes a store.Match of the two: the profile score moved by the twins' conversation, by at
// most Config.ModelRange points.
package compat

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/store"
)

// Parts of a score, as named in store.Match.Parts.
const (
	PartDeterministic = "deterministic"
	PartModel         = "model"
)

// JudgeVersion is the version of the twin conversation and judge prompts; it is part of the algorithm
// of a match that used the model. judge-3: the conversation call also returns the first order's
// verdict (two calls a pair), and the model moves the profile score by at most Config.ModelRange.
const JudgeVersion = "judge-3"

// Defaults of Config.
const (
	DefaultMessages    = 6
	DefaultModelWeight = 0.6
	// DefaultModelRange is chosen from the top-5 agreement measured in docs/matching.md: on lists as
	// dense as the benchmark's, a wider range moves candidates from beyond the top M into the top 5.
	DefaultModelRange = 1
)

// Config tunes the Scorer. The zero Config takes every default.
type Config struct {
	// Messages is the length of the twin-to-twin conversation; default DefaultMessages.
	Messages int
	// ModelWeight is how far the judge's verdict pulls the score from the profile score: the share of
	// their difference the twins' conversation adds (0-1); default DefaultModelWeight.
	ModelWeight float64
	// ModelRange bounds what the twins' conversation adds to the profile score, in points either way;
	// default DefaultModelRange. The bounded model pass relies on it: a candidate more than twice
	// the range below a person's M-th best profile score cannot reach their top M.
	ModelRange int
}

// Scorer computes matches: the deterministic score always, and the twin conversation and judge when
// it has a model.
type Scorer struct {
	model llm.Model
	cfg   Config
	now   func() time.Time
}

// New returns a Scorer. model may be nil: the scores are then deterministic only.
func New(model llm.Model, cfg Config) *Scorer {
	if cfg.Messages <= 0 {
		cfg.Messages = DefaultMessages
	}
	if cfg.ModelWeight <= 0 || cfg.ModelWeight > 1 {
		cfg.ModelWeight = DefaultModelWeight
	}
	if cfg.ModelRange <= 0 {
		cfg.ModelRange = DefaultModelRange
	}
	return &Scorer{model: model, cfg: cfg, now: time.Now}
}

// Algorithm names how this Scorer computes matches: formula.Version alone without a model, with the
// judge version appended with one. A stored match with another algorithm is stale.
func (s *Scorer) Algorithm() string {
	if s.model == nil {
		return formula.Version
	}
	return formula.Version + "+" + JudgeVersion
}

// Deterministic returns the match of a and b from the deterministic part alone (a.ID < b.ID), stamped
// with formula.Version: used as it is without a model, and as the fallback when the model fails, so that a
// later job sees it as stale and asks the model again.
func (s *Scorer) Deterministic(a, b store.User) store.Match {
	return s.deterministic(a, b, formula.Explain(formula.NewFeatures(a), formula.NewFeatures(b)))
}

// deterministic is the match of a and b from their explained deterministic score r.
func (s *Scorer) deterministic(a, b store.User, r formula.Result) store.Match {
	return store.Match{
		A: a.ID, B: b.ID, Score: r.Score, Reasoning: r.Summary,
		Highlights: texts(r.Reasons), Challenges: texts(r.Challenges),
		Parts:    []string{PartDeterministic},
		VersionA: a.ProfileVersion, VersionB: b.ProfileVersion,
		Algorithm: formula.Version, ComputedAt: s.now().UTC(),
	}
}

// Compute returns the match of a and b (a.ID < b.ID). With a model, the twins talk and the model
// judges the pair with a first (one call; the transcript is the evidence), the judge runs once more
// with b first (one call), and the score is the profile score plus the twins' conversation's
// adjustment (Adjustment): at most 2 model calls. A transcript or a judge whose answers cannot be read leaves the
// deterministic part alone (without the judge's call when the transcript is unreadable), still stamped
// with the model's algorithm so that it is not retried forever. A failure of the model itself is returned as an error (wrapping
// llm.ErrUnavailable or the context's error); the caller may store Deterministic meanwhile.
func (s *Scorer) Compute(ctx context.Context, a, b store.User) (store.Match, error) {
	if a.ID >= b.ID {
		return store.Match{}, fmt.Errorf("compute %s/%s: ids not in order", a.ID, b.ID)
	}
	fa, fb := formula.NewFeatures(a), formula.NewFeatures(b)
	r := formula.Explain(fa, fb)
	m := s.deterministic(a, b, r)
	if s.model == nil {
		return m, nil
	}
	m.Algorithm = s.Algorithm()
	c, err := Converse(ctx, s.model, a, b, s.cfg.Messages)
	switch {
	case errors.Is(err, ErrBadTranscript):
		return m, nil
	case err != nil:
		return store.Match{}, fmt.Errorf("converse %s/%s: %w", a.ID, b.ID, err)
	}
	m.Transcript = c.Lines
	v, err := JudgeBoth(ctx, s.model, a, b, c)
	switch {
	case errors.Is(err, ErrBadVerdict):
		return m, nil
	case err != nil:
		return store.Match{}, fmt.Errorf("judge %s/%s: %w", a.ID, b.ID, err)
	}
	profile := m.Score
	adjust := Adjustment(profile, v.Score, s.cfg)
	m.Score = profile + adjust
	m.Reasoning = joinSentences(scoreSentence(m.Score, profile, adjust), v.Reasoning)
	m.Highlights, m.Challenges = withJudge(r, fa, fb, v)
	m.Parts = []string{PartDeterministic, PartModel}
	return m, nil
}

// Adjustment is what the twins' conversation adds to a pair's profile score: the judge's verdict
// pulled toward the profile score (ModelWeight of their difference), rounded, held within
// ±ModelRange points and within the 0-100 scale. cfg takes the defaults of New.
func Adjustment(profile int, judge float64, cfg Config) int {
	cfg = New(nil, cfg).cfg
	d := int(math.Round(cfg.ModelWeight * (judge - float64(profile))))
	d = min(max(d, -cfg.ModelRange), cfg.ModelRange)
	return min(max(d, -profile), 100-profile)
}

func joinSentences(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}
