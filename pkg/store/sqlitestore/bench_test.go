package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// BenchmarkChatTurn runs the store calls of a chat turn (load the conversation with the twin's person,
// save the user message with its claim and quota, complete the turn) from 1 and 32 concurrent clients,
// each in its own session, and reports the median and 99th percentile of a whole turn and the CPU time.
func BenchmarkChatTurn(b *testing.B) {
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchTurns(b, clients) })
	}
}

func benchTurns(b *testing.B, clients int) {
	ctx := context.Background()
	s := openTemp(b, filepath.Join(b.TempDir(), "bench.db"))
	sessions := make([]store.ChatSession, clients)
	for i := range sessions {
		owner := store.User{ID: id.New(), Nickname: "bench"}
		if err := s.CreateUser(ctx, owner); err != nil {
			b.Fatal(err)
		}
		sessions[i] = store.ChatSession{ID: id.New(), OwnerID: owner.ID, TwinID: owner.ID, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := s.CreateSession(ctx, sessions[i]); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	durations := make([][]time.Duration, clients)
	cpu0 := cpuTime(b)
	b.ResetTimer()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			sess := sessions[c]
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				start := time.Now()
				if err := turn(ctx, s, sess, int(n)); err != nil {
					b.Error(err)
					return
				}
				durations[c] = append(durations[c], time.Since(start))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	all := slices.Concat(durations...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// cpuTime is the CPU time the process has used, which other processes on the machine do not inflate.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func turn(ctx context.Context, s *Store, sess store.ChatSession, n int) error {
	if _, err := s.LoadConversation(ctx, sess.ID, 20); err != nil {
		return err
	}
	now := time.Now()
	user := store.ChatMessage{ID: id.New(), SessionID: sess.ID, Role: store.RoleUser, Content: "hello there",
		ClientMessageID: fmt.Sprint("c", n), CreatedAt: now}
	if _, err := s.StartTurn(ctx, user, user.ID, time.Minute, store.Charge{UserID: sess.OwnerID, Day: "2026-11-25", Limit: 1 << 30}); err != nil {
		return err
	}
	reply := store.ChatMessage{ID: id.New(), SessionID: sess.ID, Role: store.RoleAssistant, Content: "general kenobi",
		ReplyTo: user.ID, Model: "offline", CreatedAt: now}
	return s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: reply.Content, AddMessages: 2, UpdatedAt: now})
}
