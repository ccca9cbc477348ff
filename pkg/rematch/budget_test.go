package rematch_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
)

// hasModel reports whether the stored match of a and b has its model part.
func hasModel(tb testing.TB, st store.Store, a, b string) bool {
	tb.Helper()
	m, err := st.GetMatch(context.Background(), a, b)
	if err != nil {
		tb.Fatalf("get match %s/%s: %v", a, b, err)
	}
	return slices.Contains(m.Parts, compat.PartModel)
}

func deferred(tb testing.TB, st store.Store) []store.Deferral {
	tb.Helper()
	ds, err := st.ListDeferred(context.Background(), 100)
	if err != nil {
		tb.Fatal(err)
	}
	return ds
}

func TestBudgetsDeferTheModelPartAndNightsResumeIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	u := person(t, st, "Ann", "jazz", "hiking")
	var cands []store.User
	for _, n := range []string{"Ben", "Cy", "Dee", "Eve"} {
		c := person(t, st, n, "jazz", "hiking")
		if err := st.SetUserTerms(ctx, c.ID, rematch.IndexTerms(c, 32)); err != nil {
			t.Fatal(err)
		}
		cands = append(cands, c)
	}
	clk := &clock{t: t0}
	// Ann's budget pays for two pairs' model parts; the nightly budget for one a night.
	counter := metrics.NewCounter()
	budget := rematch.BudgetConfig{PersonCalls: 2 * rematch.DefaultCallsPerPair, NightlyCalls: rematch.DefaultCallsPerPair, Now: clk.Now, Metrics: counter}
	m := &countingModel{}
	fanout := &recordingSender{}
	w := rematch.NewCompatWorker(st, compat.New(m, compat.Config{}), fanout, rematch.Config{K: 4, Budget: budget})

	// Ann's edit: four pairs paid by Ann; two get the model part, two wait. Nothing fails.
	if err := w.Handle(ctx, rematch.UserJob(u.ID).Encode()); err != nil {
		t.Fatal(err)
	}
	jobs := fanout.jobs(t)
	if len(jobs) != 4 {
		t.Fatalf("user job sent %d pair jobs, want 4", len(jobs))
	}
	for i, j := range jobs {
		if j.By != u.ID {
			t.Errorf("pair job %+v not paid by Ann", j)
		}
		clk.set(t0.Add(time.Duration(i) * time.Second))
		if err := w.Handle(ctx, j.Encode()); err != nil {
			t.Fatalf("pair job beyond the budget failed: %v", err)
		}
	}
	withModel := 0
	for _, c := range cands {
		if hasModel(t, st, u.ID, c.ID) {
			withModel++
		}
	}
	perPair := m.count() / 2
	if withModel != 2 || len(deferred(t, st)) != 2 {
		t.Fatalf("%d matches with the model part and %d deferred, want 2 and 2", withModel, len(deferred(t, st)))
	}
	if got := counter.Snapshot()[metrics.MatchingDeferred]; got["person"] != 2 {
		t.Errorf("MatchingDeferred = %v, want 2 on the person budget", got)
	}

	// Each night resumes the longest deferred first, as far as the nightly budget (one pair) goes; the
	// night's other pairs (Ben and the others meet too) get the deterministic score and wait as well.
	waiting := deferred(t, st)
	ofAnn := func(ds []store.Deferral) [][2]string {
		var out [][2]string
		for _, d := range ds {
			if d.A == u.ID || d.B == u.ID {
				out = append(out, [2]string{d.A, d.B})
			}
		}
		return out
	}
	for night, want := range [][]store.Deferral{waiting[1:], nil} {
		clk.set(t0.Add(time.Duration(night+1) * 24 * time.Hour))
		q := &recordingSender{}
		stats, err := rematch.NewNightly(st, q, rematch.NightlyConfig{Config: rematch.Config{K: 4, Budget: budget}, Slice: 1}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sentJobs := q.jobs(t)
		if stats.Deferred != 1 || len(sentJobs) == 0 || sentJobs[0].A != waiting[night].A || sentJobs[0].B != waiting[night].B {
			t.Fatalf("night %d: stats %+v, jobs %+v; want the longest deferred pair %v first", night+1, stats, sentJobs, waiting[night])
		}
		before := m.count()
		for _, j := range sentJobs {
			if err := w.Handle(ctx, j.Encode()); err != nil {
				t.Fatalf("night %d: pair job beyond the nightly budget failed: %v", night+1, err)
			}
		}
		if calls := m.count() - before; calls != perPair {
			t.Errorf("night %d: %d model calls, want %d (one pair: the nightly budget)", night+1, calls, perPair)
		}
		if got := ofAnn(deferred(t, st)); !slices.Equal(got, ofAnn(want)) {
			t.Errorf("night %d: Ann's deferred pairs after the night = %v, want %v", night+1, got, ofAnn(want))
		}
		if !hasModel(t, st, waiting[night].A, waiting[night].B) {
			t.Errorf("night %d: the longest deferred pair still has no model part", night+1)
		}
	}
}
