package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

const userCols = `id, nickname, avatar, bio, provider, discoverable, allow_twin_chat, shades, memories,
	profile_version, profile_changed_at, rev, created_at, updated_at, language`

// userArgs are the values of userCols for u, in order.
func userArgs(u store.User) ([]any, error) {
	shades, err := toJSON(u.Shades)
	if err != nil {
		return nil, fmt.Errorf("encode shades: %w", err)
	}
	mems := make([]store.Memory, len(u.Memories))
	for i, m := range u.Memories {
		m.CreatedAt = m.CreatedAt.Truncate(time.Millisecond).UTC()
		mems[i] = m
	}
	memories, err := toJSON(mems)
	if err != nil {
		return nil, fmt.Errorf("encode memories: %w", err)
	}
	return []any{u.ID, u.Nickname, u.Avatar, u.Bio, u.Provider, boolInt(u.Discoverable), boolInt(u.AllowTwinChat),
		shades, memories, u.ProfileVersion, ms(u.ProfileChangedAt), u.Rev, ms(u.CreatedAt), ms(u.UpdatedAt), u.Language}, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(sc scanner) (store.User, error) {
	var u store.User
	var shades, memories string
	var changed, created, updated int64
	if err := sc.Scan(&u.ID, &u.Nickname, &u.Avatar, &u.Bio, &u.Provider, &u.Discoverable, &u.AllowTwinChat,
		&shades, &memories, &u.ProfileVersion, &changed, &u.Rev, &created, &updated, &u.Language); err != nil {
		return store.User{}, err
	}
	if err := json.Unmarshal([]byte(shades), &u.Shades); err != nil {
		return store.User{}, fmt.Errorf("decode shades of %s: %w", u.ID, err)
	}
	if err := json.Unmarshal([]byte(memories), &u.Memories); err != nil {
		return store.User{}, fmt.Errorf("decode memories of %s: %w", u.ID, err)
	}
	if len(u.Shades) == 0 {
		u.Shades = nil
	}
	if len(u.Memories) == 0 {
		u.Memories = nil
	}
	u.ProfileChangedAt, u.CreatedAt, u.UpdatedAt = fromMS(changed), fromMS(created), fromMS(updated)
	return u, nil
}

func scanUsers(rows *sql.Rows) ([]store.User, error) {
	defer rows.Close()
	var users []store.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// CreateUser stores a new user; ErrConflict if the id exists.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	args, err := userArgs(u)
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	res, err := s.w.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT DO NOTHING`, args...)
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("create user %s: %w", u.ID, errors.Join(err, store.ErrConflict))
	}
	return nil
}

// GetUser returns a user; ErrNotFound if there is none.
func (s *Store) GetUser(ctx context.Context, userID string) (store.User, error) {
	u, err := scanUser(s.r.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, fmt.Errorf("get user %s: %w", userID, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", userID, err)
	}
	return u, nil
}

// GetTwin returns the user twinID and whether either of twinID and viewerID blocked the other, in one
// query; ErrNotFound if there is no user twinID.
func (s *Store) GetTwin(ctx context.Context, twinID, viewerID string) (store.User, bool, error) {
	var blocked bool
	row := s.r.queryRow(ctx, twinQuery, twinID, viewerID)
	u, err := scanUser(extraCols{row, []any{&blocked}})
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, false, fmt.Errorf("get twin %s: %w", twinID, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, false, fmt.Errorf("get twin %s for %s: %w", twinID, viewerID, err)
	}
	return u, blocked, nil
}

// twinQuery reads the user ?1 and whether ?1 and the user ?2 (another person) blocked each other.
const twinQuery = `SELECT ` + userCols + `, ?2 <> ?1 AND (
		EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?1 AND blocked_id = ?2)
		OR EXISTS (SELECT 1 FROM blocks WHERE blocker_id = ?2 AND blocked_id = ?1))
	FROM users WHERE id = ?1`

// extraCols scans a row of userCols followed by more columns: scanUser fills the user, dest the rest.
type extraCols struct {
	sc   scanner
	dest []any
}

func (e extraCols) Scan(dest ...any) error { return e.sc.Scan(append(dest, e.dest...)...) }

// GetUsers returns the users that exist among ids.
func (s *Store) GetUsers(ctx context.Context, ids []string) ([]store.User, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := toJSON(ids)
	if err != nil {
		return nil, fmt.Errorf("get users: %w", err)
	}
	rows, err := s.r.query(ctx, `SELECT `+userCols+` FROM users WHERE id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, fmt.Errorf("get users: %w", err)
	}
	users, err := scanUsers(rows)
	if err != nil {
		return nil, fmt.Errorf("get users: %w", err)
	}
	return users, nil
}

// UpdateUser replaces a user if its stored Rev equals u.Rev, and stores it with Rev+1.
func (s *Store) UpdateUser(ctx context.Context, u store.User) (store.User, error) {
	next := u
	next.Rev = u.Rev + 1
	args, err := userArgs(next)
	if err != nil {
		return store.User{}, fmt.Errorf("update user %s: %w", u.ID, err)
	}
	err = s.w.tx(ctx, func(t *txn) error {
		res, err := t.exec(`UPDATE users SET (`+userCols+`) = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE id = ? AND rev = ?`,
			append(args, u.ID, u.Rev)...)
		if err != nil {
			return err
		}
		if ok, err := affected(res); err != nil || ok {
			return err
		}
		var one int
		err = t.queryRow(`SELECT 1 FROM users WHERE id = ?`, u.ID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		return errors.Join(err, store.ErrConflict)
	})
	if err != nil {
		return store.User{}, fmt.Errorf("update user %s: %w", u.ID, err)
	}
	return s.GetUser(ctx, u.ID)
}

// ChangedUsers lists users whose ProfileChangedAt is at or after since, oldest change first.
func (s *Store) ChangedUsers(ctx context.Context, since time.Time, cursor string, limit int) (store.Page[store.User], error) {
	limit = clampLimit(limit)
	scope := "changed:" + strconv.FormatInt(ms(since), 10)
	key, err := store.DecodeCursor(scope, cursor, 2)
	if err != nil {
		return store.Page[store.User]{}, fmt.Errorf("changed users: %w", err)
	}
	afterAt, afterID := ms(since), ""
	if key != nil {
		at, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil || at < ms(since) || !id.Valid(key[1]) {
			return store.Page[store.User]{}, fmt.Errorf("changed users: cursor position: %w", store.ErrBadCursor)
		}
		afterAt, afterID = at, key[1]
	}
	rows, err := s.r.query(ctx, `SELECT `+userCols+` FROM users WHERE (profile_changed_at, id) > (?, ?)
		ORDER BY profile_changed_at, id LIMIT ?`, afterAt, afterID, limit+1)
	if err != nil {
		return store.Page[store.User]{}, fmt.Errorf("changed users: %w", err)
	}
	users, err := scanUsers(rows)
	if err != nil {
		return store.Page[store.User]{}, fmt.Errorf("changed users: %w", err)
	}
	return page(users, limit, func(u store.User) string {
		return store.EncodeCursor(scope, strconv.FormatInt(ms(u.ProfileChangedAt), 10), u.ID)
	}), nil
}

// ScanUsers walks all users in id order.
func (s *Store) ScanUsers(ctx context.Context, cursor string, limit int) (store.Page[store.User], error) {
	limit = clampLimit(limit)
	const scope = "scan"
	key, err := store.DecodeCursor(scope, cursor, 1)
	if err != nil {
		return store.Page[store.User]{}, fmt.Errorf("scan users: %w", err)
	}
	after := ""
	if key != nil {
		if !id.Valid(key[0]) {
			return store.Page[store.User]{}, fmt.Errorf("scan users: cursor position: %w", store.ErrBadCursor)
		}
		after = key[0]
	}
	rows, err := s.r.query(ctx, `SELECT `+userCols+` FROM users WHERE id > ? ORDER BY id LIMIT ?`, after, limit+1)
	if err != nil {
		return store.Page[store.User]{}, fmt.Errorf("scan users: %w", err)
	}
	users, err := scanUsers(rows)
	if err != nil {
		return store.Page[store.User]{}, fmt.Errorf("scan users: %w", err)
	}
	return page(users, limit, func(u store.User) string { return store.EncodeCursor(scope, u.ID) }), nil
}

// page cuts items (fetched with limit+1) to one page, with the cursor of its last item when more follow.
func page[T any](items []T, limit int, cursor func(T) string) store.Page[T] {
	if len(items) <= limit {
		return store.Page[T]{Items: items}
	}
	items = items[:limit]
	return store.Page[T]{Items: items, Next: cursor(items[limit-1])}
}

// EraseUser removes every record of the user, in one transaction: also the chat sessions other people
// hold with the user's twin.
func (s *Store) EraseUser(ctx context.Context, userID string) error {
	err := s.w.tx(ctx, func(t *txn) error {
		for _, q := range []string{
			// Messages first, then their sessions: the user's own and those held with the user's twin.
			`DELETE FROM chat_messages WHERE session_id IN (SELECT id FROM chat_sessions WHERE owner_id = ?1)`,
			`DELETE FROM chat_messages WHERE session_id IN (SELECT id FROM chat_sessions WHERE twin_id = ?1)`,
			`DELETE FROM chat_sessions WHERE owner_id = ?1`,
			`DELETE FROM chat_sessions WHERE twin_id = ?1`,
			`DELETE FROM identities WHERE user_id = ?1`,
			`DELETE FROM login_sessions WHERE user_id = ?1`,
			`DELETE FROM matches WHERE a = ?1`,
			`DELETE FROM matches WHERE b = ?1`,
			`DELETE FROM match_entries WHERE user_id = ?1`,
			`DELETE FROM match_entries WHERE other_id = ?1`,
			`DELETE FROM blocks WHERE blocker_id = ?1`,
			`DELETE FROM blocks WHERE blocked_id = ?1`,
			`DELETE FROM quotas WHERE user_id = ?1`,
			`DELETE FROM budgets WHERE owner = ?1`,
			`DELETE FROM rematch_windows WHERE user_id = ?1`,
			`DELETE FROM match_deferrals WHERE a = ?1`,
			`DELETE FROM match_deferrals WHERE b = ?1`,
			`DELETE FROM user_terms WHERE user_id = ?1`,
			`DELETE FROM users WHERE id = ?1`,
		} {
			if _, err := t.exec(q, userID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase user %s: %w", userID, err)
	}
	return nil
}
