package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/secondme/twin/pkg/store"
)

// MarkRematch records an edit of userID at now for the coalescing of rematches: one statement
// opens a dirty window when none is open, or marks an open clean window dirty; otherwise the person
// was dirty already.
func (s *Store) MarkRematch(ctx context.Context, userID string, now time.Time, window time.Duration) (store.RematchDecision, time.Time, error) {
	var until, was int64
	var opened int
	// A new window (no row, or its end passed) opens dirty; an open clean one turns dirty. RETURNING
	// tells which: the new until is this edit's when the window opened now.
	newUntil := ms(now.Add(window))
	err := s.w.queryRow(ctx, `INSERT INTO rematch_windows (user_id, until, dirty) VALUES (?1, ?2, 1)
		ON CONFLICT DO UPDATE SET
			dirty = 1,
			until = CASE WHEN until <= ?3 THEN ?2 ELSE until END
		WHERE until <= ?3 OR dirty = 0
		RETURNING until, until = ?2`, userID, newUntil, ms(now)).Scan(&until, &opened)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Open and dirty already: nothing changed.
		if err := s.w.queryRow(ctx, `SELECT until FROM rematch_windows WHERE user_id = ?`, userID).Scan(&was); err != nil {
			return 0, time.Time{}, fmt.Errorf("mark rematch of %s: %w", userID, err)
		}
		return store.RematchCoalesced, fromMS(was), nil
	case err != nil:
		return 0, time.Time{}, fmt.Errorf("mark rematch of %s: %w", userID, err)
	case opened == 0:
		return store.RematchAtWindowEnd, fromMS(until), nil
	}
	return store.RematchNow, fromMS(until), nil
}

// OpenRematchWindow starts a clean window at now, ending at now+window, in the person's row (none
// when they have no window).
func (s *Store) OpenRematchWindow(ctx context.Context, userID string, now time.Time, window time.Duration) error {
	if _, err := s.w.exec(ctx, `UPDATE rematch_windows SET until = ?, dirty = 0 WHERE user_id = ?`,
		ms(now.Add(window)), userID); err != nil {
		return fmt.Errorf("open rematch window of %s: %w", userID, err)
	}
	return nil
}

// ConsumeBudget adds n to a budget counter unless that would pass limit.
func (s *Store) ConsumeBudget(ctx context.Context, owner, name, day string, n, limit int) (int, error) {
	var count int
	err := s.w.queryRow(ctx, `INSERT INTO budgets (owner, name, day, count) SELECT ?1, ?2, ?3, ?4 WHERE max(?4, 1) <= ?5
		ON CONFLICT DO UPDATE SET count = count + ?4 WHERE count + max(?4, 1) <= ?5 RETURNING count`,
		owner, name, day, n, limit).Scan(&count)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.w.queryRow(ctx, `SELECT count FROM budgets WHERE owner = ? AND name = ? AND day = ?`, owner, name, day).Scan(&count)
		if err == nil || errors.Is(err, sql.ErrNoRows) {
			err = store.ErrQuotaExceeded
		}
	}
	if err != nil {
		return count, fmt.Errorf("consume budget %s of %q on %s: %w", name, owner, day, err)
	}
	return count, nil
}

// DeferMatch records a deferred pair, keeping the first time.
func (s *Store) DeferMatch(ctx context.Context, a, b string, at time.Time) error {
	a, b = min(a, b), max(a, b)
	if _, err := s.w.exec(ctx, `INSERT INTO match_deferrals (a, b, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		a, b, ms(at)); err != nil {
		return fmt.Errorf("defer match %s/%s: %w", a, b, err)
	}
	return nil
}

// ListDeferred returns up to limit deferred pairs, the longest deferred first.
func (s *Store) ListDeferred(ctx context.Context, limit int) ([]store.Deferral, error) {
	rows, err := s.r.query(ctx, `SELECT a, b, since FROM match_deferrals ORDER BY since, a, b LIMIT ?`, max(limit, 0))
	if err != nil {
		return nil, fmt.Errorf("list deferred matches: %w", err)
	}
	defer rows.Close()
	var out []store.Deferral
	for rows.Next() {
		var d store.Deferral
		var since int64
		if err := rows.Scan(&d.A, &d.B, &since); err != nil {
			return nil, fmt.Errorf("list deferred matches: %w", err)
		}
		d.Since = fromMS(since)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deferred matches: %w", err)
	}
	return out, nil
}

// ClearDeferred removes the deferral of a pair.
func (s *Store) ClearDeferred(ctx context.Context, a, b string) error {
	a, b = min(a, b), max(a, b)
	if _, err := s.w.exec(ctx, `DELETE FROM match_deferrals WHERE a = ? AND b = ?`, a, b); err != nil {
		return fmt.Errorf("clear deferred match %s/%s: %w", a, b, err)
	}
	return nil
}
