package dynamostore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// TestSessionPlaceMovesOncePerMinute checks that a turn less than a minute after the session's place in
// its owner's list leaves the place (the GSI1 key) as it is, and a later one moves it; and that a long
// summary, stored compressed, reads back as written.
func TestSessionPlaceMovesOncePerMinute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := dynamotest.New(t)
	owner := id.New()
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	older := store.ChatSession{ID: id.At(t0), OwnerID: owner, TwinID: owner, CreatedAt: t0, UpdatedAt: t0}
	newer := store.ChatSession{ID: id.At(t0.Add(time.Second)), OwnerID: owner, TwinID: owner,
		CreatedAt: t0.Add(10 * time.Second), UpdatedAt: t0.Add(10 * time.Second)}
	for _, c := range []store.ChatSession{older, newer} {
		if err := s.CreateSession(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	summary := strings.Repeat("We talked about climbing in Sintra and sourdough starters. ", 20)
	turn := func(at time.Time) {
		t.Helper()
		reply := store.ChatMessage{ID: id.At(at), SessionID: older.ID, Role: store.RoleAssistant, Content: "ok", CreatedAt: at}
		err := s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: "ok", Summary: summary,
			SummarizedThrough: reply.ID, AddMessages: 2, UpdatedAt: at})
		if err != nil {
			t.Fatal(err)
		}
	}
	first := func() string {
		t.Helper()
		p, err := s.ListSessions(ctx, owner, "", 10)
		if err != nil || len(p.Items) != 2 {
			t.Fatalf("ListSessions = %+v, %v", p, err)
		}
		return p.Items[0].ID
	}
	turn(t0.Add(30 * time.Second)) // the place is 30 s old: it stays, after the newer session
	if got := first(); got != newer.ID {
		t.Errorf("after a turn 30 s later the first session is %s, want %s (place kept)", got, newer.ID)
	}
	turn(t0.Add(61 * time.Second)) // a minute old: it moves
	if got := first(); got != older.ID {
		t.Errorf("after a turn 61 s later the first session is %s, want %s (place moved)", got, older.ID)
	}
	got, err := s.GetSession(ctx, older.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary != summary || got.MessageCount != 4 || !got.UpdatedAt.Equal(t0.Add(61*time.Second)) {
		t.Errorf("session = summary %d bytes, count %d, updated %v; want %d bytes, 4, %v",
			len(got.Summary), got.MessageCount, got.UpdatedAt, len(summary), t0.Add(61*time.Second))
	}
}

// TestLongMessagesRoundTrip checks that long message contents, stored compressed, read back as written
// through every read: LoadConversation, ListMessages and a client message id used again.
func TestLongMessagesRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := dynamotest.New(t)
	owner := id.New()
	now := time.Now().UTC()
	c := store.ChatSession{ID: id.New(), OwnerID: owner, TwinID: owner, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateSession(ctx, c); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Sourdough, granite and a slow Saturday morning in Sintra; ", 40)
	msg := store.ChatMessage{ID: id.At(now), SessionID: c.ID, Role: store.RoleUser, Content: long + "?", ClientMessageID: "cm-1", CreatedAt: now}
	if _, err := s.StartTurn(ctx, msg, "claim", time.Minute, store.Charge{}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.PutMessage(ctx, msg); err == nil || got.Content != msg.Content {
		t.Errorf("PutMessage with a used client message id = %d bytes, %v; want the stored message and a conflict", len(got.Content), err)
	}
	reply := store.ChatMessage{ID: id.At(now.Add(time.Second)), SessionID: c.ID, Role: store.RoleAssistant, Content: long + "!",
		ReplyTo: msg.ID, CreatedAt: now.Add(time.Second)}
	if err := s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: "ok", AddMessages: 2, UpdatedAt: reply.CreatedAt}); err != nil {
		t.Fatal(err)
	}
	conv, err := s.LoadConversation(ctx, c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.ListMessages(ctx, c.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range [][]store.ChatMessage{conv.Messages, {page.Items[1], page.Items[0]}} {
		if len(got) != 2 || got[0].Content != msg.Content || got[1].Content != reply.Content {
			t.Errorf("messages read back differ from those written (%d messages)", len(got))
		}
	}
}
