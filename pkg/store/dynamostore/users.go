package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/guregu/dynamo/v2"
	"golang.org/x/sync/errgroup"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// userItem is a person: PK USER#<id>, SK PROFILE. GSI2 lists people by the time of their last
// profile change, spread over changedShards partitions (GSI2PK CHANGED#<shard>, GSI2SK
// <changedAt>#<id>); it holds nothing but users, so ScanUsers scans it instead of the whole table.
type userItem struct {
	keys
	ID               string
	Nickname         string
	Avatar           string
	Bio              string
	Provider         string
	Discoverable     bool
	AllowTwinChat    bool
	Language         string `dynamo:",omitempty"`
	Shades           string // JSON
	Memories         string // JSON
	ProfileVersion   int64
	ProfileChangedAt string
	Rev              int64
	CreatedAt        string
	UpdatedAt        string
}

// changedShards is how many GSI2 partitions hold the users' change times. A user's shard is fixed by
// their id, so listing changes since T is one Query per shard, whatever T is, and the writes of
// profile changes spread over the shards: 16 keep a burst of thousands of changes a second under a
// partition's 1,000 write units. Items written when there were oldChangedShards keep their shard
// (among the first oldChangedShards) until they are written again; the Queries of all shards find them.
const changedShards = 16

// oldChangedShards is the shard count of the items and scan cursors made before there were
// changedShards: a two-part ScanUsers cursor names an item under that count.
const oldChangedShards = 4

// changedShard is the GSI2 partition of a user.
func changedShard(userID string) string { return changedPK(shardOf(userID, changedShards)) }

// shardOf is userID's shard among n.
func shardOf(userID string, n uint32) int {
	h := fnv.New32a()
	h.Write([]byte(userID))
	return int(h.Sum32() % n)
}

func changedPK(shard int) string { return "CHANGED#" + strconv.Itoa(shard) }

// validChangedPK reports whether s, taken from a cursor, is a GSI2PK of one of the changedShards.
func validChangedPK(s string) bool {
	n, ok := strings.CutPrefix(s, "CHANGED#")
	shard, err := strconv.Atoi(n)
	return ok && err == nil && shard >= 0 && shard < changedShards && changedPK(shard) == s
}

// changedKey is the GSI2 sort key of a user changed at the stored time changedAt.
func changedKey(changedAt, userID string) string { return changedAt + "#" + userID }

// pagingKey builds an ExclusiveStartKey from attribute name and string value pairs.
func pagingKey(nameValues ...string) dynamo.PagingKey {
	k := make(dynamo.PagingKey, len(nameValues)/2)
	for i := 0; i+1 < len(nameValues); i += 2 {
		k[nameValues[i]] = &types.AttributeValueMemberS{Value: nameValues[i+1]}
	}
	return k
}

func toUserItem(u store.User) (userItem, error) {
	memories := u.Memories
	if memories != nil {
		memories = make([]store.Memory, len(u.Memories))
		for i, m := range u.Memories {
			m.CreatedAt = msUTC(m.CreatedAt)
			memories[i] = m
		}
	}
	shades, err := encodeJSON(u.Shades)
	if err != nil {
		return userItem{}, fmt.Errorf("encode shades: %w", err)
	}
	mems, err := encodeJSON(memories)
	if err != nil {
		return userItem{}, fmt.Errorf("encode memories: %w", err)
	}
	changed := fmtTime(u.ProfileChangedAt)
	return userItem{
		keys: keys{
			PK: userPK(u.ID), SK: skProfile, Kind: "user",
			GSI2PK: changedShard(u.ID), GSI2SK: changedKey(changed, u.ID),
		},
		ID:               u.ID,
		Nickname:         u.Nickname,
		Avatar:           u.Avatar,
		Bio:              u.Bio,
		Provider:         u.Provider,
		Discoverable:     u.Discoverable,
		AllowTwinChat:    u.AllowTwinChat,
		Language:         u.Language,
		Shades:           shades,
		Memories:         mems,
		ProfileVersion:   u.ProfileVersion,
		ProfileChangedAt: changed,
		Rev:              u.Rev,
		CreatedAt:        fmtTime(u.CreatedAt),
		UpdatedAt:        fmtTime(u.UpdatedAt),
	}, nil
}

func (it userItem) user() (store.User, error) {
	u := store.User{
		ID:               it.ID,
		Nickname:         it.Nickname,
		Avatar:           it.Avatar,
		Bio:              it.Bio,
		Provider:         it.Provider,
		Discoverable:     it.Discoverable,
		AllowTwinChat:    it.AllowTwinChat,
		Language:         it.Language,
		ProfileVersion:   it.ProfileVersion,
		ProfileChangedAt: storedTime(it.ProfileChangedAt),
		Rev:              it.Rev,
		CreatedAt:        storedTime(it.CreatedAt),
		UpdatedAt:        storedTime(it.UpdatedAt),
	}
	if err := decodeJSON(it.Shades, &u.Shades); err != nil {
		return store.User{}, fmt.Errorf("decode shades of user %s: %w", it.ID, err)
	}
	if err := decodeJSON(it.Memories, &u.Memories); err != nil {
		return store.User{}, fmt.Errorf("decode memories of user %s: %w", it.ID, err)
	}
	return u, nil
}

// CreateUser stores a new user; ErrConflict if the id exists.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	it, err := toUserItem(u)
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	err = s.table.Put(it).If("attribute_not_exists(PK)").Run(ctx)
	if err = mapErr(err, store.ErrConflict); err != nil {
		return fmt.Errorf("create user %s: %w", u.ID, err)
	}
	return nil
}

// GetUser returns a user; ErrNotFound if there is none.
func (s *Store) GetUser(ctx context.Context, userID string) (store.User, error) {
	var it userItem
	if err := s.get(ctx, key{userPK(userID), skProfile}, &it); err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", userID, err)
	}
	return it.user()
}

// GetTwin returns the user twinID and whether either of twinID and viewerID blocked the other with one
// BatchGetItem of the user item and both block items (the guregu iterator asks again for any
// UnprocessedKeys); ErrNotFound if there is no user twinID. With WithTwinCache, another viewer gets the
// twin's public persona, from the cache while it is fresh (then only the block items are read).
func (s *Store) GetTwin(ctx context.Context, twinID, viewerID string) (store.User, bool, error) {
	cached, hit := store.User{}, false
	if s.twins != nil && viewerID != twinID {
		cached, hit = s.twins.get(twinID)
	}
	var ks []dynamo.Keyed
	if !hit {
		ks = append(ks, dynamo.Keys{userPK(twinID), skProfile})
	}
	if viewerID != twinID {
		ks = append(ks, blockKey(twinID, viewerID).keys(), blockKey(viewerID, twinID).keys())
	}
	// A block item decodes as a userItem with its keys set and the user's fields empty.
	var items []userItem
	err := s.table.Batch("PK", "SK").Get(ks...).Consistent(true).All(ctx, &items)
	if err != nil && !errors.Is(err, dynamo.ErrNotFound) {
		return store.User{}, false, fmt.Errorf("get twin %s for %s: %w", twinID, viewerID, err)
	}
	var (
		u              = cached
		found, blocked = hit, false
	)
	for _, it := range items {
		if it.SK != skProfile {
			blocked = true
			continue
		}
		if u, err = it.user(); err != nil {
			return store.User{}, false, err
		}
		found = true
	}
	if !found {
		return store.User{}, false, fmt.Errorf("get twin %s: %w", twinID, store.ErrNotFound)
	}
	if s.twins != nil && viewerID != twinID && !hit {
		u = publicPersona(u)
		s.twins.put(u)
	}
	return u, blocked, nil
}

// GetUsers returns the users that exist among ids with one BatchGetItem (per 100 ids).
func (s *Store) GetUsers(ctx context.Context, ids []string) ([]store.User, error) {
	seen := make(map[string]bool, len(ids))
	var ks []dynamo.Keyed
	for _, uid := range ids {
		if !seen[uid] {
			seen[uid] = true
			ks = append(ks, dynamo.Keys{userPK(uid), skProfile})
		}
	}
	if len(ks) == 0 {
		return nil, nil
	}
	var items []userItem
	err := s.table.Batch("PK", "SK").Get(ks...).Consistent(true).All(ctx, &items)
	if err != nil && !errors.Is(err, dynamo.ErrNotFound) {
		return nil, fmt.Errorf("get %d users: %w", len(ks), err)
	}
	users := make([]store.User, 0, len(items))
	for _, it := range items {
		u, err := it.user()
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

// UpdateUser replaces a user if its stored Rev equals u.Rev (a conditional PutItem) and returns it
// as stored, with Rev+1.
func (s *Store) UpdateUser(ctx context.Context, u store.User) (store.User, error) {
	next := u
	next.Rev = u.Rev + 1
	it, err := toUserItem(next)
	if err != nil {
		return store.User{}, fmt.Errorf("update user %s: %w", u.ID, err)
	}
	err = s.table.Put(it).If("attribute_exists(PK) AND $ = ?", "Rev", u.Rev).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		var cur userItem
		if err := s.get(ctx, key{userPK(u.ID), skProfile}, &cur); err != nil {
			return store.User{}, fmt.Errorf("update user %s: %w", u.ID, err)
		}
		return store.User{}, fmt.Errorf("update user %s at rev %d (stored %d): %w", u.ID, u.Rev, cur.Rev, store.ErrConflict)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("update user %s: %w", u.ID, err)
	}
	return it.user()
}

// changedQueries is how many of ChangedUsers' per-shard Queries run at once.
const changedQueries = 8

// ChangedUsers lists users whose ProfileChangedAt is at or after since, oldest change first: one
// Query on GSI2 per shard (GSI2SK >= since, or > the cursor's position; Limit limit+1), changedQueries
// at a time, merged by sort key.
func (s *Store) ChangedUsers(ctx context.Context, since time.Time, cursor string, limit int) (store.Page[store.User], error) {
	limit = pageLimit(limit)
	from := fmtTime(since)
	scope := "changed-users:" + from
	parts, err := store.DecodeCursor(scope, cursor, 2)
	if err != nil {
		return store.Page[store.User]{}, fmt.Errorf("changed users: %w", err)
	}
	op, pos := dynamo.GreaterOrEqual, from
	if parts != nil {
		if _, ok := parseTime(parts[0]); !ok || parts[0] < from || !id.Valid(parts[1]) {
			return store.Page[store.User]{}, fmt.Errorf("changed users: cursor position: %w", store.ErrBadCursor)
		}
		op, pos = dynamo.Greater, changedKey(parts[0], parts[1])
	}
	shards := make([][]userItem, changedShards)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(changedQueries)
	for shard := range changedShards {
		g.Go(func() error {
			return s.table.Get("GSI2PK", changedPK(shard)).Index(gsi2).Range("GSI2SK", op, pos).Limit(limit+1).All(gctx, &shards[shard])
		})
	}
	if err := g.Wait(); err != nil {
		return store.Page[store.User]{}, fmt.Errorf("changed users since %s: %w", from, err)
	}
	items := slices.Concat(shards...)
	slices.SortFunc(items, func(a, b userItem) int { return strings.Compare(a.GSI2SK, b.GSI2SK) })
	return makePage(items, limit, userItem.user, func(it userItem) string {
		return store.EncodeCursor(scope, it.ProfileChangedAt, it.ID)
	})
}

// ScanUsers walks all users in the scan order of GSI2 (a Scan of the index, which holds users only).
// Its cursor is the last item's stored GSI2PK, change time and id; a two-part cursor (change time and
// id), made before there were changedShards, names an item under oldChangedShards.
func (s *Store) ScanUsers(ctx context.Context, cursor string, limit int) (store.Page[store.User], error) {
	limit = pageLimit(limit)
	start, err := scanStart(cursor)
	if err != nil {
		return store.Page[store.User]{}, fmt.Errorf("scan users: %w", err)
	}
	sc := s.table.Scan().Index(gsi2).Limit(limit + 1)
	if start != nil {
		sc = sc.StartFrom(start)
	}
	var items []userItem
	if err := sc.All(ctx, &items); err != nil {
		return store.Page[store.User]{}, fmt.Errorf("scan users: %w", err)
	}
	return makePage(items, limit, userItem.user, func(it userItem) string {
		return store.EncodeCursor("scan-users", it.GSI2PK, it.ProfileChangedAt, it.ID)
	})
}

// scanStart returns the ExclusiveStartKey of a ScanUsers cursor: nil for the first page, ErrBadCursor
// for a cursor that is neither a current nor an old one.
func scanStart(cursor string) (dynamo.PagingKey, error) {
	parts, err := store.DecodeCursor("scan-users", cursor, 3)
	if errors.Is(err, store.ErrBadCursor) {
		if old, oldErr := store.DecodeCursor("scan-users", cursor, 2); oldErr == nil {
			parts, err = append([]string{changedPK(shardOf(old[1], oldChangedShards))}, old...), nil
		}
	}
	if err != nil || parts == nil {
		return nil, err
	}
	if _, ok := parseTime(parts[1]); !ok || !id.Valid(parts[2]) || !validChangedPK(parts[0]) {
		return nil, fmt.Errorf("cursor position: %w", store.ErrBadCursor)
	}
	return pagingKey("PK", userPK(parts[2]), "SK", skProfile,
		"GSI2PK", parts[0], "GSI2SK", changedKey(parts[1], parts[2])), nil
}
