package rematch_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
)

var topicPool = []string{"jazz", "hiking", "chess", "pottery", "sailing", "poetry", "cycling", "baking"}

// population stores n discoverable people with two or three topics each.
func population(t *testing.T, st store.Store, n int) []store.User {
	t.Helper()
	var out []store.User
	for i := range n {
		out = append(out, person(t, st, fmt.Sprint("P", i), topicPool[i%8], topicPool[(i/8)%8], topicPool[(i*3+1)%8]))
	}
	return out
}

func pairSet(jobs []rematch.Job) map[[2]string]bool {
	set := map[[2]string]bool{}
	for _, j := range jobs {
		if j.Kind == rematch.KindPair {
			set[[2]string{j.A, j.B}] = true
		}
	}
	return set
}

func TestNightlyChangedPlusRollingSlice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	people := population(t, st, 30)
	hidden := update(t, st, people[29].ID, func(u *store.User) { u.Discoverable = false })
	// Each run starts a second after what came before it (changes in the millisecond a run starts
	// count for the next run too).
	clk := &clock{t: time.Now().Add(time.Second)}
	sender := &recordingSender{}
	cfg := rematch.NightlyConfig{Config: rematch.Config{K: 4}, Slice: 10, Now: clk.Now}
	n := rematch.NewNightly(st, sender, cfg)

	// The first run sees everyone as changed.
	stats, err := n.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jobs := sender.jobs(t)
	if stats.Changed != 30 || stats.Indexed != 29 || stats.Slice != 10 || stats.UserJobs != 1 {
		t.Errorf("first run stats = %+v, want 30 changed, 29 indexed, slice 10, 1 user job", stats)
	}
	if got := len(pairSet(jobs)); got != stats.PairJobs || got > 4*30 || got == 0 {
		t.Errorf("%d distinct pairs, %d reported, want between 1 and K·N = 120", got, stats.PairJobs)
	}
	for _, j := range jobs {
		if j.A == hidden.ID || j.B == hidden.ID {
			if j.Kind == rematch.KindPair {
				t.Errorf("pair job %+v with a hidden person", j)
			}
		}
	}
	state, err := st.GetJobState(ctx, rematch.JobName)
	if err != nil || state.LastRun.IsZero() || state.Cursor == "" {
		t.Fatalf("job state = %+v, %v; want LastRun and the slice's cursor", state, err)
	}
	if ids, _ := st.UsersWithTerm(ctx, "jazz", "", 100); len(ids) == 0 {
		t.Error("changed people were not indexed in the store")
	}

	// Nothing changed: only the next slice.
	clk.set(clk.Now().Add(time.Second))
	stats, err = n.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sender.jobs(t)
	if stats.Changed != 0 || stats.Slice != 10 {
		t.Errorf("quiet run stats = %+v, want 0 changed and a slice of 10", stats)
	}

	// One edit: that person's candidates and existing matches go out, plus the slice.
	clk.set(clk.Now().Add(time.Second))
	edited := people[3]
	other := people[4]
	if err := st.PutMatch(ctx, store.Match{A: min(edited.ID, other.ID), B: max(edited.ID, other.ID), Score: 10, ComputedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	updateAt(t, st, edited.ID, clk.Now(), func(u *store.User) { u.Shades[0].Public.Topics = []string{"sailing"} })
	clk.set(clk.Now().Add(time.Second))
	stats, err = n.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set := pairSet(sender.jobs(t))
	if stats.Changed != 1 {
		t.Errorf("stats = %+v, want 1 changed", stats)
	}
	if !set[[2]string{min(edited.ID, other.ID), max(edited.ID, other.ID)}] {
		t.Errorf("no pair job for the edited person's existing match")
	}
}

func TestNightlyResumesAfterFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	population(t, st, 250)
	clk := &clock{t: time.Now().Add(time.Second)} // the runs start after the people were stored
	cfg := rematch.NightlyConfig{Config: rematch.Config{K: 3}, Slice: 50, Now: clk.Now}

	// A run that fails part-way, after some batches, leaves its progress behind.
	failing := &recordingSender{failAfter: 40}
	if _, err := rematch.NewNightly(st, failing, cfg).Run(ctx); err == nil {
		t.Fatal("run with a failing queue succeeded")
	}
	if _, err := st.GetJobState(ctx, rematch.JobName); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("job state saved by a failed run: %v", err)
	}
	sentBefore := pairSet(failing.jobs(t))

	sender := &recordingSender{}
	stats, err := rematch.NewNightly(st, sender, cfg).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !stats.Resumed || stats.Changed >= 250 || stats.Changed == 0 {
		t.Errorf("stats = %+v, want a resumed run over the people the failed run had not done", stats)
	}
	state, err := st.GetJobState(ctx, rematch.JobName)
	if err != nil || state.LastRun.IsZero() {
		t.Fatalf("job state after the resumed run = %+v, %v", state, err)
	}
	// Between them, the failed and the resumed run sent every pair of a clean run.
	got := pairSet(sender.jobs(t))
	for p := range sentBefore {
		got[p] = true
	}
	for _, name := range []string{rematch.JobName, rematch.JobName + "/progress"} { // as if it never ran
		if err := st.PutJobState(ctx, store.JobState{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	clean := &recordingSender{}
	if _, err := rematch.NewNightly(st, clean, cfg).Run(ctx); err != nil {
		t.Fatal(err)
	}
	cleanPairs := pairSet(clean.jobs(t))
	if len(cleanPairs) < 250 {
		t.Fatalf("a clean run sent %d pairs for 250 people", len(cleanPairs))
	}
	for p := range cleanPairs {
		if !got[p] {
			t.Fatalf("pair %v of a clean run was sent by neither the failed nor the resumed run", p)
		}
	}
	// The next run starts afresh: nobody changed since.
	clk.set(clk.Now().Add(time.Second))
	stats, err = rematch.NewNightly(st, &recordingSender{}, cfg).Run(ctx)
	if err != nil || stats.Resumed || stats.Changed != 0 {
		t.Errorf("next run = %+v, %v; want a fresh run with nobody changed", stats, err)
	}
}
