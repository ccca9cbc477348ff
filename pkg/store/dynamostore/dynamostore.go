// Package dynamostore implements store.Store on one DynamoDB table with guregu/dynamo: a single-table
// design on the fixed schema PK/SK, GSI1 (GSI1PK/GSI1SK) and GSI2 (GSI2PK/GSI2SK), TTL attribute ttl.
//
// Every request-path method is a GetItem, Query, BatchGetItem, PutItem, UpdateItem, DeleteItem or
// BatchWriteItem on keys; only ScanUsers (the nightly job) and Dump (tests) scan. There are no
// transactions: multi-item writes are single-item conditional writes in an order that a retry finishes.
// docs/storage-dynamodb.md lists the item layout and the access patterns.
//
// Times are stored with millisecond precision in UTC, as fixed-width strings that sort by time.
package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/pkg/store"
)

// Index names.
const (
	gsi1 = "GSI1"
	gsi2 = "GSI2"
)

// Store is the DynamoDB store. It is safe for concurrent use.
type Store struct {
	table dynamo.Table
	// twins caches other people's twins (WithTwinCache); nil: no cache.
	twins *twinCache
}

var _ store.Store = (*Store)(nil)

// New returns a store on an existing table (see CreateTable for its schema).
func New(db *dynamo.DB, table string, opts ...Option) *Store {
	s := &Store{table: db.Table(table)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// keys are the key attributes every item carries, and its kind, which names the record type in dumps.
type keys struct {
	PK     string
	SK     string
	GSI1PK string `dynamo:",omitempty"`
	GSI1SK string `dynamo:",omitempty"`
	GSI2PK string `dynamo:",omitempty"`
	GSI2SK string `dynamo:",omitempty"`
	Kind   string
	// TTL is when DynamoDB may delete the item (epoch seconds); reads check the expiry themselves,
	// because TTL deletion lags by up to days.
	TTL int64 `dynamo:"ttl,omitempty"`
}

// key is a primary key.
type key struct{ pk, sk string }

func (k key) keys() dynamo.Keys { return dynamo.Keys{k.pk, k.sk} }

// Key prefixes and fixed sort keys. See docs/storage-dynamodb.md.
const (
	skProfile = "PROFILE"
	skTerms   = "TERMS"
	skMeta    = "~META" // sorts after every "MSG#" sort key of the session partition
	prefMsg   = "MSG#"
)

func userPK(id string) string { return "USER#" + id }

func sessionPK(id string) string { return "SESSION#" + id }

// timeLayout formats times with millisecond precision in UTC at a fixed width, so that they sort.
const timeLayout = "2006-01-02T15:04:05.000Z"

// fmtTime formats t for storage, truncated to the millisecond.
func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime parses a stored time; ok is false unless s is exactly in the stored form.
func parseTime(s string) (t time.Time, ok bool) {
	t, err := time.Parse(timeLayout, s)
	if err != nil || fmtTime(t) != s {
		return time.Time{}, false
	}
	return t, true
}

// storedTime parses a time written by this package; a missing or damaged one reads as zero.
func storedTime(s string) time.Time {
	t, _ := parseTime(s)
	return t
}

// msUTC is t as the store returns it: UTC, truncated to the millisecond.
func msUTC(t time.Time) time.Time { return storedTime(fmtTime(t)) }

// part makes a free-form value (a subject, a client message id, a term) safe inside a key: long values
// and values starting with "~" are replaced by "~" and their SHA-256, so a key stays far below
// DynamoDB's size limit and a hashed value never equals a raw one.
func part(s string) string {
	if len(s) <= 200 && !strings.HasPrefix(s, "~") {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "~" + hex.EncodeToString(sum[:])
}

// expired reports whether an expiry time stored by this package has passed.
func expired(expiresAt string, now time.Time) bool {
	return !now.Before(storedTime(expiresAt))
}

// mapErr turns DynamoDB's sentinels into the store's: a failed condition becomes onCond (ErrConflict,
// ErrNotFound or ErrQuotaExceeded, whatever the condition guarded), dynamo.ErrNotFound ErrNotFound.
func mapErr(err, onCond error) error {
	switch {
	case err == nil:
		return nil
	case dynamo.IsCondCheckFailed(err):
		return onCond
	case errors.Is(err, dynamo.ErrNotFound):
		return store.ErrNotFound
	}
	return err
}

// get reads one item by key with a strongly consistent read; store.ErrNotFound if there is none.
func (s *Store) get(ctx context.Context, k key, out any) error {
	err := s.table.Get("PK", k.pk).Range("SK", dynamo.Equal, k.sk).Consistent(true).One(ctx, out)
	return mapErr(err, nil)
}

// deleteKeys deletes items in batches of 25 (BatchWriteItem), once each.
func (s *Store) deleteKeys(ctx context.Context, ks []key) error {
	seen := make(map[key]bool, len(ks))
	var del []dynamo.Keyed
	for _, k := range ks {
		if !seen[k] {
			seen[k] = true
			del = append(del, k.keys())
		}
	}
	if len(del) == 0 {
		return nil
	}
	_, err := s.table.Batch("PK", "SK").Write().Delete(del...).Run(ctx)
	return err
}

// partition returns the keys of every item of a base-table partition, in sort key order.
func (s *Store) partition(ctx context.Context, pk string) ([]keys, error) {
	var items []keys
	err := s.table.Get("PK", pk).Consistent(true).Project("PK", "SK", "GSI1PK", "GSI1SK", "Kind").All(ctx, &items)
	return items, err
}

// pageLimit bounds a requested page size to 1-1000.
func pageLimit(n int) int {
	return min(max(n, 1), 1000)
}

// encodeJSON encodes a nested value (shades, memories, transcripts) for one string attribute.
func encodeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// decodeJSON decodes what encodeJSON stored; an absent attribute leaves v as it is.
func decodeJSON(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// scoreKey is the sort key part that lists scores highest first in ascending order: 999 - score,
// zero-padded, with the score clamped to 0-999.
func scoreKey(score int) string {
	return fmt.Sprintf("%03d", 999-min(max(score, 0), 999))
}

// validScoreKey reports whether s, taken from a cursor, has the form of a scoreKey.
func validScoreKey(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// makePage converts the first limit items (of up to limit+1 read) and, when there were more, makes
// the cursor of the next page from the last item kept.
func makePage[I, T any](items []I, limit int, conv func(I) (T, error), next func(I) string) (store.Page[T], error) {
	p := store.Page[T]{Items: make([]T, 0, min(len(items), limit))}
	if len(items) > limit {
		items = items[:limit]
		p.Next = next(items[limit-1])
	}
	for _, it := range items {
		v, err := conv(it)
		if err != nil {
			return store.Page[T]{}, err
		}
		p.Items = append(p.Items, v)
	}
	return p, nil
}
