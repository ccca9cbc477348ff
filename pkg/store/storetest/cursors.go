package storetest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// lister lists one page of one owner's listing and returns the Next cursor.
type lister func(cursor string) (string, error)

func pageNext[T any](p store.Page[T], err error) (string, error) { return p.Next, err }

// listing is a paged listing; seed stores three items for each of two owners and returns their listers
// with page size 2 (theirs is nil for a listing without owners).
type listing struct {
	name string
	seed func(tb testing.TB, s store.Store) (mine, theirs lister)
}

var listings = []listing{
	{"ChangedUsers", func(tb testing.TB, s store.Store) (lister, lister) {
		since := time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 3 {
			u := newUser("cursor")
			u.ProfileChangedAt = since.Add(time.Duration(i) * time.Millisecond)
			check(tb, s.CreateUser(ctx, u), "CreateUser")
		}
		return func(c string) (string, error) { return pageNext(s.ChangedUsers(ctx, since, c, 2)) }, nil
	}},
	{"ScanUsers", func(tb testing.TB, s store.Store) (lister, lister) {
		for range 3 {
			createUser(tb, s, "cursor")
		}
		return func(c string) (string, error) { return pageNext(s.ScanUsers(ctx, c, 2)) }, nil
	}},
	{"ListSessions", func(tb testing.TB, s store.Store) (lister, lister) {
		owners := [2]string{id.New(), id.New()}
		for _, o := range owners {
			for i := range 3 {
				createSession(tb, s, o, at(i))
			}
		}
		list := func(o string) lister {
			return func(c string) (string, error) { return pageNext(s.ListSessions(ctx, o, c, 2)) }
		}
		return list(owners[0]), list(owners[1])
	}},
	{"ListMessages", func(tb testing.TB, s store.Store) (lister, lister) {
		owner := id.New()
		sessions := [2]string{createSession(tb, s, owner, at(0)).ID, createSession(tb, s, owner, at(1)).ID}
		for _, sid := range sessions {
			putMessages(tb, s, sid, 3)
		}
		list := func(sid string) lister {
			return func(c string) (string, error) { return pageNext(s.ListMessages(ctx, sid, c, 2)) }
		}
		return list(sessions[0]), list(sessions[1])
	}},
	{"ListMatches", func(tb testing.TB, s store.Store) (lister, lister) {
		users := [2]string{id.New(), id.New()}
		for _, u := range users {
			for i := range 3 {
				putMatch(tb, s, u, id.New(), 10*i)
			}
		}
		list := func(u string) lister {
			return func(c string) (string, error) { return pageNext(s.ListMatches(ctx, u, c, 2)) }
		}
		return list(users[0]), list(users[1])
	}},
}

// tampered returns variants of a cursor that no store may accept: broken encodings and, when the
// cursor is the JSON that store.EncodeCursor makes, every key part replaced by garbage.
func tampered(c string) map[string]string {
	out := map[string]string{
		"not base64":   "!!" + c,
		"truncated":    c[:len(c)/2],
		"extra bytes":  c + "AAAA",
		"json garbage": base64.RawURLEncoding.EncodeToString([]byte(`{"s":1,"k":{}}`)),
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return out
	}
	var parsed struct {
		S string   `json:"s"`
		K []string `json:"k"`
	}
	if json.Unmarshal(raw, &parsed) != nil || len(parsed.K) == 0 {
		return out
	}
	enc := func(k []string) string {
		b, _ := json.Marshal(map[string]any{"s": parsed.S, "k": k})
		return base64.RawURLEncoding.EncodeToString(b)
	}
	garbage := map[string]string{"empty": "", "word": "garbage", "quote": "' OR 1=1 --", "nul": "\x00", "id-like": "01ARZ3NDEKTSV4RRFFQ69G5FA!"}
	for i := range parsed.K {
		for gname, g := range garbage {
			k := append([]string(nil), parsed.K...)
			k[i] = g
			out["part "+string(rune('0'+i))+" "+gname] = enc(k)
		}
	}
	out["part missing"] = enc(parsed.K[:len(parsed.K)-1])
	out["part extra"] = enc(append(append([]string(nil), parsed.K...), "x"))
	return out
}

// wantBadCursor fails unless err is ErrBadCursor and no other sentinel.
func wantBadCursor(tb testing.TB, err error, what string) {
	tb.Helper()
	if !errors.Is(err, store.ErrBadCursor) {
		tb.Errorf("%s = %v, want ErrBadCursor", what, err)
		return
	}
	for _, other := range []error{store.ErrNotFound, store.ErrConflict, store.ErrQuotaExceeded} {
		if errors.Is(err, other) {
			tb.Errorf("%s = %v, want ErrBadCursor alone", what, err)
		}
	}
}

func testCursors(t *testing.T, s store.Store) {
	mine := make([]lister, len(listings))
	theirs := make([]lister, len(listings))
	cursors := make([]string, len(listings))
	for i, l := range listings {
		mine[i], theirs[i] = l.seed(t, s)
		c, err := mine[i]("")
		check(t, err, l.name+" first page")
		if c == "" {
			t.Fatalf("%s: a first page of 2 out of 3 items has no Next cursor", l.name)
		}
		cursors[i] = c
	}
	for i, l := range listings {
		t.Run(l.name, func(t *testing.T) {
			t.Run("valid", func(t *testing.T) {
				_, err := mine[i](cursors[i])
				check(t, err, "second page")
			})
			t.Run("tampered", func(t *testing.T) {
				for name, c := range tampered(cursors[i]) {
					_, err := mine[i](c)
					wantBadCursor(t, err, name)
				}
			})
			if theirs[i] != nil {
				t.Run("another owner", func(t *testing.T) {
					_, err := theirs[i](cursors[i])
					wantBadCursor(t, err, "cursor of another owner's listing")
				})
			}
			t.Run("another listing", func(t *testing.T) {
				for j, other := range listings {
					if j != i {
						_, err := mine[i](cursors[j])
						wantBadCursor(t, err, "cursor of "+other.name)
					}
				}
			})
		})
	}
}
