package main

import (
	"context"
	"encoding/json"
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

// agreed is the top-5 agreement of a bounded model pass with an unbounded one, for one range of the
// conversation's adjustment, with or without the band (the candidates within twice the range of
// each person's M-th best also get the model part).
type agreed struct {
	modelRange                   int
	band                         bool
	share                        float64
	boundedCalls, unboundedCalls int64
}

// listTop is how many entries of each person's list the agreement compares.
const listTop = 5

// agreement matches n synthetic people from scratch for each range of the conversation's adjustment
// (compat.Config.ModelRange), with the real nightly run and worker and the judge: once with the model
// part for every candidate pair, once for each person's top m, and, for the ranges in banded, once
// for each person's top m and their band (rematch.Config.ModelBand twice the range). For each bounded
// run it returns the mean share of each person's 5 best entries (by the stored score) that it has in
// common with the unbounded run. The judge's answers are remembered across the runs (they do not
// depend on the range), so each distinct call is made once; the calls reported are those each run
// asked for.
func agreement(n, k, m int, judge llm.Model, ranges []int, banded map[int]bool) ([]agreed, error) {
	users := newGenerator(5).population(n)
	memo := &memoModel{Model: judge, replies: make(map[string]llm.Reply)}
	var out []agreed
	for _, r := range ranges {
		cfg := compat.Config{ModelRange: r}
		unbounded, callsU, err := matchAll(slices.Clone(users), k, math.MaxInt32, 0, memo, cfg)
		if err != nil {
			return nil, err
		}
		for _, band := range []bool{false, true} {
			if band && !banded[r] {
				continue
			}
			width := 0
			if band {
				width = 2 * r
			}
			bounded, callsB, err := matchAll(slices.Clone(users), k, m, width, memo, cfg)
			if err != nil {
				return nil, err
			}
			out = append(out, agreed{modelRange: r, band: band, share: share(bounded, unbounded), boundedCalls: callsB, unboundedCalls: callsU})
		}
	}
	return out, nil
}

// share is the mean share of each person's list in want that got holds too.
func share(got, want map[string][]string) float64 {
	sum, people := 0.0, 0
	for id, w := range want {
		if len(w) == 0 {
			continue
		}
		same := 0
		for _, o := range got[id] {
			if slices.Contains(w, o) {
				same++
			}
		}
		sum += float64(same) / float64(len(w))
		people++
	}
	return sum / float64(max(people, 1))
}

// matchAll runs the nightly rematch over people without matches (everyone is new, so everyone is
// changed) and every job it sends through the worker, with the judge for people's top m (and their
// band), the scorer's configuration cfg and an unbounded nightly budget, and returns each person's 5
// best matches and the model calls made.
func matchAll(users []store.User, k, m, band int, judge llm.Model, cfg compat.Config) (map[string][]string, int64, error) {
	ctx := context.Background()
	st := newMemStore(users)
	model := &counted{Model: judge}
	rcfg := rematch.Config{K: k, ModelTop: m, ModelBand: band, Budget: rematch.BudgetConfig{NightlyCalls: math.MaxInt32}}
	q := &collectingQueue{}
	if _, err := rematch.NewNightly(st, q, rematch.NightlyConfig{Config: rcfg, Slice: 1}).Run(ctx); err != nil {
		return nil, 0, err
	}
	worker := rematch.NewCompatWorker(st, compat.New(model, cfg), q, rcfg)
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

// memoModel remembers a deterministic model's replies by the request's task and the people it is
// about, in order (the judges of the agreement answer from nothing else).
type memoModel struct {
	llm.Model
	mu      sync.Mutex
	replies map[string]llm.Reply
}

func (c *memoModel) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	key := ""
	if d := req.Data; d != nil && len(d.Personas) >= 2 {
		key = fmt.Sprintf("%s/%d/%s/%s", d.Task, d.Lines, d.Personas[0].ID, d.Personas[1].ID)
	}
	c.mu.Lock()
	r, ok := c.replies[key]
	c.mu.Unlock()
	if ok && key != "" {
		return r, nil
	}
	r, err := c.Model.Generate(ctx, req, onDelta)
	if err == nil && key != "" {
		c.mu.Lock()
		c.replies[key] = r
		c.mu.Unlock()
	}
	return r, err
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
// moved by up to ±15 points by a hash of the pair, the same in both orders, in the conversation call's
// verdict and in the judge's. Transcripts and the rest of the verdicts come from the offline model.
type nearJudge struct{ offline llm.Model }

func (j nearJudge) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	reply, err := j.offline.Generate(ctx, req, onDelta)
	d := req.Data
	if err != nil || d == nil || d.Task != llm.TaskJudge && d.Task != llm.TaskTranscript || len(d.Personas) < 2 {
		return reply, err
	}
	a, b := userOf(d.Personas[0]), userOf(d.Personas[1])
	h := fnv.New32a()
	h.Write([]byte(min(a.ID, b.ID) + "/" + max(a.ID, b.ID)))
	score := formula.Score(formula.NewFeatures(a), formula.NewFeatures(b)).Total() + int(h.Sum32()%31) - 15
	var obj map[string]any
	if err := json.Unmarshal([]byte(reply.Text), &obj); err != nil {
		return reply, fmt.Errorf("near judge: the offline answer is not an object: %w", err)
	}
	obj["score"] = min(100, max(0, score))
	text, err := json.Marshal(obj)
	reply.Text = string(text)
	return reply, err
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
