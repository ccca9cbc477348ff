package rematch_test

import (
	"context"
	"slices"
	"testing"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
)

// TestUserJobGivesTheModelToTheTopM checks that a user job sends the model part for the best M of a
// person's candidates by the deterministic score only, and score-only jobs for the rest.
func TestUserJobGivesTheModelToTheTopM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	u := person(t, st, "Una", "jazz", "hiking", "chess", "poetry")
	near := person(t, st, "Near", "jazz", "hiking", "chess", "poetry")
	mid := person(t, st, "Mid", "jazz", "hiking", "sailing")
	far := person(t, st, "Far", "jazz", "knitting", "opera", "rugby", "darts")
	s := &recordingSender{}
	w := rematch.NewCompatWorker(st, compat.New(&countingModel{}, compat.Config{}), s, rematch.Config{K: 10, ModelTop: 2})
	for _, o := range []string{near.ID, mid.ID, far.ID} { // indexed under their terms
		if err := st.SetUserTerms(ctx, o, rematch.IndexTerms(must(st.GetUser(ctx, o)), 32)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.User(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	fu := formula.NewFeatures(u)
	score := func(o string) int {
		ou, _ := st.GetUser(ctx, o)
		return formula.Score(fu, formula.NewFeatures(ou)).Total()
	}
	if !(score(near.ID) > score(mid.ID) && score(mid.ID) > score(far.ID)) {
		t.Fatalf("fixture: scores near %d, mid %d, far %d, want them in that order", score(near.ID), score(mid.ID), score(far.ID))
	}
	model, scoreOnly := map[string]bool{}, map[string]bool{}
	for _, j := range s.jobs(t) {
		other := j.A
		if other == u.ID {
			other = j.B
		}
		if j.ScoreOnly {
			scoreOnly[other] = true
		} else {
			model[other] = true
			if j.By != u.ID {
				t.Errorf("model job %+v not paid by %s", j, u.ID)
			}
		}
	}
	if !model[near.ID] || !model[mid.ID] || len(model) != 2 {
		t.Errorf("model jobs for %v, want Near and Mid (the top 2)", model)
	}
	if !scoreOnly[far.ID] || len(scoreOnly) != 1 {
		t.Errorf("score-only jobs for %v, want Far", scoreOnly)
	}

	// With a band, the top 1 and whoever is within the band of it get the model part.
	for _, tc := range []struct {
		band int
		want []string
	}{
		{score(near.ID) - score(mid.ID), []string{near.ID, mid.ID}},
		{score(near.ID) - score(mid.ID) - 1, []string{near.ID}},
		{score(near.ID) - score(far.ID), []string{near.ID, mid.ID, far.ID}},
	} {
		w := rematch.NewCompatWorker(st, compat.New(&countingModel{}, compat.Config{}), s, rematch.Config{K: 10, ModelTop: 1, ModelBand: tc.band})
		if err := w.User(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, j := range s.jobs(t) {
			if !j.ScoreOnly {
				got = append(got, j.A+j.B)
			}
		}
		var want []string
		for _, o := range tc.want {
			want = append(want, min(u.ID, o)+max(u.ID, o))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("band %d: model jobs %q, want %q", tc.band, got, want)
		}
	}
}

// TestScoreOnlyPair checks that a score-only job stores the deterministic match without a model call,
// keeps a current match with the model part, and replaces a stale one.
func TestScoreOnlyPair(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	a, b := person(t, st, "Ann", "jazz", "hiking"), person(t, st, "Ben", "jazz", "chess")
	m := &countingModel{}
	w := newWorker(st, m, &recordingSender{})
	scoreOnly := rematch.ScoreOnlyJob(a.ID, b.ID).Encode()
	if err := w.Handle(ctx, scoreOnly); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetMatch(ctx, min(a.ID, b.ID), max(a.ID, b.ID))
	if err != nil || m.count() != 0 || got.Algorithm != formula.Version || !slices.Equal(got.Parts, []string{compat.PartDeterministic}) {
		t.Fatalf("score-only: %+v, %v, %d model calls; want the deterministic match and no call", got, err, m.count())
	}
	// The top M's job adds the model part; a score-only job then keeps it.
	if err := w.Handle(ctx, rematch.PairJob(a.ID, b.ID).Encode()); err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(ctx, scoreOnly); err != nil {
		t.Fatal(err)
	}
	got, _ = st.GetMatch(ctx, min(a.ID, b.ID), max(a.ID, b.ID))
	if m.count() != callsPerPair || !slices.Contains(got.Parts, compat.PartModel) {
		t.Errorf("after the model job and a score-only one: %d calls, parts %q; want %d and the model part kept", m.count(), got.Parts, callsPerPair)
	}
	// A profile edit makes it stale: the score-only job stores the new deterministic match.
	update(t, st, b.ID, func(u *store.User) { u.Shades[0].Public.Topics = []string{"jazz", "hiking"} })
	if err := w.Handle(ctx, scoreOnly); err != nil {
		t.Fatal(err)
	}
	got, _ = st.GetMatch(ctx, min(a.ID, b.ID), max(a.ID, b.ID))
	if m.count() != callsPerPair || got.Algorithm != formula.Version || max(got.VersionA, got.VersionB) != 2 {
		t.Errorf("after B's edit: %d calls, %+v; want no call and the deterministic match of version 2", m.count(), got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
