package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

const matchCols = `a, b, score, reasoning, highlights, challenges, parts, transcript, version_a, version_b, algorithm, computed_at`

// PutMatch stores a pair's match and both people's list entries (A < B), replacing an older result.
func (s *Store) PutMatch(ctx context.Context, m store.Match) error {
	if m.A >= m.B {
		return fmt.Errorf("put match %s-%s: the pair must be ordered A < B", m.A, m.B)
	}
	var enc [4]string
	for i, v := range []any{m.Highlights, m.Challenges, m.Parts, m.Transcript} {
		var err error
		if enc[i], err = toJSON(v); err != nil {
			return fmt.Errorf("put match %s-%s: %w", m.A, m.B, err)
		}
	}
	at := ms(m.ComputedAt)
	err := s.w.tx(ctx, func(t *txn) error {
		if _, err := t.exec(`INSERT OR REPLACE INTO matches (`+matchCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
			m.A, m.B, m.Score, m.Reasoning, enc[0], enc[1], enc[2], enc[3], m.VersionA, m.VersionB, m.Algorithm, at); err != nil {
			return err
		}
		for _, p := range [][2]string{{m.A, m.B}, {m.B, m.A}} {
			if _, err := t.exec(`INSERT OR REPLACE INTO match_entries (user_id, other_id, score, computed_at) VALUES (?,?,?,?)`,
				p[0], p[1], m.Score, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put match %s-%s: %w", m.A, m.B, err)
	}
	return nil
}

// GetMatch returns the match of a pair, in either order; ErrNotFound if there is none.
func (s *Store) GetMatch(ctx context.Context, a, b string) (store.Match, error) {
	a, b = min(a, b), max(a, b)
	var m store.Match
	var enc [4]string
	var at int64
	err := s.r.queryRow(ctx, `SELECT `+matchCols+` FROM matches WHERE a = ? AND b = ?`, a, b).Scan(&m.A, &m.B, &m.Score,
		&m.Reasoning, &enc[0], &enc[1], &enc[2], &enc[3], &m.VersionA, &m.VersionB, &m.Algorithm, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Match{}, fmt.Errorf("get match %s-%s: %w", a, b, store.ErrNotFound)
	}
	if err != nil {
		return store.Match{}, fmt.Errorf("get match %s-%s: %w", a, b, err)
	}
	for i, dst := range []any{&m.Highlights, &m.Challenges, &m.Parts, &m.Transcript} {
		if err := json.Unmarshal([]byte(enc[i]), dst); err != nil {
			return store.Match{}, fmt.Errorf("get match %s-%s: decode: %w", a, b, err)
		}
	}
	m.ComputedAt = fromMS(at)
	return m, nil
}

// ListMatches lists a user's matches by score, highest first (then by the other person's id).
func (s *Store) ListMatches(ctx context.Context, userID, cursor string, limit int) (store.Page[store.MatchEntry], error) {
	limit = clampLimit(limit)
	scope := "matches:" + userID
	key, err := store.DecodeCursor(scope, cursor, 2)
	if err != nil {
		return store.Page[store.MatchEntry]{}, fmt.Errorf("list matches of %s: %w", userID, err)
	}
	score, after := 1<<31, ""
	if key != nil {
		n, err := strconv.Atoi(key[0])
		if err != nil || n < 0 || n > 100 || !id.Valid(key[1]) {
			return store.Page[store.MatchEntry]{}, fmt.Errorf("list matches of %s: cursor position: %w", userID, store.ErrBadCursor)
		}
		score, after = n, key[1]
	}
	rows, err := s.r.query(ctx, `SELECT other_id, score, computed_at FROM match_entries
		WHERE user_id = ?1 AND (score < ?2 OR (score = ?2 AND other_id > ?3))
		ORDER BY score DESC, other_id LIMIT ?4`, userID, score, after, limit+1)
	if err != nil {
		return store.Page[store.MatchEntry]{}, fmt.Errorf("list matches of %s: %w", userID, err)
	}
	defer rows.Close()
	var list []store.MatchEntry
	for rows.Next() {
		e := store.MatchEntry{UserID: userID}
		var at int64
		if err := rows.Scan(&e.OtherID, &e.Score, &at); err != nil {
			return store.Page[store.MatchEntry]{}, fmt.Errorf("list matches of %s: %w", userID, err)
		}
		e.ComputedAt = fromMS(at)
		list = append(list, e)
	}
	if err := rows.Err(); err != nil {
		return store.Page[store.MatchEntry]{}, fmt.Errorf("list matches of %s: %w", userID, err)
	}
	return page(list, limit, func(e store.MatchEntry) string {
		return store.EncodeCursor(scope, strconv.Itoa(e.Score), e.OtherID)
	}), nil
}

// DeleteMatch removes the match of a pair and both list entries.
func (s *Store) DeleteMatch(ctx context.Context, a, b string) error {
	a, b = min(a, b), max(a, b)
	err := s.w.tx(ctx, func(t *txn) error {
		for _, q := range []string{
			`DELETE FROM matches WHERE a = ?1 AND b = ?2`,
			`DELETE FROM match_entries WHERE user_id = ?1 AND other_id = ?2`,
			`DELETE FROM match_entries WHERE user_id = ?2 AND other_id = ?1`,
			`DELETE FROM match_deferrals WHERE a = ?1 AND b = ?2`,
		} {
			if _, err := t.exec(q, a, b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete match %s-%s: %w", a, b, err)
	}
	return nil
}

// PutBlock stores a block; storing it again is not an error (the first time is kept).
func (s *Store) PutBlock(ctx context.Context, b store.Block) error {
	if _, err := s.w.exec(ctx, `INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES (?,?,?) ON CONFLICT DO NOTHING`,
		b.BlockerID, b.BlockedID, ms(b.CreatedAt)); err != nil {
		return fmt.Errorf("put block %s-%s: %w", b.BlockerID, b.BlockedID, err)
	}
	return nil
}

// DeleteBlock removes a block.
func (s *Store) DeleteBlock(ctx context.Context, blockerID, blockedID string) error {
	if _, err := s.w.exec(ctx, `DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?`, blockerID, blockedID); err != nil {
		return fmt.Errorf("delete block %s-%s: %w", blockerID, blockedID, err)
	}
	return nil
}

// ListBlocks returns the blocks the user made.
func (s *Store) ListBlocks(ctx context.Context, blockerID string) ([]store.Block, error) {
	rows, err := s.r.query(ctx, `SELECT blocked_id, created_at FROM blocks WHERE blocker_id = ? ORDER BY blocked_id`, blockerID)
	if err != nil {
		return nil, fmt.Errorf("list blocks of %s: %w", blockerID, err)
	}
	defer rows.Close()
	var list []store.Block
	for rows.Next() {
		b := store.Block{BlockerID: blockerID}
		var at int64
		if err := rows.Scan(&b.BlockedID, &at); err != nil {
			return nil, fmt.Errorf("list blocks of %s: %w", blockerID, err)
		}
		b.CreatedAt = fromMS(at)
		list = append(list, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list blocks of %s: %w", blockerID, err)
	}
	return list, nil
}

// Blocked reports whether either person blocked the other.
func (s *Store) Blocked(ctx context.Context, a, b string) (bool, error) {
	var blocked bool
	err := s.r.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2)
		OR EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?2 AND blocked_id = ?1)`, a, b).Scan(&blocked)
	if err != nil {
		return false, fmt.Errorf("blocked %s-%s: %w", a, b, err)
	}
	return blocked, nil
}

// SetUserTerms replaces the terms under which a user is indexed for candidate generation: it deletes
// the terms no longer wanted and inserts the new ones, with their holder position.
func (s *Store) SetUserTerms(ctx context.Context, userID string, terms []string) error {
	want := slices.Clone(terms)
	slices.Sort(want)
	want = slices.Compact(want)
	err := s.w.tx(ctx, func(t *txn) error {
		rows, err := t.query(`SELECT term, pos FROM user_terms WHERE user_id = ?`, userID)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for rows.Next() {
			var term, pos string
			if err := rows.Scan(&term, &pos); err != nil {
				rows.Close()
				return err
			}
			have[term] = pos != "" // rows from before positions are written again
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		pos := store.HolderPosition(userID)
		for term, ok := range have {
			if _, keep := slices.BinarySearch(want, term); keep && ok {
				continue
			}
			if _, err := t.exec(`DELETE FROM user_terms WHERE term = ? AND user_id = ?`, term, userID); err != nil {
				return err
			}
		}
		for _, term := range want {
			if have[term] {
				continue
			}
			if _, err := t.exec(`INSERT INTO user_terms (term, user_id, pos) VALUES (?, ?, ?)`, term, userID, pos); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set terms of %s: %w", userID, err)
	}
	return nil
}

// UsersWithTerm returns up to limit ids of users indexed under a term, in holder position order from
// the asker's position, wrapping around.
func (s *Store) UsersWithTerm(ctx context.Context, term, asker string, limit int) ([]string, error) {
	from := ""
	if asker != "" {
		from = store.HolderPosition(asker)
	}
	rows, err := s.r.query(ctx, `SELECT user_id FROM (
			SELECT user_id, pos, 0 AS lap FROM user_terms WHERE term = ? AND pos >= ?
			UNION ALL
			SELECT user_id, pos, 1 AS lap FROM user_terms WHERE term = ? AND pos < ?
		) ORDER BY lap, pos, user_id LIMIT ?`, term, from, term, from, clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("users with term %q: %w", term, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var uid string
		if err := rows.Scan(&uid); err != nil {
			return nil, fmt.Errorf("users with term %q: %w", term, err)
		}
		ids = append(ids, uid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users with term %q: %w", term, err)
	}
	return ids, nil
}

// GetJobState returns a job's saved state; ErrNotFound if it never ran.
func (s *Store) GetJobState(ctx context.Context, name string) (store.JobState, error) {
	j := store.JobState{Name: name}
	var last, updated int64
	err := s.r.queryRow(ctx, `SELECT last_run, cursor, updated_at FROM job_states WHERE name = ?`, name).Scan(&last, &j.Cursor, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return store.JobState{}, fmt.Errorf("get job state %s: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return store.JobState{}, fmt.Errorf("get job state %s: %w", name, err)
	}
	j.LastRun, j.UpdatedAt = fromMS(last), fromMS(updated)
	return j, nil
}

// PutJobState saves a job's state.
func (s *Store) PutJobState(ctx context.Context, j store.JobState) error {
	if _, err := s.w.exec(ctx, `INSERT OR REPLACE INTO job_states (name, last_run, cursor, updated_at) VALUES (?,?,?,?)`,
		j.Name, ms(j.LastRun), j.Cursor, ms(j.UpdatedAt)); err != nil {
		return fmt.Errorf("put job state %s: %w", j.Name, err)
	}
	return nil
}
