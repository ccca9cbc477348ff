package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/storetest"
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

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTemp(t, filepath.Join(t.TempDir(), "twin.db"))
	})
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
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

func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "twin.db")
	for i := range 3 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	defer db.Close()
	var rows, version int
	if err := db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&rows, &version); err != nil {
		t.Fatalf("read schema_version: %v", err)
	}
	names, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatalf("read migrations: %v", err)
	}
	if rows != len(names) || version != len(names) {
		t.Errorf("schema_version has %d rows up to version %d, want %d", rows, version, len(names))
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// TestUpgradeFromVersion1 opens a file at schema version 1 (as written before the later migrations):
// Open applies the newer ones, the rows stay, EraseUser finds a session by its twin, and of two
// replies stored to one message (possible before migration 3) the first stays.
func TestUpgradeFromVersion1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "twin.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	v1, err := migrations.ReadFile("migrations/001_init.sql")
	if err != nil {
		t.Fatalf("read migration 1: %v", err)
	}
	for _, q := range []string{
		string(v1),
		`CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
		`INSERT INTO schema_version VALUES (1, 0)`,
		`INSERT INTO chat_sessions VALUES ('s1', 'owner', 'twin', 'Chat', '', '', '', 0, 0, 0)`,
		`INSERT INTO chat_sessions VALUES ('s2', 'owner', 'owner', 'Chat', '', '', '', 4, 0, 0)`,
		`INSERT INTO chat_messages VALUES ('s2', 'm1', 'user', 'hi', 'c1', '', 0, '', 0),
			('s2', 'r1', 'assistant', 'first', '', 'm1', 0, '', 0), ('s2', 'r2', 'assistant', 'second', '', 'm1', 0, '', 0)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("prepare a version 1 file: %v", err)
		}
	}
	db.Close()

	s := openTemp(t, path)
	if _, err := s.GetSession(ctx, "s1"); err != nil {
		t.Fatalf("GetSession after the upgrade: %v", err)
	}
	if err := s.EraseUser(ctx, "twin"); err != nil {
		t.Fatalf("EraseUser: %v", err)
	}
	if _, err := s.GetSession(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSession of a session with the erased twin = %v, want ErrNotFound", err)
	}
	p, err := s.ListMessages(ctx, "s2", "", 10)
	if err != nil || len(p.Items) != 2 || p.Items[0].ID != "r1" {
		t.Errorf("messages after the upgrade = %+v, %v; want r1 and m1", p.Items, err)
	}
	var version int
	var index string
	if err := s.r.db.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&version); err != nil {
		t.Fatalf("read schema_version: %v", err)
	}
	if err := s.r.db.QueryRow(`SELECT name FROM sqlite_schema WHERE type = 'index' AND name = 'chat_sessions_twin'`).
		Scan(&index); err != nil {
		t.Errorf("index chat_sessions_twin after the upgrade: %v", err)
	}
	if names, _ := migrations.ReadDir("migrations"); version != len(names) {
		t.Errorf("schema version = %d, want %d", version, len(names))
	}
}

// TestReopenReleasesClaims: the file is one process's at a time, so a turn claimed when the store
// opens was claimed by a process that ended without finishing it (a crash), and a retry completes it
// at once instead of waiting out the lease.
func TestReopenReleasesClaims(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "twin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	owner := id.New()
	c := store.ChatSession{ID: id.New(), OwnerID: owner, TwinID: owner, Title: "Chat", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := s.CreateSession(ctx, c); err != nil {
		t.Fatal(err)
	}
	m := store.ChatMessage{ID: id.New(), SessionID: c.ID, Role: "user", Content: "hi", ClientMessageID: "cm-1", CreatedAt: time.Now()}
	if _, err := s.StartTurn(ctx, m, "try-1", time.Hour, store.Charge{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartTurn(ctx, m, "try-2", time.Hour, store.Charge{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second try while the first holds the turn = %v, want ErrConflict", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTemp(t, path)
	if _, err := s.StartTurn(ctx, m, "try-2", time.Hour, store.Charge{}); err != nil {
		t.Errorf("a retry after the store opened again = %v, want the turn claimed", err)
	}
}
