package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

func newSession(ownerID string, updated time.Time) store.ChatSession {
	return store.ChatSession{
		ID: id.New(), OwnerID: ownerID, TwinID: ownerID, Title: "Chat", LastMessage: "hello",
		CreatedAt: updated, UpdatedAt: updated,
	}
}

func createSession(tb testing.TB, s store.Store, ownerID string, updated time.Time) store.ChatSession {
	tb.Helper()
	c := newSession(ownerID, updated)
	check(tb, s.CreateSession(ctx, c), "CreateSession")
	return c
}

// message returns the i-th message of a session, with an id that sorts after those of smaller i.
func message(sessionID string, i int) store.ChatMessage {
	m := store.ChatMessage{
		ID: id.At(at(i)), SessionID: sessionID, Role: store.RoleUser, Content: fmt.Sprintf("message %d", i),
		ClientMessageID: fmt.Sprintf("client-%d", i), CreatedAt: at(i),
	}
	if i%2 == 1 {
		m.Role, m.ClientMessageID, m.Model = store.RoleAssistant, "", "offline"
	}
	return m
}

// putMessages stores messages 0..n-1 of a session.
func putMessages(tb testing.TB, s store.Store, sessionID string, n int) []store.ChatMessage {
	tb.Helper()
	var msgs []store.ChatMessage
	for i := range n {
		m := message(sessionID, i)
		_, err := s.PutMessage(ctx, m)
		check(tb, err, "PutMessage")
		msgs = append(msgs, m)
	}
	return msgs
}

func sessionIDs(cs []store.ChatSession) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func testChatSessions(t *testing.T, s store.Store) {
	t.Run("create and get", func(t *testing.T) {
		c := newSession(id.New(), at(0))
		c.TwinID, c.Summary, c.SummarizedThrough, c.MessageCount = id.New(), "they met", id.New(), 7
		check(t, s.CreateSession(ctx, c), "CreateSession")
		got, err := s.GetSession(ctx, c.ID)
		check(t, err, "GetSession")
		same(t, got, c, normSession, "GetSession")
	})
	t.Run("create conflict", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		again := c
		again.Title = "Other"
		wantErr(t, s.CreateSession(ctx, again), store.ErrConflict, "CreateSession with a taken id")
	})
	t.Run("get not found", func(t *testing.T) {
		_, err := s.GetSession(ctx, id.New())
		wantErr(t, err, store.ErrNotFound, "GetSession unknown")
	})
	t.Run("list by recency", func(t *testing.T) {
		owner := id.New()
		var want []string // newest first
		for i := range 5 {
			c := createSession(t, s, owner, at(i*10))
			want = append([]string{c.ID}, want...)
		}
		createSession(t, s, id.New(), at(1000)) // another owner's
		for _, limit := range []int{2, 5, 100} {
			got := collect(t, limit, func(cur string) (store.Page[store.ChatSession], error) {
				return s.ListSessions(ctx, owner, cur, limit)
			})
			if !slices.Equal(sessionIDs(got), want) {
				t.Errorf("limit %d: ListSessions\n got %v\nwant %v", limit, sessionIDs(got), want)
			}
		}

		// A finished turn moves the oldest session to the top (its place may lag by less than a minute).
		oldest := want[len(want)-1]
		reply := message(oldest, 1)
		check(t, s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: "latest", AddMessages: 1, UpdatedAt: at(2 * 60_000)}),
			"CompleteTurn")
		p, err := s.ListSessions(ctx, owner, "", 2)
		check(t, err, "ListSessions")
		if len(p.Items) == 0 || p.Items[0].ID != oldest || p.Items[0].LastMessage != "latest" {
			t.Errorf("first session after CompleteTurn = %+v, want %s with LastMessage %q", p.Items, oldest, "latest")
		}
		empty, err := s.ListSessions(ctx, id.New(), "", 10)
		check(t, err, "ListSessions of nobody")
		if len(empty.Items) != 0 || empty.Next != "" {
			t.Errorf("ListSessions of nobody = %+v, want an empty last page", empty)
		}
	})
	t.Run("list paging with equal times", func(t *testing.T) {
		owner := id.New()
		want := map[string]bool{}
		for range 5 {
			want[createSession(t, s, owner, at(0)).ID] = true
		}
		got := collect(t, 2, func(cur string) (store.Page[store.ChatSession], error) {
			return s.ListSessions(ctx, owner, cur, 2)
		})
		seen := map[string]bool{}
		for _, c := range got {
			if seen[c.ID] || !want[c.ID] {
				t.Errorf("ListSessions returned %s twice or unexpectedly", c.ID)
			}
			seen[c.ID] = true
		}
		if len(seen) != len(want) {
			t.Errorf("ListSessions returned %d sessions, want %d", len(seen), len(want))
		}
	})
	t.Run("delete", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		putMessages(t, s, c.ID, 3)
		keep := createSession(t, s, c.OwnerID, at(1))
		putMessages(t, s, keep.ID, 2)
		check(t, s.DeleteSession(ctx, c.ID), "DeleteSession")
		_, err := s.GetSession(ctx, c.ID)
		wantErr(t, err, store.ErrNotFound, "GetSession after delete")
		_, err = s.LoadConversation(ctx, c.ID, 10)
		wantErr(t, err, store.ErrNotFound, "LoadConversation after delete")
		p, err := s.ListMessages(ctx, c.ID, "", 10)
		check(t, err, "ListMessages after delete")
		if len(p.Items) != 0 {
			t.Errorf("ListMessages after delete = %d messages, want none", len(p.Items))
		}
		p, err = s.ListMessages(ctx, keep.ID, "", 10)
		check(t, err, "ListMessages of another session")
		if len(p.Items) != 2 {
			t.Errorf("ListMessages of another session = %d messages, want 2", len(p.Items))
		}
		sessions, err := s.ListSessions(ctx, c.OwnerID, "", 10)
		check(t, err, "ListSessions")
		if got := sessionIDs(sessions.Items); !slices.Equal(got, []string{keep.ID}) {
			t.Errorf("ListSessions after delete = %v, want [%s]", got, keep.ID)
		}
		check(t, s.DeleteSession(ctx, c.ID), "DeleteSession again")
		check(t, s.DeleteSession(ctx, id.New()), "DeleteSession unknown")
	})
}

func testMessages(t *testing.T, s store.Store) {
	t.Run("load conversation", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		msgs := putMessages(t, s, c.ID, 5)
		tests := []struct {
			name string
			n    int
			want []store.ChatMessage
		}{
			{"newest three oldest first", 3, msgs[2:]},
			{"more than stored", 10, msgs},
			{"one", 1, msgs[4:]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.LoadConversation(ctx, c.ID, tt.n)
				check(t, err, "LoadConversation")
				same(t, got.Session, c, normSession, "LoadConversation session")
				same(t, got.Messages, tt.want, normMessages, "LoadConversation messages")
			})
		}
		empty := createSession(t, s, id.New(), at(0))
		got, err := s.LoadConversation(ctx, empty.ID, 10)
		check(t, err, "LoadConversation of an empty session")
		if got.Session.ID != empty.ID || len(got.Messages) != 0 {
			t.Errorf("LoadConversation of an empty session = %s, %d messages; want %s, none", got.Session.ID, len(got.Messages), empty.ID)
		}
		if got.Twin.ID != "" || got.Blocked {
			t.Errorf("LoadConversation of a session whose twin's person does not exist: twin %q, blocked %v; want none", got.Twin.ID, got.Blocked)
		}
		_, err = s.LoadConversation(ctx, id.New(), 10)
		wantErr(t, err, store.ErrNotFound, "LoadConversation unknown")
	})
	t.Run("load conversation reads the twin and the blocks", func(t *testing.T) {
		owner, twin := createUser(t, s, "Owner"), createUser(t, s, "Twin")
		c := newSession(owner.ID, at(0))
		c.TwinID = twin.ID
		check(t, s.CreateSession(ctx, c), "CreateSession")
		own := createSession(t, s, owner.ID, at(0))
		load := func(sessionID string, want store.User, blocked bool) {
			t.Helper()
			got, err := s.LoadConversation(ctx, sessionID, 10)
			check(t, err, "LoadConversation")
			same(t, got.Twin, want, normUser, "LoadConversation twin")
			if got.Blocked != blocked {
				t.Errorf("LoadConversation of %s with %s's twin: blocked = %v, want %v", got.Session.OwnerID, want.Nickname, got.Blocked, blocked)
			}
		}
		load(c.ID, twin, false)
		load(own.ID, owner, false)
		check(t, s.PutBlock(ctx, store.Block{BlockerID: owner.ID, BlockedID: id.New(), CreatedAt: at(0)}), "PutBlock of someone else")
		load(c.ID, twin, false)
		check(t, s.PutBlock(ctx, store.Block{BlockerID: twin.ID, BlockedID: owner.ID, CreatedAt: at(0)}), "PutBlock")
		load(c.ID, twin, true)
		load(own.ID, owner, false)
		check(t, s.DeleteBlock(ctx, twin.ID, owner.ID), "DeleteBlock")
		check(t, s.PutBlock(ctx, store.Block{BlockerID: owner.ID, BlockedID: twin.ID, CreatedAt: at(0)}), "PutBlock by the owner")
		load(c.ID, twin, true)
	})
	t.Run("put message idempotent", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		first := message(c.ID, 0)
		got, err := s.PutMessage(ctx, first)
		check(t, err, "PutMessage")
		same(t, got, first, normMessage, "PutMessage result")

		retry := first
		retry.ID, retry.Content, retry.CreatedAt = id.At(at(5)), "retried", at(5)
		got, err = s.PutMessage(ctx, retry)
		wantErr(t, err, store.ErrConflict, "PutMessage with a used ClientMessageID")
		same(t, got, first, normMessage, "PutMessage returns the stored message")

		other := createSession(t, s, c.OwnerID, at(0))
		elsewhere := retry
		elsewhere.SessionID = other.ID
		_, err = s.PutMessage(ctx, elsewhere)
		check(t, err, "PutMessage with the same ClientMessageID in another session")

		want := []store.ChatMessage{first}
		for i := 1; i <= 3; i += 2 { // replies carry no ClientMessageID and never collide
			m := message(c.ID, i)
			_, err := s.PutMessage(ctx, m)
			check(t, err, "PutMessage without ClientMessageID")
			want = append([]store.ChatMessage{m}, want...)
		}
		p, err := s.ListMessages(ctx, c.ID, "", 10)
		check(t, err, "ListMessages")
		same(t, p.Items, want, normMessages, "ListMessages")
	})
	t.Run("list messages paging", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		msgs := putMessages(t, s, c.ID, 25)
		other := createSession(t, s, c.OwnerID, at(0))
		putMessages(t, s, other.ID, 3)
		want := slices.Clone(msgs)
		slices.Reverse(want)
		for _, limit := range []int{10, 25, 1} {
			got := collect(t, limit, func(cur string) (store.Page[store.ChatMessage], error) {
				return s.ListMessages(ctx, c.ID, cur, limit)
			})
			same(t, got, want, normMessages, fmt.Sprintf("limit %d: ListMessages", limit))
		}
		empty, err := s.ListMessages(ctx, id.New(), "", 10)
		check(t, err, "ListMessages of an unknown session")
		if len(empty.Items) != 0 || empty.Next != "" {
			t.Errorf("ListMessages of an unknown session = %+v, want an empty last page", empty)
		}
	})
	t.Run("complete turn", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		user := message(c.ID, 0)
		_, err := s.PutMessage(ctx, user)
		check(t, err, "PutMessage")
		reply := message(c.ID, 1)
		reply.ReplyTo, reply.Incomplete = user.ID, true
		u := store.SessionUpdate{LastMessage: "reply 1", Summary: "so far", SummarizedThrough: user.ID, AddMessages: 2, UpdatedAt: at(1)}
		check(t, s.CompleteTurn(ctx, reply, u), "CompleteTurn")

		want := c
		want.LastMessage, want.Summary, want.SummarizedThrough, want.MessageCount, want.UpdatedAt = "reply 1", "so far", user.ID, 2, at(1)
		got, err := s.GetSession(ctx, c.ID)
		check(t, err, "GetSession")
		same(t, got, want, normSession, "session after CompleteTurn")

		// A turn without a new summary keeps the stored one.
		next := message(c.ID, 3)
		check(t, s.CompleteTurn(ctx, next, store.SessionUpdate{LastMessage: "reply 3", AddMessages: 2, UpdatedAt: at(3)}),
			"second CompleteTurn")
		want.LastMessage, want.MessageCount, want.UpdatedAt = "reply 3", 4, at(3)
		got, err = s.GetSession(ctx, c.ID)
		check(t, err, "GetSession")
		same(t, got, want, normSession, "session after a turn without summary")

		conv, err := s.LoadConversation(ctx, c.ID, 10)
		check(t, err, "LoadConversation")
		same(t, conv.Messages, []store.ChatMessage{user, reply, next}, normMessages, "messages after CompleteTurn")
	})
	t.Run("complete turn retried", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		user := message(c.ID, 0)
		_, err := s.PutMessage(ctx, user)
		check(t, err, "PutMessage")
		reply := message(c.ID, 1)
		reply.ReplyTo = user.ID
		u := store.SessionUpdate{LastMessage: "reply", AddMessages: 2, UpdatedAt: at(1)}
		for i := range 3 {
			check(t, s.CompleteTurn(ctx, reply, u), fmt.Sprintf("CompleteTurn attempt %d", i+1))
		}
		got, err := s.GetSession(ctx, c.ID)
		check(t, err, "GetSession")
		if got.MessageCount != 2 {
			t.Errorf("MessageCount after retries = %d, want 2", got.MessageCount)
		}
		p, err := s.ListMessages(ctx, c.ID, "", 10)
		check(t, err, "ListMessages")
		same(t, p.Items, []store.ChatMessage{reply, user}, normMessages, "messages after retries")
	})
	t.Run("complete turn unknown session", func(t *testing.T) {
		reply := message(id.New(), 1)
		err := s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: "x", AddMessages: 1, UpdatedAt: at(1)})
		wantErr(t, err, store.ErrNotFound, "CompleteTurn unknown session")
		_, err = s.GetSession(ctx, reply.SessionID)
		wantErr(t, err, store.ErrNotFound, "GetSession after CompleteTurn on an unknown session")
	})
}

// answer is a reply to the user message m, with a fresh id.
func answer(m store.ChatMessage, text string) store.ChatMessage {
	return store.ChatMessage{ID: id.New(), SessionID: m.SessionID, Role: store.RoleAssistant, Content: text,
		ReplyTo: m.ID, Model: "offline", CreatedAt: m.CreatedAt.Add(time.Millisecond)}
}

// replies returns the assistant messages of a session.
func replies(tb testing.TB, s store.Store, sessionID string) []store.ChatMessage {
	tb.Helper()
	p, err := s.ListMessages(ctx, sessionID, "", 100)
	check(tb, err, "ListMessages")
	var out []store.ChatMessage
	for _, m := range p.Items {
		if m.Role == store.RoleAssistant {
			out = append(out, m)
		}
	}
	return out
}

func testTurns(t *testing.T, s store.Store) {
	t.Run("complete turn once per message", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		user := message(c.ID, 0)
		_, err := s.PutMessage(ctx, user)
		check(t, err, "PutMessage")
		first, second := answer(user, "first"), answer(user, "second")
		u := store.SessionUpdate{LastMessage: "first", AddMessages: 2, UpdatedAt: at(1)}
		check(t, s.CompleteTurn(ctx, first, u), "CompleteTurn")
		u.LastMessage = "second"
		wantErr(t, s.CompleteTurn(ctx, second, u), store.ErrConflict, "CompleteTurn with a second reply")
		same(t, replies(t, s, c.ID), []store.ChatMessage{first}, normMessages, "replies")
		got, err := s.GetSession(ctx, c.ID)
		check(t, err, "GetSession")
		if got.MessageCount != 2 || got.LastMessage != "first" {
			t.Errorf("session after a refused second reply: MessageCount %d, LastMessage %q; want 2, first",
				got.MessageCount, got.LastMessage)
		}
	})
	t.Run("start turn claims", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		m := message(c.ID, 0)
		got, err := s.StartTurn(ctx, m, "try-1", time.Minute, store.Charge{})
		check(t, err, "StartTurn")
		same(t, got, m, normMessage, "StartTurn result")

		retry := m
		retry.ID, retry.Content = id.At(at(5)), "retried"
		got, err = s.StartTurn(ctx, retry, "try-2", time.Minute, store.Charge{})
		wantErr(t, err, store.ErrConflict, "StartTurn while another try holds the turn")
		same(t, got, m, normMessage, "StartTurn returns the stored message")
		got, err = s.StartTurn(ctx, retry, "try-1", time.Minute, store.Charge{})
		check(t, err, "StartTurn again by the holder (a retry of StartTurn)")
		same(t, got, m, normMessage, "StartTurn again by the holder")

		check(t, s.ReleaseTurn(ctx, c.ID, m.ID, "try-2"), "ReleaseTurn of a claim not held")
		_, err = s.StartTurn(ctx, retry, "try-2", time.Minute, store.Charge{})
		wantErr(t, err, store.ErrConflict, "StartTurn after another try's release")

		check(t, s.ReleaseTurn(ctx, c.ID, m.ID, "try-1"), "ReleaseTurn")
		got, err = s.StartTurn(ctx, retry, "try-2", time.Minute, store.Charge{})
		check(t, err, "StartTurn after the holder released the turn")
		same(t, got, m, normMessage, "StartTurn takes over the stored message")

		check(t, s.CompleteTurn(ctx, answer(m, "done"), store.SessionUpdate{LastMessage: "done", AddMessages: 2, UpdatedAt: at(1)}),
			"CompleteTurn")
		check(t, s.ReleaseTurn(ctx, c.ID, m.ID, "try-2"), "ReleaseTurn after the turn completed")
		_, err = s.StartTurn(ctx, retry, "try-3", time.Minute, store.Charge{})
		wantErr(t, err, store.ErrConflict, "StartTurn of an answered message")

		p, err := s.ListMessages(ctx, c.ID, "", 10)
		check(t, err, "ListMessages")
		if len(p.Items) != 2 {
			t.Errorf("messages: got %d, want the message and its reply", len(p.Items))
		}
	})
	t.Run("claim ends with its lease", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		m := message(c.ID, 0)
		_, err := s.StartTurn(ctx, m, "crashed", 0, store.Charge{}) // as if the lease had run out
		check(t, err, "StartTurn")
		retry := m
		retry.ID = id.At(at(5))
		got, err := s.StartTurn(ctx, retry, "retry", time.Minute, store.Charge{})
		check(t, err, "StartTurn after the lease ended")
		same(t, got, m, normMessage, "StartTurn takes over the stored message")
		check(t, s.ReleaseTurn(ctx, c.ID, m.ID, "crashed"), "ReleaseTurn by the old holder")
		_, err = s.StartTurn(ctx, retry, "third", time.Minute, store.Charge{})
		wantErr(t, err, store.ErrConflict, "StartTurn while the retry holds the turn (the old holder released nothing)")
	})
	t.Run("two turns racing", func(t *testing.T) {
		// Two tries of one turn (same ClientMessageID) run at once, each as a chat turn would: claim,
		// then complete. Exactly one claims and answers; the other gets ErrConflict.
		c := createSession(t, s, id.New(), at(0))
		charge := store.Charge{UserID: id.New(), Day: "2026-11-27", Limit: 1000}
		for round := range 20 {
			type outcome struct {
				claimed bool
				err     error
			}
			results := make(chan outcome, 2)
			start := make(chan struct{})
			for try := range 2 {
				go func() {
					<-start
					m := message(c.ID, 2*round)
					m.ID, m.Content = id.New(), fmt.Sprintf("round %d try %d", round, try)
					claim := fmt.Sprintf("round-%d-try-%d", round, try)
					got, err := s.StartTurn(ctx, m, claim, time.Minute, charge)
					if err != nil {
						results <- outcome{false, err}
						return
					}
					err = s.CompleteTurn(ctx, answer(got, claim), store.SessionUpdate{LastMessage: claim, AddMessages: 2, UpdatedAt: at(2*round + 1)})
					results <- outcome{true, err}
				}()
			}
			close(start)
			claimed := 0
			for range 2 {
				r := <-results
				switch {
				case r.claimed && r.err == nil:
					claimed++
				case !r.claimed && errors.Is(r.err, store.ErrConflict):
				default:
					t.Fatalf("round %d: claimed %v, err %v; want one claim that completes and one ErrConflict", round, r.claimed, r.err)
				}
			}
			if claimed != 1 {
				t.Fatalf("round %d: %d tries claimed the turn, want 1", round, claimed)
			}
		}
		p, err := s.ListMessages(ctx, c.ID, "", 100)
		check(t, err, "ListMessages")
		users, answered := 0, map[string]int{}
		for _, m := range p.Items {
			if m.Role == store.RoleUser {
				users++
			} else {
				answered[m.ReplyTo]++
			}
		}
		if users != 20 || len(answered) != 20 {
			t.Errorf("after 20 rounds: %d user messages, %d answered; want 20, 20", users, len(answered))
		}
		for msg, n := range answered {
			if n != 1 {
				t.Errorf("message %s has %d replies, want 1", msg, n)
			}
		}
		got, err := s.GetSession(ctx, c.ID)
		check(t, err, "GetSession")
		if got.MessageCount != 40 {
			t.Errorf("MessageCount = %d, want 40", got.MessageCount)
		}
		n, err := s.ConsumeQuota(ctx, charge.UserID, charge.Day, charge.Limit)
		check(t, err, "ConsumeQuota")
		if n != 21 {
			t.Errorf("quota after 20 rounds = %d, want 20 (one per claimed turn) and this one", n)
		}
	})
	t.Run("start turn charges the quota once claimed", func(t *testing.T) {
		c := createSession(t, s, id.New(), at(0))
		charge := store.Charge{UserID: id.New(), Day: "2026-11-27", Limit: 2}
		first := message(c.ID, 0)
		_, err := s.StartTurn(ctx, first, "try-1", time.Minute, charge)
		check(t, err, "StartTurn")
		retry := first
		retry.ID = id.At(at(5))
		_, err = s.StartTurn(ctx, retry, "try-2", time.Minute, charge)
		wantErr(t, err, store.ErrConflict, "StartTurn while another try holds the turn")
		_, err = s.StartTurn(ctx, message(c.ID, 2), "try-3", time.Minute, charge)
		check(t, err, "StartTurn of a second turn")

		spent := message(c.ID, 4)
		got, err := s.StartTurn(ctx, spent, "try-4", time.Minute, charge)
		wantErr(t, err, store.ErrQuotaExceeded, "StartTurn with the quota spent")
		same(t, got, spent, normMessage, "StartTurn with the quota spent returns the message")
		// The message stays, unclaimed: another try takes its turn at once.
		got, err = s.StartTurn(ctx, spent, "try-5", time.Minute, store.Charge{})
		check(t, err, "StartTurn of the refused turn, no charge")
		same(t, got, spent, normMessage, "StartTurn of the refused turn")
		n, err := s.ConsumeQuota(ctx, charge.UserID, charge.Day, 10)
		check(t, err, "ConsumeQuota")
		if n != 3 {
			t.Errorf("quota after two claimed turns, a conflict and a refusal = %d, want 3 (2 and this one)", n)
		}
		_, err = s.StartTurn(ctx, message(c.ID, 6), "try-6", time.Minute, store.Charge{UserID: charge.UserID, Day: charge.Day})
		wantErr(t, err, store.ErrQuotaExceeded, "StartTurn with a zero limit")
	})
	t.Run("completions racing", func(t *testing.T) {
		// Two completions of one message with different replies (a try whose lease ran out, and the
		// retry that took over): exactly one reply is stored.
		c := createSession(t, s, id.New(), at(0))
		for round := range 10 {
			user := message(c.ID, 2*round)
			_, err := s.PutMessage(ctx, user)
			check(t, err, "PutMessage")
			errs := make(chan error, 2)
			start := make(chan struct{})
			for try := range 2 {
				go func() {
					<-start
					text := fmt.Sprintf("round %d try %d", round, try)
					errs <- s.CompleteTurn(ctx, answer(user, text), store.SessionUpdate{LastMessage: text, AddMessages: 2, UpdatedAt: at(2*round + 1)})
				}()
			}
			close(start)
			ok := 0
			for range 2 {
				switch err := <-errs; {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrConflict):
					t.Fatalf("round %d: CompleteTurn = %v, want nil or ErrConflict", round, err)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d completions succeeded, want 1", round, ok)
			}
		}
		if got := len(replies(t, s, c.ID)); got != 10 {
			t.Errorf("replies after 10 rounds: %d, want 10", got)
		}
		got, err := s.GetSession(ctx, c.ID)
		check(t, err, "GetSession")
		if got.MessageCount != 20 {
			t.Errorf("MessageCount = %d, want 20", got.MessageCount)
		}
	})
}
