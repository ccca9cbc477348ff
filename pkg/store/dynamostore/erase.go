package dynamostore

import (
	"context"
	"fmt"
	"strings"
)

// EraseUser removes every record of the user. Everything about a person is reachable from the two
// USER#<id> partitions, the base table's (profile, match entries, blocks made, quota counters, terms
// list) and GSI1's (chat sessions, the twin links of sessions other people hold with their twin,
// identities, login sessions, term entries, blocks on them), so it reads those two and deletes leaves
// first, the items that lead to them next and the profile last:
//  1. each chat session, their own and those held with their twin (its messages, then the session
//     item and its twin link, the one through which the person reached it last);
//  2. identities, login sessions, term entries, blocks on the user, and, for each match entry,
//     the pair item and the other person's entry;
//  3. the user's own match entries, blocks made, quota counters and terms list;
//  4. the profile.
//
// A retry after a failure part-way finds what is left and finishes.
func (s *Store) EraseUser(ctx context.Context, userID string) error {
	if err := s.eraseUser(ctx, userID); err != nil {
		return fmt.Errorf("erase user %s: %w", userID, err)
	}
	return nil
}

func (s *Store) eraseUser(ctx context.Context, userID string) error {
	own, err := s.partition(ctx, userPK(userID))
	if err != nil {
		return err
	}
	refs, err := s.gsi1Keys(ctx, userID, "")
	if err != nil {
		return err
	}
	var leaves, branches []key
	for _, k := range refs {
		switch {
		case strings.HasPrefix(k.pk, "SESSION#"):
			// A session item of theirs, or the twin link of a session held with their twin.
			sessionID := strings.TrimPrefix(k.pk, "SESSION#")
			if err := s.deleteSession(ctx, sessionID, userID); err != nil {
				return fmt.Errorf("delete session %s: %w", sessionID, err)
			}
		case k.pk == userPK(userID):
			// The user's own match entries: handled with their partition below.
		default:
			leaves = append(leaves, k)
		}
	}
	for _, it := range own {
		switch {
		case it.SK == skProfile:
			// Last.
		case strings.HasPrefix(it.SK, "MATCH#"):
			other := strings.TrimPrefix(it.SK, "MATCH#")
			leaves = append(leaves, pairKey(userID, other), deferKey(userID, other), entryKey(other, userID))
			branches = append(branches, key{it.PK, it.SK})
		default:
			branches = append(branches, key{it.PK, it.SK})
		}
	}
	if err := s.deleteKeys(ctx, leaves); err != nil {
		return err
	}
	if err := s.deleteKeys(ctx, branches); err != nil {
		return err
	}
	return s.table.Delete("PK", userPK(userID)).Range("SK", skProfile).Run(ctx)
}
