package rematch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/store"
)

// Defaults of BudgetConfig.
const (
	// DefaultWindow is how long a person's edits coalesce after a rematch was queued for them.
	DefaultWindow = 5 * time.Minute
	// MaxWindow is the longest window: the rematch of its end is a delayed message (SQS: 15 minutes).
	MaxWindow = 15 * time.Minute
	// DefaultPersonCalls is a person's daily matching budget of model calls.
	DefaultPersonCalls = 150
	// DefaultNightlyCalls is the daily budget of model calls of the background (nightly) matching.
	DefaultNightlyCalls = 50_000
	// DefaultCallsPerPair is the most model calls the model part of one pair makes: the twins'
	// conversation with the judge's first order, and the judge's second order (compat.Scorer).
	DefaultCallsPerPair = 2
)

// Names of the budget counters (store.ConsumeBudget).
const (
	// BudgetMatch is a person's daily matching budget: owner is the person.
	BudgetMatch = "match"
	// BudgetNightly is the service's daily budget of background matching: owner is "".
	BudgetNightly = "nightly"
)

// BudgetConfig bounds what matching spends on the model. The zero BudgetConfig takes every default.
type BudgetConfig struct {
	// Window is how long, after a rematch was queued for a person, their further edits coalesce
	// into one rematch at the window's end; default DefaultWindow, at most MaxWindow.
	Window time.Duration
	// PersonCalls is a person's daily matching budget of model calls: the pairs their edits and
	// refreshes recompute, and one per refresh; default DefaultPersonCalls.
	PersonCalls int
	// NightlyCalls is the daily budget of model calls of the pairs no person asked for (the
	// nightly run's); default DefaultNightlyCalls.
	NightlyCalls int
	// CallsPerPair is what the model part of one pair is counted as; default DefaultCallsPerPair.
	CallsPerPair int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Metrics records the pairs deferred (metrics.MatchingDeferred); default none.
	Metrics metrics.Recorder
}

func (c BudgetConfig) withDefaults() BudgetConfig {
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	c.Window = min(c.Window, MaxWindow)
	if c.PersonCalls <= 0 {
		c.PersonCalls = DefaultPersonCalls
	}
	if c.NightlyCalls <= 0 {
		c.NightlyCalls = DefaultNightlyCalls
	}
	if c.CallsPerPair <= 0 {
		c.CallsPerPair = DefaultCallsPerPair
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Metrics == nil {
		c.Metrics = metrics.Nop{}
	}
	return c
}

// BudgetStore is what the budgets read and write.
type BudgetStore interface {
	ConsumeBudget(ctx context.Context, owner, name, day string, n, limit int) (int, error)
	DeferMatch(ctx context.Context, a, b string, at time.Time) error
	ClearDeferred(ctx context.Context, a, b string) error
	OpenRematchWindow(ctx context.Context, userID string, now time.Time, window time.Duration) error
}

var _ BudgetStore = store.Store(nil)

// day is the budget day of t: its date in UTC.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// untilMidnight is how long from t until the budgets of its day start again.
func untilMidnight(t time.Time) time.Duration {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC).Sub(t)
}

// spend counts the model part of one pair against the budget that pays for it: by's matching budget,
// or the nightly budget when no person asked. It reports false when that budget has no room left.
func (w *CompatWorker) spend(ctx context.Context, by string) (bool, error) {
	b := w.cfg.Budget
	owner, name, limit := by, BudgetMatch, b.PersonCalls
	if by == "" {
		owner, name, limit = "", BudgetNightly, b.NightlyCalls
	}
	_, err := w.budget.ConsumeBudget(ctx, owner, name, day(b.Now()), b.CallsPerPair, limit)
	switch {
	case errors.Is(err, store.ErrQuotaExceeded):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("spend %s budget: %w", name, err)
	}
	return true, nil
}

// compute returns the match of ua and ub. The model part runs when the scorer has a model and the
// budget that pays for it (by's, or the nightly's) has room; otherwise (or when the nightly run found
// its plan full: over) the deterministic match is returned with deferred set, and the pair waits for a
// later night. An error of the model comes back with the deterministic match (see Pair).
func (w *CompatWorker) compute(ctx context.Context, ua, ub store.User, by string, over bool) (m store.Match, deferred bool, err error) {
	if w.scorer.Algorithm() == formula.Version {
		m, err = w.scorer.Compute(ctx, ua, ub)
		return m, false, err
	}
	ok := false
	if !over {
		if ok, err = w.spend(ctx, by); err != nil {
			return store.Match{}, false, err
		}
	}
	if !ok {
		budget := "person"
		if by == "" {
			budget = "nightly"
		}
		w.cfg.Budget.Metrics.Record(metrics.Sample{Dimension: metrics.DimBudget, Value: budget,
			Counts: []metrics.Count{{Name: metrics.MatchingDeferred, Value: 1}}})
		slog.InfoContext(ctx, "matching budget spent; the model part waits", "user_a", ua.ID, "user_b", ub.ID, "by", by, "budget", budget)
		return w.scorer.Deterministic(ua, ub), true, nil
	}
	m, err = w.scorer.Compute(ctx, ua, ub)
	return m, false, err
}

// settle records, after the match m of a and b was stored, whether its model part still waits: a
// deferral when it was deferred, none once the model part is in.
func (w *CompatWorker) settle(ctx context.Context, a, b string, m store.Match, deferred bool) error {
	switch {
	case deferred:
		if err := w.budget.DeferMatch(ctx, a, b, w.cfg.Budget.Now()); err != nil {
			return fmt.Errorf("defer match %s/%s: %w", a, b, err)
		}
	case m.Algorithm == w.scorer.Algorithm():
		if err := w.budget.ClearDeferred(ctx, a, b); err != nil {
			return fmt.Errorf("clear deferred match %s/%s: %w", a, b, err)
		}
	}
	return nil
}

// resume queues, after the changed people's pairs, the pairs whose model part waits for a budget,
// the longest deferred first, as many as what the nightly budget has left after the changed people's
// can pay for; the rest wait for a later night.
func (r *run) resume(ctx context.Context) error {
	room := r.capacity - r.planned
	if room <= 0 {
		slog.InfoContext(ctx, "rematch progress", "phase", "deferred", "pairs", 0)
		return nil
	}
	ds, err := r.n.store.ListDeferred(ctx, room)
	if err != nil {
		return fmt.Errorf("list deferred matches: %w", err)
	}
	for _, d := range ds {
		r.stats.Deferred++
		r.queue(d.A, d.B)
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	slog.InfoContext(ctx, "rematch progress", "phase", "deferred", "pairs", len(ds))
	return nil
}
