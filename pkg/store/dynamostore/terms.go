package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/pkg/store"
)

// termItem indexes a user under a term: PK TERM#<term>, SK P#<holder position>#<user> (the holder
// position is store.HolderPosition of the user, so that a lookup can start anywhere among the holders);
// also on GSI1 (GSI1PK USER#<user>, GSI1SK TERM#<term>) so that erasing a person finds every entry.
// Entries written before positions have SK USER#<user>, which sorts after every P# key.
type termItem struct {
	keys
	Term   string
	UserID string
}

// termsItem lists a user's terms: PK USER#<user>, SK TERMS. Terms are the terms whose entries are
// written; Maybe are terms of a change in progress whose entries may be written; every entry that exists
// is in one of the two. Positioned is false on lists from before holder positions, whose entries have the
// old sort key. Rev guards the read-modify-write.
type termsItem struct {
	keys
	Terms      []string
	Maybe      []string `dynamo:",omitempty"`
	Positioned bool
	Rev        int64
}

// termPrefix is the sort key prefix of a positioned term entry.
const termPrefix = "P#"

func termKey(term, userID string) key {
	return key{"TERM#" + part(term), termPrefix + store.HolderPosition(userID) + "#" + userID}
}

// legacyTermKey is the key of a term entry written before holder positions.
func legacyTermKey(term, userID string) key { return key{"TERM#" + part(term), userPK(userID)} }

// SetUserTerms replaces the terms under which a user is indexed, writing only what changed, in an order
// that a retry finishes:
//  1. the list records the new terms as Maybe (conditional on its Rev), so every entry written is listed;
//  2. the entries of new terms are written and those of dropped terms deleted (BatchWriteItem);
//  3. the list is set to the new terms (conditional on the Rev of step 1; if another call started
//     meanwhile, its own step 3 sets the list).
//
// Setting the terms a user has already is one read and no write.
func (s *Store) SetUserTerms(ctx context.Context, userID string, terms []string) error {
	want := sortedSet(terms)
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

func sortedSet(terms []string) []string {
	out := slices.Clone(terms)
	slices.Sort(out)
	return slices.Compact(out)
}

func (s *Store) setUserTerms(ctx context.Context, userID string, want []string) error {
	var cur termsItem
	err := s.get(ctx, key{userPK(userID), skTerms}, &cur)
	switch {
	case errors.Is(err, store.ErrNotFound):
		cur.Positioned = true // no entries at all
	case err != nil:
		return err
	}
	if cur.Positioned && len(cur.Maybe) == 0 && slices.Equal(cur.Terms, want) {
		return nil
	}
	list := func(terms, maybe []string, positioned bool, rev int64) termsItem {
		return termsItem{keys: keys{PK: userPK(userID), SK: skTerms, Kind: "terms"},
			Terms: terms, Maybe: maybe, Positioned: positioned, Rev: rev}
	}
	maybe := sortedSet(slices.Concat(cur.Maybe, want))
	err = s.table.Put(list(cur.Terms, maybe, cur.Positioned, cur.Rev+1)).If("attribute_not_exists(PK) OR $ = ?", "Rev", cur.Rev).Run(ctx)
	if err = mapErr(err, store.ErrConflict); err != nil {
		return err
	}
	written := cur.Terms // terms whose positioned entries exist
	var stale []key
	if !cur.Positioned {
		written = nil
		for _, t := range cur.Terms {
			stale = append(stale, legacyTermKey(t, userID))
		}
	}
	var puts []any
	for _, t := range want {
		if _, found := slices.BinarySearch(written, t); found {
			continue
		}
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
	for _, t := range slices.Concat(written, cur.Maybe) {
		if _, found := slices.BinarySearch(want, t); !found {
			stale = append(stale, termKey(t, userID))
		}
	}
	if err := s.deleteKeys(ctx, stale); err != nil {
		return err
	}
	err = s.table.Put(list(want, nil, true, cur.Rev+2)).If("$ = ?", "Rev", cur.Rev+1).Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return err
	}
	return nil
}

// UsersWithTerm returns up to limit ids of users indexed under a term: a Query of the term's partition
// from the asker's holder position, and, when it ends before limit, one more from the start of the
// partition up to that position (entries from before positions come at the end of the first).
func (s *Store) UsersWithTerm(ctx context.Context, term, asker string, limit int) ([]string, error) {
	if limit <= 0 {
		return []string{}, nil
	}
	pk := "TERM#" + part(term)
	from := termPrefix
	if asker != "" {
		from += store.HolderPosition(asker)
	}
	var items []termItem
	err := s.table.Get("PK", pk).Range("SK", dynamo.GreaterOrEqual, from).Project("UserID").Limit(limit).All(ctx, &items)
	if err == nil && len(items) < limit && from != termPrefix {
		var wrapped []termItem
		err = s.table.Get("PK", pk).Range("SK", dynamo.Less, from).Project("UserID").Limit(limit-len(items)).All(ctx, &wrapped)
		items = append(items, wrapped...)
	}
	if err != nil {
		return nil, fmt.Errorf("users with term %q: %w", term, err)
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.UserID
	}
	return ids, nil
}
