// Package storetest is the contract suite that every store.Store implementation must pass.
//
// A store's own test calls Run with a function that opens a fresh, empty store. The suite uses no
// sleeps and small page sizes, so it stays fast on slow backends (dynalite). Within a group of tests
// the store is shared, and every test uses fresh ids.
//
// Beyond what the doc comments of store.Store say, the suite pins down these rules:
//
//   - Times keep millisecond precision: a stored time reads back equal to the written one truncated to
//     the millisecond (compared with Time.Equal, any location). Orderings by time use that precision.
//   - Empty and nil lists are the same (a user without shades may read back with Shades nil or empty).
//   - CreateUser stores the user as given, Rev included; UpdateUser returns what it stored (Rev+1).
//   - A page's Next is "" exactly when no item follows: a full last page has no Next.
//   - Every paged listing refuses, with an error matching store.ErrBadCursor and no other sentinel, a
//     cursor that is tampered with (any key part replaced by garbage, truncated, not base64), a cursor of
//     the same listing of another owner, and a cursor of another listing.
//   - ListMatches orders by score, highest first; ListSessions by UpdatedAt, newest first; ties may come
//     in any order but paging never skips or repeats an item.
//   - PutMessage returns the stored message (the first one, with its own ID and content) together with
//     ErrConflict when the ClientMessageID is already used in the session.
//   - CompleteTurn is idempotent on the reply's ID: a second call with the same reply ID returns nil and
//     changes nothing (no second message, MessageCount not added again). It applies LastMessage,
//     UpdatedAt and AddMessages always, and Summary with SummarizedThrough only when SummarizedThrough is
//     not empty (an empty one keeps the stored summary). CompleteTurn on an unknown session is ErrNotFound.
//     A second reply to the same message (another reply ID) is ErrConflict and is not stored.
//   - StartTurn with a lease of 0 claims nothing lasting: the next StartTurn takes the turn over. Of two
//     tries of one turn started at the same moment, exactly one claims it.
//   - ConsumeQuota returns ErrQuotaExceeded without counting, so a later call with a higher limit
//     continues from the limit.
//   - GetLoginSession and RenewLoginSession treat a session whose ExpiresAt has passed as absent, even
//     before any expiry sweep.
//   - EraseUser also removes the user's terms and the other person's list entries of the user's matches.
//     When the store implements Dumper, neither the erased id nor the id of any chat session erased with
//     the person (their own, and those other people held with their twin) may appear in the dump.
//   - A CreateSession refused with ErrConflict stores nothing that EraseUser of the twin it named acts
//     on: the session holding the id stays.
package storetest

import (
	"context"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/store"
)

// Dumper is implemented by stores that can write out every record they hold; the erase test then
// checks that no trace of the erased person is left.
type Dumper interface {
	Dump(ctx context.Context, w io.Writer) error
}

// Run runs the whole contract suite. open returns a fresh, empty store; it is called once per group
// of tests and should register its own cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Users", testUsers},
		{"Identities", testIdentities},
		{"LoginSessions", testLoginSessions},
		{"Events", testEvents},
		{"ChatSessions", testChatSessions},
		{"Messages", testMessages},
		{"Turns", testTurns},
		{"Quota", testQuota},
		{"RematchWindows", testRematchWindows},
		{"Budgets", testBudgets},
		{"Deferrals", testDeferrals},
		{"Matches", testMatches},
		{"Blocks", testBlocks},
		{"Twins", testTwins},
		{"Terms", testTerms},
		{"Jobs", testJobs},
		{"Cursors", testCursors},
		{"Erase", testErase},
		{"EraseAccount", testEraseAccount},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			g.run(t, open(t))
		})
	}
}

// ctx is the context of every store call in the suite.
var ctx = context.Background()

// base is a time with sub-millisecond digits, to prove that stores keep milliseconds.
var base = time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC)

// at returns base plus i milliseconds.
func at(i int) time.Time { return base.Add(time.Duration(i) * time.Millisecond) }

// ms is a time at the precision the contract keeps, in UTC.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

func check(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

func wantErr(tb testing.TB, err, want error, what string) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("%s = %v, want %v", what, err, want)
	}
}

// same fails the test unless got equals want once both are normalized.
func same[T any](tb testing.TB, got, want T, norm func(T) T, what string) {
	tb.Helper()
	if g, w := norm(got), norm(want); !reflect.DeepEqual(g, w) {
		tb.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

// nilIfEmpty makes empty lists nil, since stores may return either.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func normUser(u store.User) store.User {
	u.ProfileChangedAt, u.CreatedAt, u.UpdatedAt = ms(u.ProfileChangedAt), ms(u.CreatedAt), ms(u.UpdatedAt)
	shades := nilIfEmpty(u.Shades)
	u.Shades = nil
	for _, sh := range shades {
		sh.Topics = nilIfEmpty(sh.Topics)
		if sh.Public != nil {
			p := *sh.Public
			p.Topics = nilIfEmpty(p.Topics)
			sh.Public = &p
		}
		u.Shades = append(u.Shades, sh)
	}
	mems := nilIfEmpty(u.Memories)
	u.Memories = nil
	for _, m := range mems {
		m.CreatedAt = ms(m.CreatedAt)
		u.Memories = append(u.Memories, m)
	}
	return u
}

func normIdentity(i store.Identity) store.Identity {
	i.SealedTokens, i.RevokedBy = nilIfEmpty(i.SealedTokens), nilIfEmpty(i.RevokedBy)
	i.TokenExpiresAt, i.CreatedAt, i.UpdatedAt = ms(i.TokenExpiresAt), ms(i.CreatedAt), ms(i.UpdatedAt)
	return i
}

func normLogin(l store.LoginSession) store.LoginSession {
	l.CreatedAt, l.ExpiresAt = ms(l.CreatedAt), ms(l.ExpiresAt)
	return l
}

func normSession(c store.ChatSession) store.ChatSession {
	c.CreatedAt, c.UpdatedAt = ms(c.CreatedAt), ms(c.UpdatedAt)
	return c
}

func normMessage(m store.ChatMessage) store.ChatMessage {
	m.CreatedAt = ms(m.CreatedAt)
	return m
}

func normMessages(ms []store.ChatMessage) []store.ChatMessage {
	var out []store.ChatMessage
	for _, m := range ms {
		out = append(out, normMessage(m))
	}
	return out
}

func normMatch(m store.Match) store.Match {
	m.Highlights, m.Challenges, m.Parts = nilIfEmpty(m.Highlights), nilIfEmpty(m.Challenges), nilIfEmpty(m.Parts)
	m.Transcript = nilIfEmpty(m.Transcript)
	m.ComputedAt = ms(m.ComputedAt)
	return m
}

func normBlocks(bs []store.Block) []store.Block {
	var out []store.Block
	for _, b := range bs {
		b.CreatedAt = ms(b.CreatedAt)
		out = append(out, b)
	}
	return out
}

func normJob(j store.JobState) store.JobState {
	j.LastRun, j.UpdatedAt = ms(j.LastRun), ms(j.UpdatedAt)
	return j
}

// collect walks every page of a listing and returns the items in order, failing on a page larger than
// limit, a short page with a Next, a Next that leads to an empty page, or a listing that does not end.
func collect[T any](tb testing.TB, limit int, list func(cursor string) (store.Page[T], error)) []T {
	tb.Helper()
	var all []T
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			tb.Fatalf("listing does not end")
		}
		p, err := list(cursor)
		check(tb, err, "list page")
		if cursor != "" && len(p.Items) == 0 {
			tb.Fatalf("a Next cursor led to an empty page")
		}
		if len(p.Items) > limit {
			tb.Fatalf("page has %d items, limit %d", len(p.Items), limit)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		if len(p.Items) < limit {
			tb.Fatalf("page of %d items (limit %d) has a Next cursor", len(p.Items), limit)
		}
		cursor = p.Next
	}
}
