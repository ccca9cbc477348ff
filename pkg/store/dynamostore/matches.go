package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// pairItem is the match of a pair: PK MATCH#<a>#<b> (a < b), SK MATCH.
type pairItem struct {
	keys
	A, B       string
	Score      int
	Reasoning  string
	Highlights string // JSON
	Challenges string // JSON
	Parts      string // JSON
	Transcript string // JSON
	VersionA   int64
	VersionB   int64
	Algorithm  string
	ComputedAt string
}

// entryItem is one line of a person's match list: PK USER#<user>, SK MATCH#<other>, so re-putting a
// match overwrites it in place; GSI1 (GSI1PK USER#<user>, GSI1SK MATCH#<999-score>#<other>) lists
// them by score, highest first, in ascending order.
type entryItem struct {
	keys
	UserID     string
	OtherID    string
	Score      int
	ComputedAt string
}

func pairKey(a, b string) key {
	a, b = min(a, b), max(a, b)
	return key{"MATCH#" + a + "#" + b, "MATCH"}
}

func entryKey(userID, otherID string) key { return key{userPK(userID), "MATCH#" + otherID} }

func entryGSI1SK(score, otherID string) string { return "MATCH#" + score + "#" + otherID }

func toEntryItem(userID, otherID string, score int, computedAt string) entryItem {
	k := entryKey(userID, otherID)
	return entryItem{
		keys: keys{
			PK: k.pk, SK: k.sk, Kind: "match-entry",
			GSI1PK: userPK(userID), GSI1SK: entryGSI1SK(scoreKey(score), otherID),
		},
		UserID:     userID,
		OtherID:    otherID,
		Score:      score,
		ComputedAt: computedAt,
	}
}

// PutMatch stores both people's list entries, then the pair's match: plain PutItems, so a retry
// rewrites them; a person's entries are found from their partition, and the pair from the entries.
func (s *Store) PutMatch(ctx context.Context, m store.Match) error {
	if m.A > m.B {
		m.A, m.B, m.VersionA, m.VersionB = m.B, m.A, m.VersionB, m.VersionA
	}
	computed := fmtTime(m.ComputedAt)
	k := pairKey(m.A, m.B)
	it := pairItem{
		keys:       keys{PK: k.pk, SK: k.sk, Kind: "match"},
		A:          m.A,
		B:          m.B,
		Score:      m.Score,
		Reasoning:  m.Reasoning,
		VersionA:   m.VersionA,
		VersionB:   m.VersionB,
		Algorithm:  m.Algorithm,
		ComputedAt: computed,
	}
	var err error
	for _, f := range []struct {
		dst *string
		v   any
	}{{&it.Highlights, m.Highlights}, {&it.Challenges, m.Challenges}, {&it.Parts, m.Parts}, {&it.Transcript, m.Transcript}} {
		if *f.dst, err = encodeJSON(f.v); err != nil {
			return fmt.Errorf("put match %s/%s: %w", m.A, m.B, err)
		}
	}
	_, err = s.table.Batch("PK", "SK").Write().Put(
		toEntryItem(m.A, m.B, m.Score, computed),
		toEntryItem(m.B, m.A, m.Score, computed),
	).Run(ctx)
	if err == nil {
		err = s.table.Put(it).Run(ctx)
	}
	if err != nil {
		return fmt.Errorf("put match %s/%s: %w", m.A, m.B, err)
	}
	return nil
}

// GetMatch returns the match of a pair, in either order; ErrNotFound if there is none.
func (s *Store) GetMatch(ctx context.Context, a, b string) (store.Match, error) {
	var it pairItem
	if err := s.get(ctx, pairKey(a, b), &it); err != nil {
		return store.Match{}, fmt.Errorf("get match %s/%s: %w", a, b, err)
	}
	m := store.Match{
		A:          it.A,
		B:          it.B,
		Score:      it.Score,
		Reasoning:  it.Reasoning,
		VersionA:   it.VersionA,
		VersionB:   it.VersionB,
		Algorithm:  it.Algorithm,
		ComputedAt: storedTime(it.ComputedAt),
	}
	for _, f := range []struct {
		src string
		v   any
	}{{it.Highlights, &m.Highlights}, {it.Challenges, &m.Challenges}, {it.Parts, &m.Parts}, {it.Transcript, &m.Transcript}} {
		if err := decodeJSON(f.src, f.v); err != nil {
			return store.Match{}, fmt.Errorf("get match %s/%s: %w", a, b, err)
		}
	}
	return m, nil
}

// ListMatches lists a user's matches by score, highest first: a Query on GSI1, ascending.
func (s *Store) ListMatches(ctx context.Context, userID, cursor string, limit int) (store.Page[store.MatchEntry], error) {
	limit = pageLimit(limit)
	scope := "matches:" + userID
	parts, err := store.DecodeCursor(scope, cursor, 2)
	if err != nil {
		return store.Page[store.MatchEntry]{}, fmt.Errorf("list matches of %s: %w", userID, err)
	}
	q := s.table.Get("GSI1PK", userPK(userID)).Index(gsi1).Range("GSI1SK", dynamo.BeginsWith, "MATCH#").Limit(limit + 1)
	if parts != nil {
		if !validScoreKey(parts[0]) || !id.Valid(parts[1]) {
			return store.Page[store.MatchEntry]{}, fmt.Errorf("list matches of %s: cursor position: %w", userID, store.ErrBadCursor)
		}
		k := entryKey(userID, parts[1])
		q = q.StartFrom(pagingKey("PK", k.pk, "SK", k.sk, "GSI1PK", userPK(userID), "GSI1SK", entryGSI1SK(parts[0], parts[1])))
	}
	var items []entryItem
	if err := q.All(ctx, &items); err != nil {
		return store.Page[store.MatchEntry]{}, fmt.Errorf("list matches of %s: %w", userID, err)
	}
	return makePage(items, limit,
		func(it entryItem) (store.MatchEntry, error) {
			return store.MatchEntry{UserID: it.UserID, OtherID: it.OtherID, Score: it.Score, ComputedAt: storedTime(it.ComputedAt)}, nil
		},
		func(it entryItem) string { return store.EncodeCursor(scope, scoreKey(it.Score), it.OtherID) })
}

// DeleteMatch removes the match of a pair: the pair item, then both list entries (which lead to it).
func (s *Store) DeleteMatch(ctx context.Context, a, b string) error {
	k := pairKey(a, b)
	err := s.table.Delete("PK", k.pk).Range("SK", k.sk).Run(ctx)
	if err == nil {
		err = s.deleteKeys(ctx, []key{entryKey(a, b), entryKey(b, a), deferKey(a, b)})
	}
	if err != nil {
		return fmt.Errorf("delete match %s/%s: %w", a, b, err)
	}
	return nil
}

// ConsumeQuota adds one to the user's counter for the day with one UpdateItem (ADD, on the condition
// that the count is below limit) and returns the new count; ErrQuotaExceeded when it has reached limit.
// The counter expires (ttl) two days after the day starts.
func (s *Store) ConsumeQuota(ctx context.Context, userID, day string, limit int) (int, error) {
	start, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0, fmt.Errorf("consume quota of %s: day %q: %w", userID, day, err)
	}
	if limit <= 0 {
		return 0, fmt.Errorf("consume quota of %s on %s: limit %d: %w", userID, day, limit, store.ErrQuotaExceeded)
	}
	var out struct{ Count int }
	err = s.table.Update("PK", userPK(userID)).Range("SK", "QUOTA#"+day).
		Add("Count", 1).
		Set("Kind", "quota").
		Set("ttl", start.Add(48*time.Hour).Unix()).
		If("attribute_not_exists($) OR $ < ?", "Count", "Count", limit).
		Value(ctx, &out)
	if err = mapErr(err, store.ErrQuotaExceeded); err != nil {
		return 0, fmt.Errorf("consume quota of %s on %s: %w", userID, day, err)
	}
	return out.Count, nil
}

// blockItem is a block: PK USER#<blocker>, SK BLOCK#<blocked>; GSI1 (GSI1PK USER#<blocked>,
// GSI1SK BLOCKEDBY#<blocker>) finds the blocks on a person when they are erased.
type blockItem struct {
	keys
	BlockerID string
	BlockedID string
	CreatedAt string
}

func blockKey(blocker, blocked string) key { return key{userPK(blocker), "BLOCK#" + blocked} }

// PutBlock stores a block (a PutItem on the condition that it does not exist, which keeps the first
// CreatedAt); storing it again is not an error.
func (s *Store) PutBlock(ctx context.Context, b store.Block) error {
	k := blockKey(b.BlockerID, b.BlockedID)
	it := blockItem{
		keys: keys{
			PK: k.pk, SK: k.sk, Kind: "block",
			GSI1PK: userPK(b.BlockedID), GSI1SK: "BLOCKEDBY#" + b.BlockerID,
		},
		BlockerID: b.BlockerID,
		BlockedID: b.BlockedID,
		CreatedAt: fmtTime(b.CreatedAt),
	}
	err := s.table.Put(it).If("attribute_not_exists(PK)").Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return fmt.Errorf("put block %s/%s: %w", b.BlockerID, b.BlockedID, err)
	}
	return nil
}

// DeleteBlock removes a block; deleting an unknown one is not an error.
func (s *Store) DeleteBlock(ctx context.Context, blockerID, blockedID string) error {
	k := blockKey(blockerID, blockedID)
	if err := s.table.Delete("PK", k.pk).Range("SK", k.sk).Run(ctx); err != nil {
		return fmt.Errorf("delete block %s/%s: %w", blockerID, blockedID, err)
	}
	return nil
}

// ListBlocks returns the blocks the user made: a Query of their partition, SK begins with BLOCK#.
func (s *Store) ListBlocks(ctx context.Context, blockerID string) ([]store.Block, error) {
	var items []blockItem
	err := s.table.Get("PK", userPK(blockerID)).Range("SK", dynamo.BeginsWith, "BLOCK#").Consistent(true).All(ctx, &items)
	if err != nil {
		return nil, fmt.Errorf("list blocks of %s: %w", blockerID, err)
	}
	blocks := make([]store.Block, len(items))
	for i, it := range items {
		blocks[i] = store.Block{BlockerID: it.BlockerID, BlockedID: it.BlockedID, CreatedAt: storedTime(it.CreatedAt)}
	}
	return blocks, nil
}

// Blocked reports whether either person blocked the other: one BatchGetItem of both block items.
func (s *Store) Blocked(ctx context.Context, a, b string) (bool, error) {
	ab, ba := blockKey(a, b), blockKey(b, a)
	ks := []dynamo.Keyed{ab.keys()}
	if ba != ab {
		ks = append(ks, ba.keys())
	}
	var items []blockItem
	err := s.table.Batch("PK", "SK").Get(ks...).Consistent(true).All(ctx, &items)
	if err != nil && !errors.Is(err, dynamo.ErrNotFound) {
		return false, fmt.Errorf("blocked %s/%s: %w", a, b, err)
	}
	return len(items) > 0, nil
}

// jobItem is a periodic job's state: PK JOB#<name>, SK JOB.
type jobItem struct {
	keys
	Name      string
	LastRun   string
	Cursor    string
	UpdatedAt string
}

func jobKey(name string) key { return key{"JOB#" + part(name), "JOB"} }

// GetJobState returns a job's saved state; ErrNotFound if it never ran.
func (s *Store) GetJobState(ctx context.Context, name string) (store.JobState, error) {
	var it jobItem
	if err := s.get(ctx, jobKey(name), &it); err != nil {
		return store.JobState{}, fmt.Errorf("get job state %s: %w", name, err)
	}
	return store.JobState{Name: it.Name, LastRun: storedTime(it.LastRun), Cursor: it.Cursor, UpdatedAt: storedTime(it.UpdatedAt)}, nil
}

// PutJobState saves a job's state.
func (s *Store) PutJobState(ctx context.Context, js store.JobState) error {
	k := jobKey(js.Name)
	it := jobItem{
		keys:      keys{PK: k.pk, SK: k.sk, Kind: "job"},
		Name:      js.Name,
		LastRun:   fmtTime(js.LastRun),
		Cursor:    js.Cursor,
		UpdatedAt: fmtTime(js.UpdatedAt),
	}
	if err := s.table.Put(it).Run(ctx); err != nil {
		return fmt.Errorf("put job state %s: %w", js.Name, err)
	}
	return nil
}
