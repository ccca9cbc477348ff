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
	user := message(p.session.ID, 0)
	_, err := s.PutMessage(ctx, user)
	check(tb, err, "PutMessage")
	reply := message(p.session.ID, 1)
	reply.ReplyTo = user.ID
	check(tb, s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: reply.Content, AddMessages: 2, UpdatedAt: at(1)}),
		"CompleteTurn")
	_, err = s.ConsumeQuota(ctx, p.user.ID, "2026-11-25", 10)
	check(tb, err, "ConsumeQuota")
	check(tb, s.SetUserTerms(ctx, p.user.ID, terms), "SetUserTerms")
	return p
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
	for _, b := range []store.Block{{BlockerID: g, BlockedID: k}, {BlockerID: th, BlockedID: g}, {BlockerID: k, BlockedID: th}} {
		b.CreatedAt = at(0)
		check(t, s.PutBlock(ctx, b), "PutBlock")
	}

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
		_, err = s.GetSession(ctx, gone.session.ID)
		wantErr(t, err, store.ErrNotFound, "GetSession")
		if p, err := s.ListSessions(ctx, g, "", 10); err != nil || len(p.Items) != 0 {
			t.Errorf("ListSessions = %d sessions, %v; want none", len(p.Items), err)
		}
		if p, err := s.ListMessages(ctx, gone.session.ID, "", 10); err != nil || len(p.Items) != 0 {
			t.Errorf("ListMessages = %d messages, %v; want none", len(p.Items), err)
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
		ids, err := s.UsersWithTerm(ctx, term, 10)
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
			_, msgs, err := s.LoadConversation(ctx, p.session.ID, 10)
			check(t, err, "LoadConversation")
			if len(msgs) != 2 {
				t.Errorf("LoadConversation = %d messages, want 2", len(msgs))
			}
		}
		checkRanked(t, k, listMatches(t, s, k, 10), map[string]int{th: 70})
		checkRanked(t, th, listMatches(t, s, th, 10), map[string]int{k: 70})
		_, err := s.GetMatch(ctx, th, k)
		check(t, err, "GetMatch of the others")
		if blocked, err := s.Blocked(ctx, k, th); err != nil || !blocked {
			t.Errorf("Blocked(kept, third) = %v, %v; want true", blocked, err)
		}
		ids, err := s.UsersWithTerm(ctx, term, 10)
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
			if strings.Contains(out, g) {
				for _, line := range strings.Split(out, "\n") {
					if strings.Contains(line, g) {
						t.Errorf("dump still holds the erased id: %s", line)
					}
				}
			}
			if !strings.Contains(out, k) {
				t.Errorf("dump lacks the id of a person who was not erased")
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
		if dumps && strings.Contains(dump(t, d), g) {
			t.Errorf("dump holds the erased id after erasing again")
		}
	})
}
