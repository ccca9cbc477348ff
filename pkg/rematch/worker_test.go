package rematch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
)

func newWorker(st store.Store, m llm.Model, s rematch.Sender) *rematch.CompatWorker {
	return rematch.NewCompatWorker(st, compat.New(m, compat.Config{}), s, rematch.Config{K: 3})
}

func TestPairComputesOnceAndFollowsVersions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	a, b := person(t, st, "Ann", "jazz", "hiking"), person(t, st, "Ben", "jazz", "chess")
	m := &countingModel{}
	w := newWorker(st, m, &recordingSender{})
	job := rematch.PairJob(b.ID, a.ID).Encode()
	if err := w.Handle(ctx, job); err != nil {
		t.Fatal(err)
	}
	first, err := st.GetMatch(ctx, a.ID, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if calls := m.count(); calls != callsPerPair {
		t.Errorf("model calls = %d, want %d", calls, callsPerPair)
	}
	if !slices.Equal(first.Parts, []string{compat.PartDeterministic, compat.PartModel}) || len(first.Transcript) != compat.DefaultMessages {
		t.Errorf("match = %+v, want both parts and the transcript", first)
	}
	for range 2 {
		if err := w.Handle(ctx, job); err != nil {
			t.Fatal(err)
		}
	}
	if calls := m.count(); calls != callsPerPair {
		t.Errorf("model calls after two redeliveries = %d, want still %d", calls, callsPerPair)
	}
	again, _ := st.GetMatch(ctx, a.ID, b.ID)
	if !again.ComputedAt.Equal(first.ComputedAt) {
		t.Errorf("match recomputed on redelivery")
	}

	update(t, st, b.ID, func(u *store.User) { u.Shades[0].Public.Topics = []string{"jazz", "hiking"} })
	if err := w.Handle(ctx, job); err != nil {
		t.Fatal(err)
	}
	now, _ := st.GetMatch(ctx, a.ID, b.ID)
	versionB := now.VersionB // ids made in one millisecond need not sort in the order they were made
	if b.ID < a.ID {
		versionB = now.VersionA
	}
	if versionB != 2 || m.count() != 2*(callsPerPair) {
		t.Errorf("after B's edit: B's version = %d, model calls %d; want 2 and a second computation", versionB, m.count())
	}
	// A scorer with another algorithm sees the match as stale.
	if err := newWorker(st, nil, &recordingSender{}).Handle(ctx, job); err != nil {
		t.Fatal(err)
	}
	if det, _ := st.GetMatch(ctx, a.ID, b.ID); det.Algorithm != formula.Version {
		t.Errorf("algorithm = %q, want %q", det.Algorithm, formula.Version)
	}
}

func TestPairNeverForHiddenOrBlocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(t *testing.T, st store.Store, a, b store.User)
	}{
		{"blocked by a", func(t *testing.T, st store.Store, a, b store.User) {
			if err := st.PutBlock(ctx, store.Block{BlockerID: a.ID, BlockedID: b.ID, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}},
		{"blocked by b", func(t *testing.T, st store.Store, a, b store.User) {
			if err := st.PutBlock(ctx, store.Block{BlockerID: b.ID, BlockedID: a.ID, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a hidden", func(t *testing.T, st store.Store, a, b store.User) {
			update(t, st, a.ID, func(u *store.User) { u.Discoverable = false })
		}},
		{"b erased", func(t *testing.T, st store.Store, a, b store.User) {
			if err := st.EraseUser(ctx, b.ID); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := newStore(t)
			a, b := person(t, st, "Ann", "jazz"), person(t, st, "Ben", "jazz")
			sender := &recordingSender{}
			m := &countingModel{}
			w := newWorker(st, m, sender)
			if err := w.Pair(ctx, a.ID, b.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := st.GetMatch(ctx, a.ID, b.ID); err != nil {
				t.Fatalf("no match before the change: %v", err)
			}
			calls := m.count()
			tt.change(t, st, a, b)
			// Every job either person's rematch sends, and the pair job itself, leave no match.
			for _, uid := range []string{a.ID, b.ID} {
				if err := w.User(ctx, uid); err != nil {
					t.Fatal(err)
				}
			}
			jobs := append(sender.jobs(t), rematch.PairJob(a.ID, b.ID))
			for _, j := range jobs {
				if err := w.Handle(ctx, j.Encode()); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.GetMatch(ctx, a.ID, b.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetMatch = %v, want ErrNotFound", err)
			}
			for _, uid := range []string{a.ID, b.ID} {
				if page, _ := st.ListMatches(ctx, uid, "", 10); len(page.Items) != 0 {
					t.Errorf("%s still lists %+v", uid, page.Items)
				}
			}
			if m.count() != calls {
				t.Errorf("model called %d more times for a pair that may not be matched", m.count()-calls)
			}
		})
	}
}

// blockingModel blocks the pair while the twins are talking, as a person might mid-job.
type blockingModel struct {
	countingModel
	block func()
}

func (m *blockingModel) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	if m.block != nil {
		m.block()
		m.block = nil
	}
	return m.countingModel.Generate(ctx, req, onDelta)
}

func TestBlockDuringComputationRemovesMatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	a, b := person(t, st, "Ann", "jazz"), person(t, st, "Ben", "jazz")
	m := &blockingModel{block: func() {
		// As the block route does: store the block, then delete the match (there is none yet).
		_ = st.PutBlock(ctx, store.Block{BlockerID: b.ID, BlockedID: a.ID, CreatedAt: time.Now()})
		_ = st.DeleteMatch(ctx, a.ID, b.ID)
	}}
	if err := newWorker(st, m, &recordingSender{}).Pair(ctx, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetMatch(ctx, a.ID, b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMatch = %v, want ErrNotFound: the job must not recreate a blocked match", err)
	}
}

func TestPairModelFailureStoresDeterministicAndRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	a, b := person(t, st, "Ann", "jazz"), person(t, st, "Ben", "jazz")
	m := &countingModel{fail: fmt.Errorf("503: %w", llm.ErrUnavailable)}
	w := newWorker(st, m, &recordingSender{})
	if err := w.Pair(ctx, a.ID, b.ID); !errors.Is(err, llm.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable (so the queue retries)", err)
	}
	got, err := st.GetMatch(ctx, a.ID, b.ID)
	if err != nil || !slices.Equal(got.Parts, []string{compat.PartDeterministic}) {
		t.Fatalf("stored %+v, %v; want the deterministic match meanwhile", got, err)
	}
	m.fail = nil
	if err := w.Pair(ctx, a.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetMatch(ctx, a.ID, b.ID); !slices.Contains(got.Parts, compat.PartModel) {
		t.Errorf("retry stored parts %q, want the model's judgement", got.Parts)
	}
}

func TestUserJobIndexesAndFansOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	ann := person(t, st, "Ann", "jazz", "hiking", "chess")
	ben := person(t, st, "Ben", "jazz", "hiking")
	cat := person(t, st, "Cat", "chess")
	dan := person(t, st, "Dan", "jazz")
	person(t, st, "Eve", "pottery")
	hidden := person(t, st, "Hal", "jazz", "hiking", "chess")
	update(t, st, hidden.ID, func(u *store.User) { u.Discoverable = false })
	sender := &recordingSender{}
	w := newWorker(st, nil, sender)
	for _, u := range []string{ben.ID, cat.ID, dan.ID, hidden.ID} {
		if err := w.User(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	sender.jobs(t)
	if ids, _ := st.UsersWithTerm(ctx, "jazz", "", 10); !slices.Contains(ids, ben.ID) || slices.Contains(ids, hidden.ID) {
		t.Errorf("UsersWithTerm(jazz) = %v, want Ben and not the hidden person", ids)
	}
	if err := w.User(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	var others []string
	for _, j := range sender.jobs(t) {
		if j.Kind != rematch.KindPair || (j.A != ann.ID && j.B != ann.ID) {
			t.Errorf("unexpected job %+v", j)
		}
		others = append(others, j.A+j.B)
	}
	if len(others) != 3 {
		t.Fatalf("%d pair jobs, want K=3", len(others))
	}
	for _, u := range []store.User{ben, cat, dan} {
		if !slices.ContainsFunc(others, func(s string) bool { return len(s) == 52 && (s[:26] == u.ID || s[26:] == u.ID) }) {
			t.Errorf("no pair job with %s", u.Nickname)
		}
	}
}

func TestUserJobHiddenRemovesMatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	a, b, c := person(t, st, "Ann", "jazz"), person(t, st, "Ben", "jazz"), person(t, st, "Cat", "jazz")
	w := newWorker(st, nil, &recordingSender{})
	for _, p := range [][2]string{{a.ID, b.ID}, {a.ID, c.ID}, {b.ID, c.ID}} {
		if err := w.Pair(ctx, p[0], p[1]); err != nil {
			t.Fatal(err)
		}
	}
	update(t, st, a.ID, func(u *store.User) { u.Discoverable = false })
	if err := w.User(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if page, _ := st.ListMatches(ctx, a.ID, "", 10); len(page.Items) != 0 {
		t.Errorf("hidden person still has matches %+v", page.Items)
	}
	if _, err := st.GetMatch(ctx, b.ID, c.ID); err != nil {
		t.Errorf("others' match gone: %v", err)
	}
	if err := w.User(ctx, "01M8A4CY45XW7W11ZS1KQW470S"); err != nil {
		t.Errorf("user job of nobody: %v, want nil", err)
	}
}

func TestHandleBadJob(t *testing.T) {
	t.Parallel()
	w := newWorker(newStore(t), nil, &recordingSender{})
	if err := w.Handle(context.Background(), []byte(`{"kind":"pair"}`)); !errors.Is(err, rematch.ErrBadJob) {
		t.Errorf("err = %v, want ErrBadJob", err)
	}
}

// callsPerPair is the model calls of one pair: the conversation with the judge's first order, and
// the judge's second order.
const callsPerPair = 2
