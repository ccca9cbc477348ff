package rematch_test

import (
	"context"
	"errors"
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

func TestEditsCoalesceIntoOneRematchPerWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	u := person(t, st, "Ann", "jazz")
	person(t, st, "Ben", "jazz")
	person(t, st, "Cy", "quilting")
	clk := &clock{t: t0}
	const window = 5 * time.Minute
	budget := rematch.BudgetConfig{Window: window, Now: clk.Now}
	q := &delayedSender{}
	r := rematch.NewBoundedRematcher(q, st, budget)
	w := rematch.NewWorker(st, compat.New(nil, compat.Config{}), &recordingSender{}, rematch.Config{K: 3, Budget: budget})

	// 20 edits in 20 seconds; the job queued at once runs right after the first.
	topics := []string{"jazz", "quilting"}
	var last store.User
	for i := range 20 {
		clk.set(t0.Add(time.Duration(i) * time.Second))
		last = update(t, st, u.ID, func(u *store.User) { u.Shades[0].Public.Topics = []string{topics[i%2]} })
		if err := r.Rematch(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			runJobs(t, w, q.take())
		}
	}
	got := q.take()
	// The second edit (at 1s) marked Ann dirty: one rematch for the window's end, 5m after the first.
	want := []sent{{window - time.Second, rematch.DirtyUserJob(u.ID)}}
	if !slices.Equal(got, want) {
		t.Fatalf("jobs after edits 2-20 = %+v, want only %+v (one rematch for the window's end)", got, want)
	}

	// The window's end: the dirty rematch reads the last edit and opens the next window.
	clk.set(t0.Add(window))
	runJobs(t, w, got)
	ids, err := st.UsersWithTerm(ctx, rematch.IndexTerms(last, 32)[0], 10)
	if err != nil || !slices.Contains(ids, u.ID) {
		t.Errorf("after the window's rematch, %s is indexed under %v (%v), want the last edit's terms %v", u.ID, ids, err, rematch.IndexTerms(last, 32))
	}

	clk.set(t0.Add(window + time.Second))
	if err := r.Rematch(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	clk.set(t0.Add(2*window + time.Second)) // past the next window's end: queued at once again
	if err := r.Rematch(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	want = []sent{{window - time.Second, rematch.DirtyUserJob(u.ID)}, {0, rematch.UserJob(u.ID)}}
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
func runJobs(tb testing.TB, w *rematch.Worker, jobs []sent) {
	tb.Helper()
	for _, s := range jobs {
		if err := w.Handle(context.Background(), s.job.Encode()); err != nil {
			tb.Fatalf("job %+v: %v", s.job, err)
		}
	}
}
