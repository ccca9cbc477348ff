package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/secondme/twin/pkg/store"
)

// The matching budget state of the memStore (rematch.BudgetStore and the nightly's ListDeferred),
// with the semantics of the store contract: budget counters per owner, name and day, deferrals that
// keep their first time, listed longest deferred first, and the coalescing window of each person.

type budgetKey struct{ owner, name, day string }

func (s *memStore) ConsumeBudget(ctx context.Context, owner, name, day string, n, limit int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.budgets == nil {
		s.budgets = map[budgetKey]int{}
	}
	k := budgetKey{owner, name, day}
	if s.budgets[k]+max(n, 1) > limit {
		return s.budgets[k], fmt.Errorf("budget %s of %q: %w", name, owner, store.ErrQuotaExceeded)
	}
	s.budgets[k] += n
	return s.budgets[k], nil
}

func (s *memStore) DeferMatch(ctx context.Context, a, b string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deferred == nil {
		s.deferred = map[[2]string]time.Time{}
	}
	k := [2]string{min(a, b), max(a, b)}
	if _, ok := s.deferred[k]; !ok {
		s.deferred[k] = at
	}
	return nil
}

func (s *memStore) ClearDeferred(ctx context.Context, a, b string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.deferred, [2]string{min(a, b), max(a, b)})
	return nil
}

func (s *memStore) ListDeferred(ctx context.Context, limit int) ([]store.Deferral, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.Deferral, 0, len(s.deferred))
	for k, at := range s.deferred {
		out = append(out, store.Deferral{A: k[0], B: k[1], Since: at})
	}
	slices.SortFunc(out, func(x, y store.Deferral) int {
		return cmp.Or(x.Since.Compare(y.Since), cmp.Compare(x.A, y.A), cmp.Compare(x.B, y.B))
	})
	return out[:min(max(limit, 0), len(out))], nil
}

func (s *memStore) OpenRematchWindow(ctx context.Context, userID string, now time.Time, w time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.windows == nil {
		s.windows = map[string]time.Time{}
	}
	s.windows[userID] = now.Add(w)
	return nil
}
