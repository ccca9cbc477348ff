package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/pkg/store"
)

// termItem indexes a user under a term: PK TERM#<term>, SK USER#<user>; also on GSI1 (GSI1PK
// USER#<user>, GSI1SK TERM#<term>) so that erasing a person finds every entry.
type termItem struct {
	keys
	Term   string
	UserID string
}

// termsItem lists a user's terms: PK USER#<user>, SK TERMS. Rev guards its read-modify-write.
type termsItem struct {
	keys
	Terms []string
	Rev   int64
}

func termKey(term, userID string) key { return key{"TERM#" + part(term), userPK(userID)} }

// SetUserTerms replaces the terms under which a user is indexed, in an order that a retry finishes:
//  1. the user's list is set to old ∪ new (conditional on its Rev), so every entry written is listed;
//  2. the new term entries are written and the old ones deleted (BatchWriteItem);
//  3. the list is set to the new terms (conditional on the Rev of step 1; if another call started
//     meanwhile, its own step 3 sets the list).
func (s *Store) SetUserTerms(ctx context.Context, userID string, terms []string) error {
	want := slices.Clone(terms)
	slices.Sort(want)
	want = slices.Compact(want)
	var err error
	for range 5 {
		if err = s.setUserTerms(ctx, userID, want); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("set terms of %s: %w", userID, err)
	}
	return nil
}

func (s *Store) setUserTerms(ctx context.Context, userID string, want []string) error {
	var cur termsItem
	if err := s.get(ctx, key{userPK(userID), skTerms}, &cur); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	list := func(terms []string, rev int64) termsItem {
		return termsItem{keys: keys{PK: userPK(userID), SK: skTerms, Kind: "terms"}, Terms: terms, Rev: rev}
	}
	union := slices.Concat(cur.Terms, want)
	slices.Sort(union)
	union = slices.Compact(union)
	err := s.table.Put(list(union, cur.Rev+1)).If("attribute_not_exists(PK) OR $ = ?", "Rev", cur.Rev).Run(ctx)
	if err = mapErr(err, store.ErrConflict); err != nil {
		return err
	}
	var puts []any
	for _, t := range want {
		k := termKey(t, userID)
		puts = append(puts, termItem{
			keys: keys{PK: k.pk, SK: k.sk, Kind: "term", GSI1PK: userPK(userID), GSI1SK: k.pk},
			Term: t, UserID: userID,
		})
	}
	if len(puts) > 0 {
		if _, err := s.table.Batch("PK", "SK").Write().Put(puts...).Run(ctx); err != nil {
			return err
		}
	}
	var stale []key
	for _, t := range cur.Terms {
		if _, found := slices.BinarySearch(want, t); !found {
			stale = append(stale, termKey(t, userID))
		}
	}
	if err := s.deleteKeys(ctx, stale); err != nil {
		return err
	}
	err = s.table.Put(list(want, cur.Rev+2)).If("$ = ?", "Rev", cur.Rev+1).Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return err
	}
	return nil
}

// UsersWithTerm returns up to limit ids of users indexed under a term: a Query of the term's partition.
func (s *Store) UsersWithTerm(ctx context.Context, term string, limit int) ([]string, error) {
	if limit <= 0 {
		return []string{}, nil
	}
	var items []termItem
	err := s.table.Get("PK", "TERM#"+part(term)).Project("UserID").Limit(limit).All(ctx, &items)
	if err != nil {
		return nil, fmt.Errorf("users with term %q: %w", term, err)
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.UserID
	}
	return ids, nil
}
