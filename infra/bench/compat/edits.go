package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/llm/offline"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// burst is what one person's burst of edits cost.
type burst struct {
	edits     int
	calls     int64            // model calls the edits caused
	byPurpose map[string]int64 // of them, by purpose
	userJobs  int              // user jobs the edits queued (at once or delayed)
	pairJobs  int              // pair jobs those fanned out
}

// editBurst measures the model calls caused by edits edits of one person's shades, one a second,
// through the real path: a SQLite store of n synthetic people (everyone indexed), the bounded
// Rematcher (coalescing window and budgets at their defaults), the compat worker with the top m and
// the offline model counted by purpose (pkg/metrics), and a queue that delivers each job, delayed or
// not, once a settable clock reaches it. The person had fresh matches before the burst.
func editBurst(n, edits, m int) (burst, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bench-edits-")
	if err != nil {
		return burst{}, err
	}
	defer os.RemoveAll(dir)
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "edits.db"))
	if err != nil {
		return burst{}, err
	}
	defer st.Close()
	users := newGenerator(9).population(n)
	for i := range users {
		users[i].Discoverable = true
		if err := st.CreateUser(ctx, users[i]); err != nil {
			return burst{}, err
		}
		if err := st.SetUserTerms(ctx, users[i].ID, rematch.IndexTerms(users[i], rematch.DefaultIndexTerms)); err != nil {
			return burst{}, err
		}
	}
	clk := &benchClock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	counter := metrics.NewCounter()
	budget := rematch.BudgetConfig{Now: clk.now, Metrics: counter}
	q := &clockQueue{clk: clk}
	model := metrics.CountCalls(offline.New(), counter, metrics.PurposeOther)
	worker := rematch.NewCompatWorker(st, compat.New(model, compat.Config{}), q, rematch.Config{ModelTop: m, Budget: budget})
	q.handle = worker.Handle
	r := rematch.NewBoundedRematcher(q, st, budget)
	me := users[0].ID

	// Before: the person's matches, fresh, an hour ago; then the counts start.
	if err := q.run(ctx, rematch.UserJob(me).Encode()); err != nil {
		return burst{}, err
	}
	clk.add(time.Hour)
	before := counter.Snapshot()[metrics.ModelCalls]
	q.userJobs, q.pairJobs = 0, 0

	for i := range edits {
		u, err := st.GetUser(ctx, me)
		if err != nil {
			return burst{}, err
		}
		u.Shades[0].Description = fmt.Sprintf("%s (edit %d)", u.Shades[0].Description, i+1)
		if u.Shades[0].Public != nil {
			u.Shades[0].Public.Description = u.Shades[0].Description
		}
		u.ProfileVersion++
		u.ProfileChangedAt = clk.now()
		if _, err := st.UpdateUser(ctx, u); err != nil {
			return burst{}, err
		}
		if err := r.Rematch(ctx, me); err != nil {
			return burst{}, err
		}
		if err := q.runDue(ctx); err != nil {
			return burst{}, err
		}
		clk.add(time.Second)
	}
	// Long after: every delayed job has run.
	clk.add(2 * rematch.MaxWindow)
	if err := q.runDue(ctx); err != nil {
		return burst{}, err
	}
	b := burst{edits: edits, byPurpose: map[string]int64{}, userJobs: q.userJobs, pairJobs: q.pairJobs}
	for purpose, c := range counter.Snapshot()[metrics.ModelCalls] {
		if c -= before[purpose]; c > 0 {
			b.byPurpose[purpose] = c
			b.calls += c
		}
	}
	return b, nil
}

// String is the purposes and their calls, in order.
func (b burst) String() string {
	var ps []string
	for p := range b.byPurpose {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%d %s", b.byPurpose[p], p)
	}
	return s
}

// benchClock is a settable clock.
type benchClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *benchClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *benchClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// clockQueue holds jobs until the clock reaches them (Send: now; SendAfter: now plus the delay) and
// runs them, with what they send, in the order they are due.
type clockQueue struct {
	clk      *benchClock
	handle   func(ctx context.Context, body []byte) error
	due      []queued
	userJobs int
	pairJobs int
}

type queued struct {
	at   time.Time
	body []byte
}

func (q *clockQueue) Send(ctx context.Context, bodies ...[]byte) error {
	return q.SendAfter(ctx, 0, bodies...)
}

func (q *clockQueue) SendAfter(ctx context.Context, delay time.Duration, bodies ...[]byte) error {
	for _, b := range bodies {
		q.due = append(q.due, queued{at: q.clk.now().Add(delay), body: append([]byte(nil), b...)})
	}
	return nil
}

// runDue runs every job due by now, and the jobs they send, earliest first.
func (q *clockQueue) runDue(ctx context.Context) error {
	for {
		sort.SliceStable(q.due, func(i, j int) bool { return q.due[i].at.Before(q.due[j].at) })
		if len(q.due) == 0 || q.due[0].at.After(q.clk.now()) {
			return nil
		}
		j := q.due[0]
		q.due = q.due[1:]
		if err := q.run(ctx, j.body); err != nil {
			return err
		}
	}
}

// run handles one job now, counting it, and then every job due.
func (q *clockQueue) run(ctx context.Context, body []byte) error {
	job, err := rematch.DecodeJob(body)
	if err != nil {
		return err
	}
	if job.Kind == rematch.KindUser {
		q.userJobs++
	} else {
		q.pairJobs++
	}
	if err := q.handle(ctx, body); err != nil {
		return fmt.Errorf("job %s: %w", body, err)
	}
	return q.runDue(ctx)
}
