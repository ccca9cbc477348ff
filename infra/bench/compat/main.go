// Command compat prints the compatibility section of docs/benchmarks.md:
//
//   - deterministic pair scores per second on one core (formula.Score over precomputed features);
//   - candidate generation for 100,000 synthetic people: the in-memory term index (each person's
//     features and terms, as the nightly run builds it) and every person's top K candidates on all
//     cores, with the number of distinct pairs against K·N;
//   - model calls in one night when 5% of 100,000 people changed: the real nightly run and the real
//     worker over an in-memory store that holds last night's matches, with a counting fake model
//     and queue (no model is called for real).
//
// Run it from the repository root: go run ./infra/bench/compat [-people 100000] [-k 20] [-changed 0.05].
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
)

func main() {
	people := flag.Int("people", 100_000, "synthetic people")
	k := flag.Int("k", rematch.DefaultK, "candidates per person")
	changed := flag.Float64("changed", 0.05, "share of people whose profile changed since the last night")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench compat:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench compat:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := run(os.Stdout, *people, *k, *changed); err != nil {
		fmt.Fprintln(os.Stderr, "bench compat:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(w io.Writer, n, k int, changedShare float64) error {
	fmt.Fprintln(w, "## Compatibility")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Synthetic people: 3-6 shades each (one in five private), 2-5 topics per shade drawn from a Zipf distribution over %d common interests and 5,000 rarer ones. K = %d.\n", len(interests), k)
	fmt.Fprintln(w)
	users := newGenerator(1).population(n)

	pairsPerSec, nsPerPair, allocs := scoreRate(users[:min(len(users), 4096)])
	fmt.Fprintln(w, "| measure | result | target |")
	fmt.Fprintln(w, "|---|---:|---|")
	fmt.Fprintf(w, "| deterministic pair scores per second, one core | %.0f (%.0f ns/pair, %.1f allocations/pair) | ≥ 100,000 |\n", pairsPerSec, nsPerPair, allocs)

	idx, ids, build := buildIndex(users)
	start := time.Now()
	pairs := rematch.Pairs(idx, ids, k)
	search := time.Since(start)
	fmt.Fprintf(w, "| candidate generation, %d people: index build (one core) | %.1f s | |\n", n, build.Seconds())
	fmt.Fprintf(w, "| candidate generation, %d people: top %d each (%d cores) | %.1f s | |\n", n, k, runtime.GOMAXPROCS(0), search.Seconds())
	fmt.Fprintf(w, "| candidate generation, %d people: total | %.1f s | ≤ 30 s |\n", n, (build + search).Seconds())
	fmt.Fprintf(w, "| candidate pairs | %d (%.1f per person; K·N = %d) | ≤ K·N |\n", len(pairs), float64(len(pairs))/float64(n), k*n)

	night, err := simulateNight(users, pairs, k, changedShare)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "| one night, %.0f%% of %d people changed: pair jobs sent | %d in %d batches (changed %d, rolling slice %d) | |\n",
		100*changedShare, n, night.stats.PairJobs, night.batches, night.stats.Changed, night.stats.Slice)
	fmt.Fprintf(w, "| one night: pairs recomputed (stored match stale or missing) | %d; %d skipped as fresh | |\n", night.computed, int64(night.stats.PairJobs)-night.computed)
	fmt.Fprintf(w, "| **one night: model calls** | **%d** (%d per pair: %d twin messages + 2 judge orders) | only for changed pairs |\n",
		night.modelCalls, compat.DefaultMessages+2, compat.DefaultMessages)
	fmt.Fprintf(w, "| one night: nightly run / jobs with the counting model | %.1f s / %.1f s | |\n", night.run.Seconds(), night.jobs.Seconds())
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The nightly run costs O(N·K): one pass to index everyone, then K candidates for each changed person and each person of the slice (plus the changed people's existing matches). Only the pairs whose stored match no longer reflects both profile versions reach the model.")
	return nil
}

// scoreRate scores pairs of precomputed features on one goroutine for about two seconds.
func scoreRate(users []store.User) (perSec, nsPerPair, allocsPerPair float64) {
	fs := make([]*formula.Features, len(users))
	for i, u := range users {
		fs[i] = formula.NewFeatures(u)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, sum := 0, 0
	start := time.Now()
	for time.Since(start) < 2*time.Second {
		for range 10_000 {
			a, b := fs[n%len(fs)], fs[(n*7+3)%len(fs)]
			sum += formula.Score(a, b).Total()
			n++
		}
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	_ = sum
	return float64(n) / elapsed.Seconds(), float64(elapsed.Nanoseconds()) / float64(n), float64(after.Mallocs-before.Mallocs) / float64(n)
}

// buildIndex indexes every person under their terms, as the nightly run does.
func buildIndex(users []store.User) (*rematch.Index, []string, time.Duration) {
	start := time.Now()
	idx := rematch.NewIndex(0)
	ids := make([]string, len(users))
	for i, u := range users {
		idx.Add(u.ID, rematch.IndexTerms(u, rematch.DefaultIndexTerms))
		ids[i] = u.ID
	}
	return idx, ids, time.Since(start)
}

type night struct {
	stats      rematch.Stats
	batches    int
	computed   int64
	modelCalls int64
	run, jobs  time.Duration
}

// simulateNight stores last night's matches (every candidate pair, fresh), changes a share of the
// people, runs the nightly rematch and then every job it sent through the worker.
func simulateNight(users []store.User, pairs [][2]string, k int, share float64) (night, error) {
	ctx := context.Background()
	model := &countingModel{}
	scorer := &countingScorer{Scorer: compat.New(model, compat.Config{})}
	st := newMemStore(users)
	for _, p := range pairs {
		if err := st.PutMatch(ctx, store.Match{A: p[0], B: p[1], Score: 50, VersionA: 1, VersionB: 1, Algorithm: scorer.Algorithm()}); err != nil {
			return night{}, err
		}
	}
	lastRun := users[0].ProfileChangedAt.Add(time.Hour)
	if err := st.PutJobState(ctx, store.JobState{Name: rematch.JobName, LastRun: lastRun}); err != nil {
		return night{}, err
	}
	g := newGenerator(2)
	r := rand.New(rand.NewPCG(3, 4))
	for _, i := range r.Perm(len(users))[:int(share*float64(len(users)))] {
		u := &st.users[i]
		u.Shades = g.shades()
		u.ProfileVersion++
		u.ProfileChangedAt = lastRun.Add(time.Hour)
	}

	q := &collectingQueue{}
	start := time.Now()
	stats, err := rematch.NewNightly(st, q, rematch.NightlyConfig{Config: rematch.Config{K: k}}).Run(ctx)
	if err != nil {
		return night{}, err
	}
	out := night{stats: stats, batches: q.batches, run: time.Since(start)}

	worker := rematch.NewCompatWorker(st, scorer, q, rematch.Config{K: k})
	start = time.Now()
	var wg sync.WaitGroup
	var failed atomic.Int64
	jobs := q.bodies
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(jobs); i += workers {
				if worker.Handle(ctx, jobs[i]) != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	out.jobs = time.Since(start)
	if n := failed.Load(); n > 0 {
		return night{}, fmt.Errorf("%d jobs failed", n)
	}
	out.computed, out.modelCalls = scorer.computed.Load(), model.calls.Load()
	return out, nil
}

// countingModel answers instantly: a short line for a twin, a verdict for the judge.
type countingModel struct{ calls atomic.Int64 }

func (m *countingModel) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	m.calls.Add(1)
	if req.Schema != nil {
		return llm.Reply{Text: `{"score": 60, "reasoning": "ok", "highlights": [], "challenges": []}`, Model: "counting"}, nil
	}
	return llm.Reply{Text: "Nice to meet you.", Model: "counting"}, nil
}

// countingScorer counts the pairs the worker computes.
type countingScorer struct {
	*compat.Scorer
	computed atomic.Int64
}

func (s *countingScorer) Compute(ctx context.Context, a, b store.User) (store.Match, error) {
	s.computed.Add(1)
	return s.Scorer.Compute(ctx, a, b)
}

// collectingQueue keeps every job sent, and counts the batches.
type collectingQueue struct {
	mu      sync.Mutex
	bodies  [][]byte
	batches int
}

func (q *collectingQueue) Send(ctx context.Context, bodies ...[]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(bodies) > rematch.BatchSize {
		return fmt.Errorf("a batch of %d jobs", len(bodies))
	}
	q.bodies = append(q.bodies, bodies...)
	q.batches++
	return nil
}
