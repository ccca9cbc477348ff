package main

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
)

// agreed is the top-5 agreement of a bounded model pass with an unbounded one.
type agreed struct {
	share                        float64
	boundedCalls, unboundedCalls int64
}

// listTop is how many entries of each person's list the agreement compares.
const listTop = 5

// agreement matches n synthetic people from scratch twice, with the real nightly run and worker and
// the offline model: once with the model part for each person's top m, once for every candidate pair.
// It returns the mean share of each person's 5 best entries (by the stored score) that both runs
// have in common.
func agreement(n, k, m int, judge llm.Model) (agreed, error) {
	users := newGenerator(5).population(n)
	bounded, callsB, err := matchAll(slices.Clone(users), k, m, judge)
	if err != nil {
		return agreed{}, err
	}
	unbounded, callsU, err := matchAll(slices.Clone(users), k, math.MaxInt32, judge)
	if err != nil {
		return agreed{}, err
	}
	sum, people := 0.0, 0
	for id, want := range unbounded {
		if len(want) == 0 {
			continue
		}
		same := 0
		for _, o := range bounded[id] {
			for _, w := range want {
				if o == w {
					same++
				}
			}
		}
		sum += float64(same) / float64(len(want))
		people++
	}
	return agreed{share: sum / float64(max(people, 1)), boundedCalls: callsB, unboundedCalls: callsU}, nil
}

// matchAll runs the nightly rematch over people without matches (everyone is new, so everyone is
// changed) and every job it sends through the worker, with the offline model for people's top m,
// and returns each person's 5 best matches and the model calls made.
func matchAll(users []store.User, k, m int, judge llm.Model) (map[string][]string, int64, error) {
	ctx := context.Background()
	st := newMemStore(users)
	model := &counted{Model: judge}
	cfg := rematch.Config{K: k, ModelTop: m, Budget: rematch.BudgetConfig{NightlyCalls: math.MaxInt32}}
	q := &collectingQueue{}
	if _, err := rematch.NewNightly(st, q, rematch.NightlyConfig{Config: cfg, Slice: 1}).Run(ctx); err != nil {
		return nil, 0, err
	}
	worker := rematch.NewCompatWorker(st, compat.New(model, compat.Config{}), q, cfg)
	var wg sync.WaitGroup
	var failed atomic.Int64
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(q.bodies); i += workers {
				if worker.Handle(ctx, q.bodies[i]) != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return nil, 0, fmt.Errorf("agreement: %d jobs failed", n)
	}
	top := make(map[string][]string, len(users))
	for _, u := range users {
		page, err := st.ListMatches(ctx, u.ID, "", listTop)
		if err != nil {
			return nil, 0, err
		}
		for _, e := range page.Items {
			top[u.ID] = append(top[u.ID], e.OtherID)
		}
	}
	return top, model.calls.Load(), nil
}

// counted counts the calls of a model.
type counted struct {
	llm.Model
	calls atomic.Int64
}

func (c *counted) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	c.calls.Add(1)
	return c.Model.Generate(ctx, req, onDelta)
}

// nearJudge is a judge on the deterministic score's scale that does not agree with it: the formula
// over the public personas of the request (which carry no confidence, so every term weighs the same)
// moved by up to ±15 points by a hash of the pair, the same in both orders. Transcripts come from
// the offline model.
type nearJudge struct{ offline llm.Model }

func (j nearJudge) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	d := req.Data
	if d == nil || d.Task != llm.TaskJudge || len(d.Personas) < 2 {
		return j.offline.Generate(ctx, req, onDelta)
	}
	a, b := userOf(d.Personas[0]), userOf(d.Personas[1])
	h := fnv.New32a()
	h.Write([]byte(min(a.ID, b.ID) + "/" + max(a.ID, b.ID)))
	score := formula.Score(formula.NewFeatures(a), formula.NewFeatures(b)).Total() + int(h.Sum32()%31) - 15
	return llm.Reply{Text: fmt.Sprintf(`{"score": %d, "reasoning": "", "highlights": [], "challenges": []}`, min(100, max(0, score)))}, nil
}

// userOf rebuilds a person from their public persona.
func userOf(p llm.Persona) store.User {
	u := store.User{ID: p.ID, Nickname: p.Name, Bio: p.Bio}
	for _, f := range p.Facets {
		pub := &store.PublicShade{Name: f.Name, Topics: f.Topics}
		if len(f.Texts) > 0 {
			pub.Description = f.Texts[0]
		}
		if len(f.Texts) > 1 {
			pub.Content = f.Texts[1]
		}
		u.Shades = append(u.Shades, store.Shade{Name: f.Name, Public: pub})
	}
	return u
}
