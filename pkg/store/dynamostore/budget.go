package dynamostore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/pkg/store"
)

// Fixed keys of the matching budget items. See docs/storage-dynamodb.md.
const (
	// skRematch is the sort key of a person's rematch window, in their USER# partition.
	skRematch = "REMATCH"
	// skDeferred is the sort key of a pair's deferral, in the pair's MATCH# partition.
	skDeferred = "DEFERRED"
	// gsiDeferred is the GSI1 partition that lists every deferral, longest deferred first.
	gsiDeferred = "DEFERRED"
)

// windowItem is a person's rematch window: PK USER#<id>, SK REMATCH; Until is when it ends, Dirty
// whether an edit came in while it was open. It expires (ttl) a day after its end.
type windowItem struct {
	keys
	Until string
	Dirty bool
}

// maxMarkTries bounds the conditional writes of one MarkRematch: each failed try means the window
// changed in between, which a few concurrent edits cannot keep doing.
const maxMarkTries = 5

// MarkRematch records an edit of userID at now with conditional UpdateItems: open a dirty window when
// none is open (no item, or its Until passed), else mark an open clean window dirty; when both conditions
// fail, the item is read: dirty and open means coalesced, anything else (the window ended in between)
// tries again.
func (s *Store) MarkRematch(ctx context.Context, userID string, now time.Time, window time.Duration) (store.RematchDecision, time.Time, error) {
	nowS, until := fmtTime(now), msUTC(now.Add(window))
	for range maxMarkTries {
		err := s.table.Update("PK", userPK(userID)).Range("SK", skRematch).
			Set("Until", fmtTime(until)).Set("Dirty", true).Set("Kind", "rematch-window").
			Set("ttl", until.Add(24*time.Hour).Unix()).
			If("attribute_not_exists($) OR $ <= ?", "PK", "Until", nowS).
			Run(ctx)
		if err == nil {
			return store.RematchNow, until, nil
		}
		if !dynamo.IsCondCheckFailed(err) {
			return 0, time.Time{}, fmt.Errorf("mark rematch of %s: %w", userID, err)
		}
		var it windowItem
		err = s.table.Update("PK", userPK(userID)).Range("SK", skRematch).
			Set("Dirty", true).
			If("$ = ? AND $ > ?", "Dirty", false, "Until", nowS).
			Value(ctx, &it)
		if err == nil {
			return store.RematchAtWindowEnd, storedTime(it.Until), nil
		}
		if !dynamo.IsCondCheckFailed(err) {
			return 0, time.Time{}, fmt.Errorf("mark rematch of %s: %w", userID, err)
		}
		if err := s.get(ctx, key{userPK(userID), skRematch}, &it); err != nil {
			return 0, time.Time{}, fmt.Errorf("mark rematch of %s: %w", userID, err)
		}
		if it.Dirty && it.Until > nowS {
			return store.RematchCoalesced, storedTime(it.Until), nil
		}
	}
	return 0, time.Time{}, fmt.Errorf("mark rematch of %s: the window changed %d times: %w", userID, maxMarkTries, store.ErrConflict)
}

// OpenRematchWindow starts a clean window at now, ending at now+window (an UpdateItem on the
// condition that the person has a window, so that an erased person gets none back).
func (s *Store) OpenRematchWindow(ctx context.Context, userID string, now time.Time, window time.Duration) error {
	until := msUTC(now.Add(window))
	err := s.table.Update("PK", userPK(userID)).Range("SK", skRematch).
		Set("Until", fmtTime(until)).Set("Dirty", false).Set("ttl", until.Add(24*time.Hour).Unix()).
		If("attribute_exists($)", "PK").
		Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return fmt.Errorf("open rematch window of %s: %w", userID, err)
	}
	return nil
}

// budgetKey is where a budget counter lives: a person's in their USER# partition (SK
// BUDGET#<name>#<day>, erased with them), the service's in BUDGET#<name> (SK the day).
func budgetKey(owner, name, day string) key {
	if owner == "" {
		return key{"BUDGET#" + part(name), day}
	}
	return key{userPK(owner), "BUDGET#" + part(name) + "#" + day}
}

// ConsumeBudget adds n to a budget counter with one UpdateItem (ADD, on the condition that the count
// stays within limit). The counter expires (ttl) two days after the day starts.
func (s *Store) ConsumeBudget(ctx context.Context, owner, name, day string, n, limit int) (int, error) {
	start, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0, fmt.Errorf("consume budget %s of %q: day %q: %w", name, owner, day, err)
	}
	need := max(n, 1)
	if n < 0 || need > limit {
		return 0, fmt.Errorf("consume budget %s of %q on %s: %d of %d: %w", name, owner, day, n, limit, store.ErrQuotaExceeded)
	}
	k := budgetKey(owner, name, day)
	var out struct{ Count int }
	err = s.table.Update("PK", k.pk).Range("SK", k.sk).
		Add("Count", n).
		Set("Kind", "budget").
		Set("ttl", start.Add(48*time.Hour).Unix()).
		If("attribute_not_exists($) OR $ <= ?", "Count", "Count", limit-need).
		Value(ctx, &out)
	if err = mapErr(err, store.ErrQuotaExceeded); err != nil {
		return 0, fmt.Errorf("consume budget %s of %q on %s: %w", name, owner, day, err)
	}
	return out.Count, nil
}

// deferItem is a pair's deferral: PK MATCH#<a>#<b>, SK DEFERRED, next to the pair's match (so that
// DeleteMatch and EraseUser find it); GSI1 (GSI1PK DEFERRED, GSI1SK <since>#<a>#<b>) lists them all,
// longest deferred first.
type deferItem struct {
	keys
	A, B  string
	Since string
}

func deferKey(a, b string) key { return key{pairKey(a, b).pk, skDeferred} }

// DeferMatch records a deferred pair (a PutItem on the condition that none is there, which keeps the
// first time).
func (s *Store) DeferMatch(ctx context.Context, a, b string, at time.Time) error {
	a, b = min(a, b), max(a, b)
	k, since := deferKey(a, b), fmtTime(at)
	it := deferItem{
		keys: keys{PK: k.pk, SK: k.sk, Kind: "deferral", GSI1PK: gsiDeferred, GSI1SK: since + "#" + a + "#" + b},
		A:    a, B: b, Since: since,
	}
	err := s.table.Put(it).If("attribute_not_exists(PK)").Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return fmt.Errorf("defer match %s/%s: %w", a, b, err)
	}
	return nil
}

// ListDeferred returns up to limit deferred pairs, the longest deferred first: a Query on GSI1.
func (s *Store) ListDeferred(ctx context.Context, limit int) ([]store.Deferral, error) {
	if limit <= 0 {
		return nil, nil
	}
	var items []deferItem
	err := s.table.Get("GSI1PK", gsiDeferred).Index(gsi1).Limit(limit).All(ctx, &items)
	if err != nil {
		return nil, fmt.Errorf("list deferred matches: %w", err)
	}
	out := make([]store.Deferral, 0, len(items))
	for _, it := range items {
		if !strings.HasPrefix(it.PK, "MATCH#") {
			continue
		}
		out = append(out, store.Deferral{A: it.A, B: it.B, Since: storedTime(it.Since)})
	}
	return out, nil
}

// ClearDeferred removes the deferral of a pair.
func (s *Store) ClearDeferred(ctx context.Context, a, b string) error {
	k := deferKey(a, b)
	if err := s.table.Delete("PK", k.pk).Range("SK", k.sk).Run(ctx); err != nil {
		return fmt.Errorf("clear deferred match %s/%s: %w", a, b, err)
	}
	return nil
}
