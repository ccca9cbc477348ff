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
		// Nobody changed since the last night (changed people's pairs would be planned first).
		if err := st.PutJobState(ctx, store.JobState{Name: rematch.JobName, LastRun: time.Now().Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
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

// TestNightlyPlansTheChangedPeopleFirst checks that a night's model part goes to the changed people's
// top M before the rolling slice's, within the nightly budget, whatever order the worker receives
// the jobs in: the night sends at most NightlyCalls / CallsPerPair pair jobs with the model part, the
// changed people's first, and the rest as deferring jobs, which spend nothing.
func TestNightlyPlansTheChangedPeopleFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	people := population(t, st, 30)
	clk := &clock{t: time.Now().Add(time.Second)}
	m := &countingModel{}
	scorer := compat.New(m, compat.Config{})

	// The first night matches everyone, with room for every pair.
	roomy := rematch.Config{K: 4, Budget: rematch.BudgetConfig{NightlyCalls: 1 << 30, Now: clk.Now}}
	sender := &recordingSender{}
	if _, err := rematch.NewNightly(st, sender, rematch.NightlyConfig{Config: roomy, Slice: 30, Now: clk.Now}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	w := rematch.NewCompatWorker(st, scorer, &recordingSender{}, roomy)
	for _, j := range sender.jobs(t) {
		if err := w.Handle(ctx, j.Encode()); err != nil {
			t.Fatal(err)
		}
	}

	// One person changes; the next night's budget pays for 1 pair, fewer than their top 2. (With two
	// changed people who become each other's best candidate, their top 2 each are only 3 pairs, and
	// nothing need wait: the test was flaky so.)
	clk.set(clk.Now().Add(24 * time.Hour))
	changed := map[string]bool{}
	for _, i := range []int{3} {
		u := updateAt(t, st, people[i].ID, clk.Now(), func(u *store.User) { u.Shades[0].Public.Topics = []string{"sailing", "origami"} })
		changed[u.ID] = true
	}
	clk.set(clk.Now().Add(time.Second))
	tight := rematch.Config{K: 4, ModelTop: 2, Budget: rematch.BudgetConfig{NightlyCalls: 1 * rematch.DefaultCallsPerPair, Now: clk.Now}}
	stats, err := rematch.NewNightly(st, sender, rematch.NightlyConfig{Config: tight, Slice: 30, Now: clk.Now}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jobs := sender.jobs(t)
	var planned []rematch.Job
	for _, j := range jobs {
		if j.Kind == rematch.KindPair && !j.ScoreOnly && !j.Defer {
			planned = append(planned, j)
			if !changed[j.A] && !changed[j.B] {
				t.Errorf("pair job %+v with the model part does not involve a changed person", j)
			}
		}
	}
	if len(planned) != 1 || stats.OverBudget == 0 {
		t.Fatalf("%d pair jobs with the model part (%d over the budget), want the 1 the nightly budget pays for and more deferring", len(planned), stats.OverBudget)
	}

	// The worker receives the night's jobs last first: the slice's deferring jobs spend nothing.
	w = rematch.NewCompatWorker(st, scorer, &recordingSender{}, tight)
	before := m.count()
	for _, j := range slices.Backward(jobs) {
		if err := w.Handle(ctx, j.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	if calls := m.count() - before; calls > rematch.DefaultCallsPerPair {
		t.Errorf("the night made %d model calls, want at most the nightly budget %d", calls, rematch.DefaultCallsPerPair)
	}
	for _, j := range planned {
		got, err := st.GetMatch(ctx, j.A, j.B)
		if err != nil {
			t.Fatal(err)
		}
		ua, ub := user(t, st, j.A), user(t, st, j.B)
		if !slices.Contains(got.Parts, compat.PartModel) || got.VersionA != ua.ProfileVersion || got.VersionB != ub.ProfileVersion {
			t.Errorf("planned pair %s/%s of a changed person: %+v, want the model part over the current profiles", j.A, j.B, got)
		}
	}
	if len(deferred(t, st)) == 0 {
		t.Error("no pair deferred: the changed person's second pair waits for a later night")
	}
}

func user(tb testing.TB, st store.Store, id string) store.User {
	tb.Helper()
	u, err := st.GetUser(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
