package dynamostore

import (
	"context"
	"fmt"
)

// EraseAccount removes the user's identities and login sessions (a Query on GSI1, then
// BatchWriteItem) and then the profile, so that a retry after a failure part-way finds the rest.
func (s *Store) EraseAccount(ctx context.Context, userID string) error {
	var ks []key
	for _, prefix := range []string{"IDENT#", "LOGIN#"} {
		found, err := s.gsi1Keys(ctx, userID, prefix)
		if err != nil {
			return fmt.Errorf("erase account %s: %w", userID, err)
		}
		ks = append(ks, found...)
	}
	if err := s.deleteKeys(ctx, ks); err != nil {
		return fmt.Errorf("erase account %s: %w", userID, err)
	}
	if err := s.table.Delete("PK", userPK(userID)).Range("SK", skProfile).Run(ctx); err != nil {
		return fmt.Errorf("erase account %s: %w", userID, err)
	}
	return nil
}
