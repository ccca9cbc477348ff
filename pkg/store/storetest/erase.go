package storetest

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// person is everything the erase test stores for one user.
type person struct {
	user       store.User
	identities []store.Identity
	login      store.LoginSession
	session    store.ChatSession
}

// seedPerson stores a user with two identities (one whose subject is the user id, as for the local
// personas), a login session, a chat session with a finished turn, a quota count and terms.
func seedPerson(tb testing.TB, s store.Store, nickname string, terms []string) person {
	tb.Helper()
	p := person{user: createUser(tb, s, nickname)}
	oidc := newIdentity(store.ProviderOIDC, p.user.ID)
	oidc.Subject = p.user.ID
	p.identities = []store.Identity{newIdentity(store.ProviderSecondMe, p.user.ID), oidc}
	for _, i := range p.identities {
		check(tb, s.CreateIdentity(ctx, i), "CreateIdentity")
	}
	p.login = newLogin(p.user.ID, time.Hour)
	check(tb, s.CreateLoginSession(ctx, p.login), "CreateLoginSession")
	p.session = createSession(tb, s, p.user.ID, at(0))
	chatTurn(tb, s, p.session.ID)
	_, err := s.ConsumeQuota(ctx, p.user.ID, "2026-11-25", 10)
	check(tb, err, "ConsumeQuota")
	check(tb, s.SetUserTerms(ctx, p.user.ID, terms), "SetUserTerms")
	return p
}

// chatTurn stores a user message and its reply in a session: two messages.
func chatTurn(tb testing.TB, s store.Store, sessionID string) {
	tb.Helper()
	user := message(sessionID, 0)
	_, err := s.PutMessage(ctx, user)
	check(tb, err, "PutMessage")
	reply := message(sessionID, 1)
	reply.ReplyTo = user.ID
	check(tb, s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: reply.Content, AddMessages: 2, UpdatedAt: at(1)}),
		"CompleteTurn")
}

// createTwinSession stores a session of owner with the twin of another person, with a chat turn.
func createTwinSession(tb testing.TB, s store.Store, ownerID, twinID string) store.ChatSession {
	tb.Helper()
	c := newSession(ownerID, at(0))
	c.TwinID = twinID
	check(tb, s.CreateSession(ctx, c), "CreateSession with another person's twin")
	chatTurn(tb, s, c.ID)
	return c
}

// traces returns the lines of a dump that hold any of ids.
func traces(out string, ids ...string) []string {
	var lines []string
	for _, line := range strings.Split(out, "\n") {
		if slices.ContainsFunc(ids, func(id string) bool { return strings.Contains(line, id) }) {
			lines = append(lines, line)
		}
	}
	return lines
}

// wantGone fails unless a session and its messages are gone.
func wantGone(tb testing.TB, s store.Store, sessionID, what string) {
	tb.Helper()
	_, err := s.GetSession(ctx, sessionID)
	wantErr(tb, err, store.ErrNotFound, "GetSession of "+what)
	_, err = s.LoadConversation(ctx, sessionID, 10)
	wantErr(tb, err, store.ErrNotFound, "LoadConversation of "+what)
	if p, err := s.ListMessages(ctx, sessionID, "", 10); err != nil || len(p.Items) != 0 {
		tb.Errorf("ListMessages of %s = %d messages, %v; want none", what, len(p.Items), err)
	}
}

func dump(tb testing.TB, d Dumper) string {
	tb.Helper()
	var buf bytes.Buffer
	check(tb, d.Dump(ctx, &buf), "Dump")
	return buf.String()
}

func testErase(t *testing.T, s store.Store) {
	term := "erase-" + id.New()
	gone := seedPerson(t, s, "Gone", []string{term})
	kept := seedPerson(t, s, "Kept", []string{term})
	third := seedPerson(t, s, "Third", []string{term})
	g, k, th := gone.user.ID, kept.user.ID, third.user.ID
	putMatch(t, s, g, k, 80)
	putMatch(t, s, g, th, 60)
	putMatch(t, s, k, th, 70)
	// Matching state that names the erased person: their budget counter, rematch window and the
	// deferrals of their matches (on either side of the pair).
	_, err := s.ConsumeBudget(ctx, g, "match", "2026-11-25", 3, 10)
	check(t, err, "ConsumeBudget")
	_, _, err = s.MarkRematch(ctx, g, at(0), time.Minute)
	check(t, err, "MarkRematch")
	check(t, s.DeferMatch(ctx, g, k, at(0)), "DeferMatch")
	check(t, s.DeferMatch(ctx, th, g, at(0)), "DeferMatch")
	for _, b := range []store.Block{{BlockerID: g, BlockedID: k}, {BlockerID: th, BlockedID: g}, {BlockerID: k, BlockedID: th}} {
		b.CreatedAt = at(0)
		check(t, s.PutBlock(ctx, b), "PutBlock")
	}
	// Sessions with another person's twin: kept's with the erased person's twin and the erased
	// person's with kept's twin go; kept's with third's twin stays.
	keptWithGone := createTwinSession(t, s, k, g)
	goneWithKept := createTwinSession(t, s, g, k)
	keptWithThird := createTwinSession(t, s, k, th)
	// erasedIDs are the ids no record may hold after the erase: the person's and their sessions'.
	erasedIDs := []string{g, gone.session.ID, keptWithGone.ID, goneWithKept.ID}

	check(t, s.EraseUser(ctx, g), "EraseUser")

	t.Run("erased person is gone", func(t *testing.T) {
		_, err := s.GetUser(ctx, g)
		wantErr(t, err, store.ErrNotFound, "GetUser")
		if users, err := s.GetUsers(ctx, []string{g}); err != nil || len(users) != 0 {
			t.Errorf("GetUsers = %d users, %v; want none", len(users), err)
		}
		for _, i := range gone.identities {
			_, err := s.GetIdentity(ctx, i.Provider, i.Subject)
			wantErr(t, err, store.ErrNotFound, "GetIdentity "+i.Provider)
		}
		if ids, err := s.ListIdentities(ctx, g); err != nil || len(ids) != 0 {
			t.Errorf("ListIdentities = %v, %v; want none", ids, err)
		}
		_, err = s.GetLoginSession(ctx, gone.login.TokenHash)
		wantErr(t, err, store.ErrNotFound, "GetLoginSession")
		wantGone(t, s, gone.session.ID, "the erased person's session")
		wantGone(t, s, goneWithKept.ID, "the erased person's session with another twin")
		wantGone(t, s, keptWithGone.ID, "another person's session with the erased person's twin")
		if p, err := s.ListSessions(ctx, g, "", 10); err != nil || len(p.Items) != 0 {
			t.Errorf("ListSessions = %d sessions, %v; want none", len(p.Items), err)
		}
		for _, other := range []string{k, th} {
			_, err := s.GetMatch(ctx, g, other)
			wantErr(t, err, store.ErrNotFound, "GetMatch")
			if blocked, err := s.Blocked(ctx, g, other); err != nil || blocked {
				t.Errorf("Blocked(gone, %s) = %v, %v; want false", other, blocked, err)
			}
		}
		checkRanked(t, g, listMatches(t, s, g, 10), map[string]int{})
		if bs, err := s.ListBlocks(ctx, g); err != nil || len(bs) != 0 {
			t.Errorf("ListBlocks = %v, %v; want none", bs, err)
		}
		ids, err := s.UsersWithTerm(ctx, term, "", 10)
		check(t, err, "UsersWithTerm")
		if slices.Contains(ids, g) {
			t.Errorf("UsersWithTerm still lists the erased person")
		}
	})
	t.Run("others are intact", func(t *testing.T) {
		for _, p := range []person{kept, third} {
			got, err := s.GetUser(ctx, p.user.ID)
			check(t, err, "GetUser")
			same(t, got, p.user, normUser, "GetUser")
			for _, i := range p.identities {
				_, err := s.GetIdentity(ctx, i.Provider, i.Subject)
				check(t, err, "GetIdentity")
			}
			_, err = s.GetLoginSession(ctx, p.login.TokenHash)
			check(t, err, "GetLoginSession")
			conv, err := s.LoadConversation(ctx, p.session.ID, 10)
			check(t, err, "LoadConversation")
			if len(conv.Messages) != 2 {
				t.Errorf("LoadConversation = %d messages, want 2", len(conv.Messages))
			}
		}
		sessions := collect(t, 10, func(cur string) (store.Page[store.ChatSession], error) {
			return s.ListSessions(ctx, k, cur, 10)
		})
		got, want := sessionIDs(sessions), []string{kept.session.ID, keptWithThird.ID}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ListSessions of kept = %v, want their own and the one with third's twin %v", got, want)
		}
		conv, err := s.LoadConversation(ctx, keptWithThird.ID, 10)
		check(t, err, "LoadConversation of a session with a twin not erased")
		if c := conv.Session; c.OwnerID != k || c.TwinID != th || len(conv.Messages) != 2 {
			t.Errorf("LoadConversation = owner %s, twin %s, %d messages; want %s, %s, 2", c.OwnerID, c.TwinID, len(conv.Messages), k, th)
		}
		checkRanked(t, k, listMatches(t, s, k, 10), map[string]int{th: 70})
		checkRanked(t, th, listMatches(t, s, th, 10), map[string]int{k: 70})
		_, err = s.GetMatch(ctx, th, k)
		check(t, err, "GetMatch of the others")
		if blocked, err := s.Blocked(ctx, k, th); err != nil || !blocked {
			t.Errorf("Blocked(kept, third) = %v, %v; want true", blocked, err)
		}
		ids, err := s.UsersWithTerm(ctx, term, "", 10)
		check(t, err, "UsersWithTerm")
		slices.Sort(ids)
		if want := []string{min(k, th), max(k, th)}; !slices.Equal(ids, want) {
			t.Errorf("UsersWithTerm = %v, want %v", ids, want)
		}
	})
	d, dumps := s.(Dumper)
	if dumps {
		t.Run("no trace in dump", func(t *testing.T) {
			out := dump(t, d)
			for _, line := range traces(out, erasedIDs...) {
				t.Errorf("dump still holds an erased id: %s", line)
			}
			if !strings.Contains(out, k) || !strings.Contains(out, keptWithThird.ID) {
				t.Errorf("dump lacks the id of a person or session that was not erased")
			}
		})
	}
	t.Run("quota is reset", func(t *testing.T) {
		got, err := s.ConsumeQuota(ctx, g, "2026-11-25", 10)
		check(t, err, "ConsumeQuota")
		if got != 1 {
			t.Errorf("ConsumeQuota after erase = %d, want 1", got)
		}
	})
	t.Run("twice and unknown", func(t *testing.T) {
		check(t, s.EraseUser(ctx, g), "EraseUser again")
		check(t, s.EraseUser(ctx, id.New()), "EraseUser of nobody")
		wantGone(t, s, keptWithGone.ID, "another person's session with the erased person's twin")
		if _, err := s.GetSession(ctx, keptWithThird.ID); err != nil {
			t.Errorf("GetSession of a session with a twin not erased, after erasing again: %v", err)
		}
		if dumps {
			for _, line := range traces(dump(t, d), erasedIDs...) {
				t.Errorf("dump holds an erased id after erasing again: %s", line)
			}
		}
	})
	t.Run("taken session id", func(t *testing.T) {
		// A CreateSession refused because the id is taken stores nothing that the erase of the twin it
		// named would act on: the sessions holding the id stay until their own twin is erased.
		owner, twin := id.New(), id.New()
		own := createSession(t, s, owner, at(0))
		held := createTwinSession(t, s, owner, twin)
		var refused []string
		for _, c := range []store.ChatSession{own, held} {
			again := newSession(id.New(), at(5))
			again.ID, again.TwinID = c.ID, id.New()
			wantErr(t, s.CreateSession(ctx, again), store.ErrConflict, "CreateSession with a taken id and another twin")
			refused = append(refused, again.TwinID)
			check(t, s.EraseUser(ctx, again.TwinID), "EraseUser of the twin of a refused session")
		}
		for _, c := range []store.ChatSession{own, held} {
			got, err := s.GetSession(ctx, c.ID)
			check(t, err, "GetSession after erasing the twin of a refused session")
			if got.OwnerID != owner || got.TwinID != c.TwinID {
				t.Errorf("GetSession = owner %s, twin %s; want %s, %s", got.OwnerID, got.TwinID, owner, c.TwinID)
			}
		}
		check(t, s.EraseUser(ctx, twin), "EraseUser of the twin")
		wantGone(t, s, held.ID, "a session with the erased twin")
		_, err := s.GetSession(ctx, own.ID)
		check(t, err, "GetSession of the owner's own session")
		if dumps {
			for _, line := range traces(dump(t, d), append(refused, twin, held.ID)...) {
				t.Errorf("dump holds an erased id: %s", line)
			}
		}
	})
}
