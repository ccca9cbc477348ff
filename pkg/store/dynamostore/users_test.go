package dynamostore_test

import (
	"hash/fnv"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// changedShardOf is a user's GSI2PK among n shards, as the store computes it (FNV-1a of the id).
func changedShardOf(userID string, n uint32) string {
	h := fnv.New32a()
	h.Write([]byte(userID))
	return "CHANGED#" + strconv.Itoa(int(h.Sum32()%n))
}

// storedUser is the part of a raw user item that positions it in GSI2.
type storedUser struct {
	GSI2PK           string
	ProfileChangedAt string
}

// TestUsersWrittenUnderFourShards checks that raising the CHANGED# shards from 4 to 16 keeps the users
// written before it (GSI2PK among the old 4) and the ScanUsers cursors made before it: ChangedUsers and
// a paged ScanUsers, resumed from current and old two-part cursors, return everyone exactly once; a
// cursor naming a shard that does not exist is ErrBadCursor.
func TestUsersWrittenUnderFourShards(t *testing.T) {
	t.Parallel()
	table := dynamotest.Table(t)
	db := dynamotest.DB(t)
	s := dynamostore.New(db, table)
	raw := db.Table(table)
	get := func(userID string) storedUser {
		t.Helper()
		var it storedUser
		check(t, raw.Get("PK", "USER#"+userID).Range("SK", dynamo.Equal, "PROFILE").Consistent(true).One(ctx, &it), "raw GetItem")
		return it
	}

	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	old := map[string]bool{}
	var changeOrder []string
	for i := range 12 {
		uid := id.New()
		for i%2 == 0 && changedShardOf(uid, 16) == changedShardOf(uid, 4) { // an old item whose key differs from today's
			uid = id.New()
		}
		u := store.User{ID: uid, Nickname: "u" + strconv.Itoa(i), ProfileChangedAt: t0.Add(time.Duration(i) * time.Millisecond),
			CreatedAt: t0, UpdatedAt: t0}
		check(t, s.CreateUser(ctx, u), "CreateUser")
		if i%2 == 0 { // written as before the change: under the 4-shard key
			old[uid] = true
			check(t, raw.Update("PK", "USER#"+uid).Range("SK", "PROFILE").Set("GSI2PK", changedShardOf(uid, 4)).Run(ctx), "raw UpdateItem")
		} else if got, want := get(uid).GSI2PK, changedShardOf(uid, 16); got != want {
			t.Errorf("user %s stored under %s, want %s (16 shards)", uid, got, want)
		}
		changeOrder = append(changeOrder, uid)
	}

	// walk pages with limit 2 from cursor and returns the ids in order and the cursors made after each.
	walk := func(list func(cursor string) (store.Page[store.User], error), cursor string) (ids, after []string) {
		t.Helper()
		for range 100 {
			p, err := list(cursor)
			check(t, err, "page")
			for _, u := range p.Items {
				ids = append(ids, u.ID)
			}
			if p.Next == "" {
				return ids, after
			}
			after, cursor = append(after, p.Next), p.Next
		}
		t.Fatal("no last page after 100 pages")
		return nil, nil
	}

	changed := func(c string) (store.Page[store.User], error) { return s.ChangedUsers(ctx, t0, c, 2) }
	if got, _ := walk(changed, ""); !slices.Equal(got, changeOrder) {
		t.Errorf("ChangedUsers by pages of 2\n got %v\nwant %v", got, changeOrder)
	}
	p, err := s.ChangedUsers(ctx, t0, "", 100)
	check(t, err, "ChangedUsers")
	if got := userIDs(p.Items); !slices.Equal(got, changeOrder) {
		t.Errorf("ChangedUsers in one page\n got %v\nwant %v", got, changeOrder)
	}

	scan := func(c string) (store.Page[store.User], error) { return s.ScanUsers(ctx, c, 2) }
	order, _ := walk(scan, "")
	if got, want := slices.Sorted(slices.Values(order)), slices.Sorted(slices.Values(changeOrder)); !slices.Equal(got, want) {
		t.Fatalf("ScanUsers by pages of 2 returned %v, want everyone once: %v", order, want)
	}
	for i, uid := range order[:len(order)-1] {
		if !old[uid] {
			continue
		}
		// The cursor the store made before the change: the item's change time and id.
		cursor := store.EncodeCursor("scan-users", get(uid).ProfileChangedAt, uid)
		if rest, _ := walk(scan, cursor); !slices.Equal(rest, order[i+1:]) {
			t.Errorf("ScanUsers from the old cursor of %s\n got %v\nwant %v", uid, rest, order[i+1:])
		}
	}

	some := order[0]
	at := get(some).ProfileChangedAt
	for _, shard := range []string{"CHANGED#16", "CHANGED#-1", "CHANGED#01", "CHANGED#", "CHANGED#1x", "USER#" + some} {
		_, err := s.ScanUsers(ctx, store.EncodeCursor("scan-users", shard, at, some), 2)
		wantErr(t, err, store.ErrBadCursor, "ScanUsers from a cursor in "+shard)
	}
}

func userIDs(us []store.User) []string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}
