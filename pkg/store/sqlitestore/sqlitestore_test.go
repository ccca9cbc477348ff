package sqlitestore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

func openTemp(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "twin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u := store.User{ID: id.New(), Nickname: "Ada", CreatedAt: time.Now()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openTemp(t, path)
	got, err := s.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatalf("GetUser after reopen: %v", err)
	}
	if got.Nickname != u.Nickname || !got.CreatedAt.Equal(u.CreatedAt.Truncate(time.Millisecond)) {
		t.Errorf("got %+v, want %+v", got, u)
	}
	if err := s.CreateUser(ctx, u); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateUser again = %v, want ErrConflict", err)
	}
}
