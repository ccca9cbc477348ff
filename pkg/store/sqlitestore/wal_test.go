package sqlitestore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// Bounds of the write-ahead log: at most walPeak while turns are written and read without pause, and
// at most walIdle once the store has been idle for walSettle.
const (
	walPeak   = 64 << 20
	walIdle   = 1 << 20
	walSettle = 5 * time.Second
)

// TestWALStaysBounded writes chat turns from several goroutines while others read the conversations,
// sampling the size of the -wal file: it never passes walPeak, and after the writes stop (one reader
// goes on, slowly) it shrinks to walIdle within walSettle.
func TestWALStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes for several seconds")
	}
	defer watchdog(t, stressLimit)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "twin.db")
	s := openTemp(t, path)
	owner := id.New()
	var sessions []store.ChatSession
	for range 8 {
		c := store.ChatSession{ID: id.New(), OwnerID: owner, TwinID: owner, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := s.CreateSession(ctx, c); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		sessions = append(sessions, c)
	}

	var peak atomic.Int64
	sample := func() int64 {
		n := walSize(path)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		return n
	}
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
				sample()
			}
		}
	}()

	text := strings.Repeat("a person writes a few lines to their twin. ", 40) // ~1.7 KB
	writeUntil := time.Now().Add(6 * time.Second)
	var turns, slowest atomic.Int64 // slowest: the longest turn's writes, in ns
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for n := 0; time.Now().Before(writeUntil); n++ {
				c := sessions[(w+n)%len(sessions)]
				now := time.Now()
				began := now
				user := store.ChatMessage{ID: id.New(), SessionID: c.ID, Role: store.RoleUser, Content: text,
					ClientMessageID: fmt.Sprintf("w%d-%d", w, n), CreatedAt: now}
				if _, err := s.PutMessage(ctx, user); err != nil {
					t.Errorf("PutMessage: %v", err)
					return
				}
				reply := store.ChatMessage{ID: id.New(), SessionID: c.ID, Role: store.RoleAssistant, Content: text + text,
					ReplyTo: user.ID, CreatedAt: now}
				if err := s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: "x", Summary: text, SummarizedThrough: user.ID,
					AddMessages: 2, UpdatedAt: now}); err != nil {
					t.Errorf("CompleteTurn: %v", err)
					return
				}
				turns.Add(1)
				for d, p := int64(time.Since(began)), slowest.Load(); d > p && !slowest.CompareAndSwap(p, d); p = slowest.Load() {
				}
			}
		})
	}
	readUntil := writeUntil.Add(walSettle)
	writing := func() bool { return time.Now().Before(writeUntil) }
	for r := range 4 {
		wg.Go(func() {
			for n := 0; time.Now().Before(readUntil); n++ {
				if r > 0 && !writing() {
					return
				}
				if !writing() {
					time.Sleep(100 * time.Millisecond) // one reader goes on while idle, slowly
				}
				if _, err := s.LoadConversation(ctx, sessions[(r+n)%len(sessions)].ID, 40); err != nil {
					t.Errorf("LoadConversation: %v", err)
					return
				}
			}
		})
	}

	for writing() {
		time.Sleep(50 * time.Millisecond)
	}
	idleSince := time.Now()
	var idle int64
	for time.Since(idleSince) < walSettle {
		time.Sleep(100 * time.Millisecond)
		if idle = sample(); idle <= walIdle {
			break
		}
	}
	settled := time.Since(idleSince)
	close(stopSampling)
	<-sampled
	wg.Wait()
	t.Logf("%d turns, the slowest %v; WAL peak %.1f MB; %.2f MB %v after the writes stopped",
		turns.Load(), time.Duration(slowest.Load()).Round(time.Millisecond), float64(peak.Load())/(1<<20),
		float64(idle)/(1<<20), settled.Round(10*time.Millisecond))
	if p := peak.Load(); p > walPeak {
		t.Errorf("WAL peaked at %d bytes during the writes, want at most %d", p, walPeak)
	}
	if idle > walIdle {
		t.Errorf("WAL is %d bytes %v after the writes stopped, want at most %d", idle, walSettle, walIdle)
	}
}

// walSize is the size of the database's write-ahead log, 0 if there is none.
func walSize(dbPath string) int64 {
	fi, err := os.Stat(dbPath + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}
