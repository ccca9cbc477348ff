package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/secondme/twin/pkg/store"
)

const identityCols = `provider, subject, user_id, sealed_tokens, token_expires_at, revoked, created_at, updated_at, revoked_by`

func scanIdentity(sc scanner) (store.Identity, error) {
	var i store.Identity
	var expires, created, updated int64
	var revokedBy string
	if err := sc.Scan(&i.Provider, &i.Subject, &i.UserID, &i.SealedTokens, &expires, &i.Revoked, &created, &updated, &revokedBy); err != nil {
		return store.Identity{}, err
	}
	if err := json.Unmarshal([]byte(revokedBy), &i.RevokedBy); err != nil {
		return store.Identity{}, fmt.Errorf("revoked_by: %w", err)
	}
	if len(i.SealedTokens) == 0 {
		i.SealedTokens = nil
	}
	i.TokenExpiresAt, i.CreatedAt, i.UpdatedAt = fromMS(expires), fromMS(created), fromMS(updated)
	return i, nil
}

// CreateIdentity stores a new identity; ErrConflict if (Provider, Subject) exists.
func (s *Store) CreateIdentity(ctx context.Context, i store.Identity) error {
	revokedBy, err := toJSON(i.RevokedBy)
	if err != nil {
		return fmt.Errorf("create identity %s: %w", i.Provider, err)
	}
	res, err := s.w.exec(ctx, `INSERT INTO identities (`+identityCols+`) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
		i.Provider, i.Subject, i.UserID, i.SealedTokens, ms(i.TokenExpiresAt), boolInt(i.Revoked), ms(i.CreatedAt), ms(i.UpdatedAt), revokedBy)
	if err != nil {
		return fmt.Errorf("create identity %s: %w", i.Provider, err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("create identity %s: %w", i.Provider, errors.Join(err, store.ErrConflict))
	}
	return nil
}

// GetIdentity returns an identity; ErrNotFound if there is none.
func (s *Store) GetIdentity(ctx context.Context, provider, subject string) (store.Identity, error) {
	i, err := scanIdentity(s.r.queryRow(ctx, `SELECT `+identityCols+` FROM identities WHERE provider = ? AND subject = ?`,
		provider, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Identity{}, fmt.Errorf("get identity %s: %w", provider, store.ErrNotFound)
	}
	if err != nil {
		return store.Identity{}, fmt.Errorf("get identity %s: %w", provider, err)
	}
	return i, nil
}

// PutIdentity replaces an existing identity; ErrNotFound if there is none.
func (s *Store) PutIdentity(ctx context.Context, i store.Identity) error {
	revokedBy, err := toJSON(i.RevokedBy)
	if err != nil {
		return fmt.Errorf("put identity %s: %w", i.Provider, err)
	}
	res, err := s.w.exec(ctx, `UPDATE identities SET user_id = ?, sealed_tokens = ?, token_expires_at = ?, revoked = ?,
		created_at = ?, updated_at = ?, revoked_by = ? WHERE provider = ? AND subject = ?`,
		i.UserID, i.SealedTokens, ms(i.TokenExpiresAt), boolInt(i.Revoked), ms(i.CreatedAt), ms(i.UpdatedAt), revokedBy,
		i.Provider, i.Subject)
	if err != nil {
		return fmt.Errorf("put identity %s: %w", i.Provider, err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("put identity %s: %w", i.Provider, errors.Join(err, store.ErrNotFound))
	}
	return nil
}

// ListIdentities returns the identities of a user.
func (s *Store) ListIdentities(ctx context.Context, userID string) ([]store.Identity, error) {
	rows, err := s.r.query(ctx, `SELECT `+identityCols+` FROM identities WHERE user_id = ? ORDER BY provider, subject`, userID)
	if err != nil {
		return nil, fmt.Errorf("list identities of %s: %w", userID, err)
	}
	defer rows.Close()
	var ids []store.Identity
	for rows.Next() {
		i, err := scanIdentity(rows)
		if err != nil {
			return nil, fmt.Errorf("list identities of %s: %w", userID, err)
		}
		ids = append(ids, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list identities of %s: %w", userID, err)
	}
	return ids, nil
}

// CreateLoginSession stores a login session; ErrConflict if the hash exists. It sweeps expired ones first.
func (s *Store) CreateLoginSession(ctx context.Context, ls store.LoginSession) error {
	err := s.w.tx(ctx, func(t *txn) error {
		if _, err := t.exec(`DELETE FROM login_sessions WHERE expires_at <= ?`, ms(time.Now())); err != nil {
			return err
		}
		res, err := t.exec(`INSERT INTO login_sessions (token_hash, user_id, created_at, expires_at) VALUES (?,?,?,?)
			ON CONFLICT DO NOTHING`, ls.TokenHash, ls.UserID, ms(ls.CreatedAt), ms(ls.ExpiresAt))
		if err != nil {
			return err
		}
		if ok, err := affected(res); err != nil || !ok {
			return errors.Join(err, store.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create login session: %w", err)
	}
	return nil
}

// GetLoginSession returns a live login session; ErrNotFound if there is none or it has expired.
func (s *Store) GetLoginSession(ctx context.Context, tokenHash string) (store.LoginSession, error) {
	ls := store.LoginSession{TokenHash: tokenHash}
	var created, expires int64
	err := s.r.queryRow(ctx, `SELECT user_id, created_at, expires_at FROM login_sessions WHERE token_hash = ? AND expires_at > ?`,
		tokenHash, ms(time.Now())).Scan(&ls.UserID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.LoginSession{}, fmt.Errorf("get login session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.LoginSession{}, fmt.Errorf("get login session: %w", err)
	}
	ls.CreatedAt, ls.ExpiresAt = fromMS(created), fromMS(expires)
	return ls, nil
}

// RenewLoginSession moves the expiry of a live login session; ErrNotFound if there is none.
func (s *Store) RenewLoginSession(ctx context.Context, tokenHash string, expiresAt time.Time) error {
	res, err := s.w.exec(ctx, `UPDATE login_sessions SET expires_at = ? WHERE token_hash = ? AND expires_at > ?`,
		ms(expiresAt), tokenHash, ms(time.Now()))
	if err != nil {
		return fmt.Errorf("renew login session: %w", err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("renew login session: %w", errors.Join(err, store.ErrNotFound))
	}
	return nil
}

// DeleteLoginSession revokes a login session.
func (s *Store) DeleteLoginSession(ctx context.Context, tokenHash string) error {
	if _, err := s.w.exec(ctx, `DELETE FROM login_sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return fmt.Errorf("delete login session: %w", err)
	}
	return nil
}

// DeleteUserLoginSessions revokes every login session of a user.
func (s *Store) DeleteUserLoginSessions(ctx context.Context, userID string) error {
	if _, err := s.w.exec(ctx, `DELETE FROM login_sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete login sessions of %s: %w", userID, err)
	}
	return nil
}

// ClaimEvent records an event id until expiresAt; ErrConflict if it was claimed before and the claim
// has not expired. It sweeps expired claims first.
func (s *Store) ClaimEvent(ctx context.Context, eventID string, expiresAt time.Time) error {
	err := s.w.tx(ctx, func(t *txn) error {
		if _, err := t.exec(`DELETE FROM events WHERE expires_at <= ?`, ms(time.Now())); err != nil {
			return err
		}
		res, err := t.exec(`INSERT INTO events (event_id, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING`, eventID, ms(expiresAt))
		if err != nil {
			return err
		}
		if ok, err := affected(res); err != nil || !ok {
			return errors.Join(err, store.ErrConflict)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("claim event %s: %w", eventID, err)
	}
	return nil
}
