package sqlitestore

import (
	"context"
	"fmt"
)

// EraseAccount removes the user's profile, identities and login sessions, in one transaction.
func (s *Store) EraseAccount(ctx context.Context, userID string) error {
	err := s.w.tx(ctx, func(t *txn) error {
		for _, q := range []string{
			`DELETE FROM identities WHERE user_id = ?1`,
			`DELETE FROM login_sessions WHERE user_id = ?1`,
			`DELETE FROM users WHERE id = ?1`,
		} {
			if _, err := t.exec(q, userID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase account %s: %w", userID, err)
	}
	return nil
}
