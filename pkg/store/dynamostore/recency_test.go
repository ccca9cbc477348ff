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
