package rematch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// sent is one job a delayedSender received, with its delay.
type sent struct {
	delay time.Duration
	job   rematch.Job
}

// delayedSender records every job with its delay.
type delayedSender struct {
	mu   sync.Mutex
	sent []sent
}

func (s *delayedSender) Send(ctx context.Context, bodies ...[]byte) error {
	return s.SendAfter(ctx, 0, bodies...)
}

func (s *delayedSender) SendAfter(ctx context.Context, delay time.Duration, bodies ...[]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range bodies {
		j, err := rematch.DecodeJob(b)
		if err != nil {
			return err
		}
		s.sent = append(s.sent, sent{delay, j})
	}
	return nil
}

// take returns the jobs sent so far and forgets them.
func (s *delayedSender) take() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sent
	s.sent = nil
	return out
}

var t0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func TestEditsCoalesceIntoOneModelPassPerWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	u := person(t, st, "Ann", "jazz")
	for _, n := range []string{"Ben", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal"} {
		c := person(t, st, n, "jazz")
		if err := st.SetUserTerms(ctx, c.ID, rematch.IndexTerms(c, 32)); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: t0}
	const window = 5 * time.Minute
	budget := rematch.BudgetConfig{Window: window, Now: clk.Now}
	q := &delayedSender{}
	r := rematch.NewBoundedRematcher(q, st, budget)
	m := &countingModel{}
	fan := &recordingSender{}
	w := rematch.NewCompatWorker(st, compat.New(m, compat.Config{}), fan, rematch.Config{K: 10, Budget: budget})
	// run runs jobs and the pair jobs they fan out.
	run := func(jobs []sent) {
		t.Helper()
		runJobs(t, w, jobs)
		for _, j := range fan.jobs(t) {
			if err := w.Handle(ctx, j.Encode()); err != nil {
				t.Fatalf("pair job %+v: %v", j, err)
			}
		}
	}

	// 20 edits in 20 seconds. The first queues a score-only rematch at once (run at once: Ann's
	// seven candidates get the deterministic score, no model call) and one for the window's end.
	var last store.User
	for i := range 20 {
		clk.set(t0.Add(time.Duration(i) * time.Second))
		last = update(t, st, u.ID, func(u *store.User) { u.Shades[0].Public.Description = fmt.Sprintf("I like jazz, take %d", i) })
		if err := r.Rematch(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			got := q.take()
			want := []sent{{0, rematch.ScoreOnlyUserJob(u.ID)}, {window, rematch.DirtyUserJob(u.ID)}}
			if !slices.Equal(got, want) {
				t.Fatalf("jobs of the first edit = %+v, want %+v", got, want)
			}
			run(got[:1])
			q.sent = got[1:]
		}
	}
	page, err := st.ListMatches(ctx, u.ID, "", 10)
	if err != nil || len(page.Items) != 7 || m.count() != 0 {
		t.Fatalf("after the first edit: %d matches (%v), %d model calls; want 7 deterministic matches and no call", len(page.Items), err, m.count())
	}
	got := q.take()
	if want := []sent{{window, rematch.DirtyUserJob(u.ID)}}; !slices.Equal(got, want) {
		t.Fatalf("jobs after 20 edits = %+v, want only %+v: edits 2-20 coalesce", got, want)
	}

	// The window's end: one model pass over Ann's top M (5), from the last edit.
	clk.set(t0.Add(window))
	run(got)
	perPair := 0
	withModel := 0
	for _, e := range page.Items {
		mt, err := st.GetMatch(ctx, u.ID, e.OtherID)
		if err != nil {
			t.Fatal(err)
		}
		v := mt.VersionA
		if mt.B == u.ID {
			v = mt.VersionB
		}
		if v != last.ProfileVersion {
			t.Errorf("match with %s computed from Ann's version %d, want the last edit's %d", e.OtherID, v, last.ProfileVersion)
		}
		if slices.Contains(mt.Parts, compat.PartModel) {
			withModel++
		}
	}
	if withModel != rematch.DefaultModelTop {
		t.Errorf("%d matches with the model part, want the top %d", withModel, rematch.DefaultModelTop)
	}
	perPair = m.count() / max(withModel, 1)
	if calls := m.count(); calls != withModel*perPair || perPair > rematch.DefaultCallsPerPair {
		t.Errorf("20 edits cost %d model calls (%d a pair), want one pass: at most %d per pair of the top M", calls, perPair, rematch.DefaultCallsPerPair)
	}

	// The next window opened clean: an edit in it queues its score-only rematch and one for its end;
	// an edit after it ended (its rematch lost) opens another.
	clk.set(t0.Add(window + time.Second))
	if err := r.Rematch(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(2*window + time.Second))
	if err := r.Rematch(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	want := []sent{
		{0, rematch.ScoreOnlyUserJob(u.ID)}, {window - time.Second, rematch.DirtyUserJob(u.ID)},
		{0, rematch.ScoreOnlyUserJob(u.ID)}, {window, rematch.DirtyUserJob(u.ID)},
	}
	if got := q.take(); !slices.Equal(got, want) {
		t.Errorf("jobs after the window's rematch = %+v, want %+v", got, want)
	}
}

func TestRefreshChargesTheMatchingBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	a, b := person(t, st, "Ann", "jazz"), person(t, st, "Ben", "jazz")
	clk := &clock{t: t0}
	q := &delayedSender{}
	r := rematch.NewBoundedRematcher(q, st, rematch.BudgetConfig{PersonCalls: 2, Now: clk.Now})
	for range 2 {
		if err := r.Refresh(ctx, a.ID, b.ID); err != nil {
			t.Fatalf("Refresh within the budget: %v", err)
		}
	}
	err := r.Refresh(ctx, a.ID, b.ID)
	var f *fault.Error
	if !errors.Is(err, rematch.ErrMatchingBudget) || !errors.As(err, &f) || f.Code != fault.CodeRateLimited || f.RetryAfter != 14*time.Hour {
		t.Fatalf("third Refresh with a budget of 2 = %v, want rate_limited with RetryAfter 14h (until midnight UTC)", err)
	}
	want := []sent{{0, rematch.PairJobBy(a.ID, b.ID, a.ID)}, {0, rematch.PairJobBy(a.ID, b.ID, a.ID)}}
	if got := q.take(); !slices.Equal(got, want) {
		t.Errorf("jobs = %+v, want two pair jobs paid by the caller", got)
	}
	// Ben's budget is his own; the next day Ann's starts again.
	if err := r.Refresh(ctx, b.ID, a.ID); err != nil {
		t.Errorf("Refresh by the other person: %v", err)
	}
	clk.set(t0.Add(14 * time.Hour))
	if err := r.Refresh(ctx, a.ID, b.ID); err != nil {
		t.Errorf("Refresh the next day: %v", err)
	}
}

// runJobs runs jobs through the worker, failing the test on an error.
func runJobs(tb testing.TB, w *rematch.CompatWorker, jobs []sent) {
	tb.Helper()
	for _, s := range jobs {
		if err := w.Handle(context.Background(), s.job.Encode()); err != nil {
			tb.Fatalf("job %+v: %v", s.job, err)
		}
	}
}
