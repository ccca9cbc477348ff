package sqlitestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// stressLimit is how long a stress test may take before the watchdog ends the test binary with every
// goroutine's stack: a deadlock then fails in seconds with the evidence, not at go test's timeout.
const stressLimit = 20 * time.Second

// watchdog panics with a dump of every goroutine unless the returned stop is called within limit.
func watchdog(tb testing.TB, limit time.Duration) (stop func()) {
	tb.Helper()
	name := tb.Name()
	t := time.AfterFunc(limit, func() {
		var buf bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&buf, 2)
		panic(fmt.Sprintf("%s: still running after %v (a deadlock?); goroutines:\n%s", name, limit, buf.String()))
	})
	return func() { t.Stop() }
}

// stressFixture is a small world of people, sessions and messages, so that concurrent calls collide
// on the same rows.
type stressFixture struct {
	users    []string
	sessions []string
	messages []string // message ids, reused: puts of the same id conflict
	clients  []string // client message ids, reused
}

func newStressFixture() stressFixture {
	var f stressFixture
	for range 6 {
		f.users = append(f.users, id.New())
	}
	for range 8 {
		f.sessions = append(f.sessions, id.New())
	}
	for range 16 {
		f.messages = append(f.messages, id.New())
	}
	for i := range 8 {
		f.clients = append(f.clients, "c"+strconv.Itoa(i))
	}
	return f
}

// stressOp is one store call, named for the failure messages.
type stressOp struct {
	name string
	call func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error
}

func pick[T any](rnd *rand.Rand, items []T) T { return items[rnd.IntN(len(items))] }

// stressOps calls every write method (and the reads beside them) on rows that collide.
var stressOps = []stressOp{
	{"CreateUser", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		return s.CreateUser(ctx, store.User{ID: pick(rnd, f.users), Nickname: "n", Discoverable: true,
			CreatedAt: time.Now(), UpdatedAt: time.Now()})
	}},
	{"UpdateUser", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		u, err := s.GetUser(ctx, pick(rnd, f.users))
		if err != nil {
			return err
		}
		u.Bio = strconv.Itoa(rnd.Int())
		u.Shades = []store.Shade{{ID: "s", Name: "n", Topics: []string{"go"}}}
		_, err = s.UpdateUser(ctx, u)
		return err
	}},
	{"EraseUser", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		return s.EraseUser(ctx, pick(rnd, f.users))
	}},
	{"CreateIdentity", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		u := pick(rnd, f.users)
		return s.CreateIdentity(ctx, store.Identity{Provider: store.ProviderOIDC, Subject: u, UserID: u,
			CreatedAt: time.Now(), UpdatedAt: time.Now()})
	}},
	{"PutIdentity", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		u := pick(rnd, f.users)
		return s.PutIdentity(ctx, store.Identity{Provider: store.ProviderOIDC, Subject: u, UserID: u,
			SealedTokens: []byte("x"), UpdatedAt: time.Now()})
	}},
	{"LoginSessions", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		u, hash := pick(rnd, f.users), "h"+strconv.Itoa(rnd.IntN(8))
		var err error
		switch rnd.IntN(4) {
		case 0:
			err = s.CreateLoginSession(ctx, store.LoginSession{TokenHash: hash, UserID: u, CreatedAt: time.Now(),
				ExpiresAt: time.Now().Add(time.Hour)})
		case 1:
			err = s.RenewLoginSession(ctx, hash, time.Now().Add(2*time.Hour))
		case 2:
			err = s.DeleteLoginSession(ctx, hash)
		default:
			err = s.DeleteUserLoginSessions(ctx, u)
		}
		if err == nil {
			_, err = s.GetLoginSession(ctx, hash)
		}
		return err
	}},
	{"ClaimEvent", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		return s.ClaimEvent(ctx, "e"+strconv.Itoa(rnd.IntN(16)), time.Now().Add(time.Duration(rnd.IntN(3))*time.Millisecond))
	}},
	{"CreateSession", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		return s.CreateSession(ctx, store.ChatSession{ID: pick(rnd, f.sessions), OwnerID: pick(rnd, f.users),
			TwinID: pick(rnd, f.users), Title: "t", CreatedAt: time.Now(), UpdatedAt: time.Now()})
	}},
	{"DeleteSession", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		return s.DeleteSession(ctx, pick(rnd, f.sessions))
	}},
	{"PutMessage", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		_, err := s.PutMessage(ctx, store.ChatMessage{ID: pick(rnd, f.messages), SessionID: pick(rnd, f.sessions),
			Role: store.RoleUser, Content: "hi", ClientMessageID: pick(rnd, f.clients), CreatedAt: time.Now()})
		return err
	}},
	{"StartTurn", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		_, err := s.StartTurn(ctx, store.ChatMessage{ID: pick(rnd, f.messages), SessionID: pick(rnd, f.sessions),
			Role: store.RoleUser, Content: "hi", ClientMessageID: pick(rnd, f.clients), CreatedAt: time.Now()},
			pick(rnd, f.clients), time.Duration(rnd.IntN(3))*time.Millisecond,
			store.Charge{UserID: pick(rnd, f.users), Day: "2026-11-25", Limit: rnd.IntN(200)})
		return err
	}},
	{"ReleaseTurn", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		return s.ReleaseTurn(ctx, pick(rnd, f.sessions), pick(rnd, f.messages), pick(rnd, f.clients))
	}},
	{"CompleteTurn", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		reply := store.ChatMessage{ID: pick(rnd, f.messages), SessionID: pick(rnd, f.sessions), Role: store.RoleAssistant,
			Content: "hello", ReplyTo: pick(rnd, f.messages), CreatedAt: time.Now()}
		return s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: "hello", AddMessages: 2, UpdatedAt: time.Now(),
			Summary: "sum", SummarizedThrough: reply.ID})
	}},
	{"ConsumeQuota", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		_, err := s.ConsumeQuota(ctx, pick(rnd, f.users), "2026-01-0"+strconv.Itoa(rnd.IntN(2)+1), 3)
		return err
	}},
	{"PutMatch", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		a, b := pick(rnd, f.users), pick(rnd, f.users)
		if a == b {
			return nil
		}
		return s.PutMatch(ctx, store.Match{A: min(a, b), B: max(a, b), Score: rnd.IntN(101), Highlights: []string{"h"},
			Transcript: []store.TranscriptLine{{Speaker: a, Text: "hi"}}, ComputedAt: time.Now()})
	}},
	{"DeleteMatch", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		return s.DeleteMatch(ctx, pick(rnd, f.users), pick(rnd, f.users))
	}},
	{"Blocks", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		a, b := pick(rnd, f.users), pick(rnd, f.users)
		if rnd.IntN(2) == 0 {
			return s.PutBlock(ctx, store.Block{BlockerID: a, BlockedID: b, CreatedAt: time.Now()})
		}
		return s.DeleteBlock(ctx, a, b)
	}},
	{"SetUserTerms", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		return s.SetUserTerms(ctx, pick(rnd, f.users), []string{"go", "t" + strconv.Itoa(rnd.IntN(4))})
	}},
	{"PutJobState", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		return s.PutJobState(ctx, store.JobState{Name: "j" + strconv.Itoa(rnd.IntN(2)), LastRun: time.Now(), UpdatedAt: time.Now()})
	}},
	{"Reads", func(ctx context.Context, s *Store, f stressFixture, rnd *rand.Rand) error {
		u, sess := pick(rnd, f.users), pick(rnd, f.sessions)
		var err error
		switch rnd.IntN(10) {
		case 0:
			_, err = s.LoadConversation(ctx, sess, 10)
		case 1:
			_, err = s.ListMessages(ctx, sess, "", 5)
		case 2:
			_, err = s.ListSessions(ctx, u, "", 5)
		case 3:
			_, err = s.ListMatches(ctx, u, "", 5)
		case 4:
			_, err = s.UsersWithTerm(ctx, "go", "", 10)
		case 5:
			_, err = s.ChangedUsers(ctx, time.Time{}, "", 3)
		case 6:
			_, err = s.Blocked(ctx, u, pick(rnd, f.users))
		case 7:
			_, err = s.GetUsers(ctx, f.users)
		case 8:
			_, err = s.ListIdentities(ctx, u)
		default:
			err = s.Dump(ctx, io.Discard)
		}
		return err
	}},
}

// stressWork runs ops from workers goroutines until the deadline. A quarter of the calls get a context
// that is cancelled before or while they run; those may fail in any way, the others only with the
// store's sentinels. It returns the number of calls made and the longest one.
func stressWork(t *testing.T, s *Store, f stressFixture, workers int, until time.Time) (calls int64, longest time.Duration) {
	t.Helper()
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for w := range workers {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			var n int64
			var slowest time.Duration
			for time.Now().Before(until) {
				op := pick(rnd, stressOps)
				ctx, cancel := context.WithCancel(context.Background())
				cancelled := false
				switch rnd.IntN(8) {
				case 0:
					cancel()
					cancelled = true
				case 1:
					time.AfterFunc(time.Duration(rnd.IntN(300))*time.Microsecond, cancel)
					cancelled = true
				}
				began := time.Now()
				err := op.call(ctx, s, f, rnd)
				slowest = max(slowest, time.Since(began))
				cancel()
				n++
				if err == nil || cancelled || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) ||
					errors.Is(err, store.ErrQuotaExceeded) {
					continue
				}
				t.Errorf("%s with a live context: %v", op.name, err)
			}
			mu.Lock()
			calls += n
			longest = max(longest, slowest)
			mu.Unlock()
		})
	}
	wg.Wait()
	return calls, longest
}

// TestStressConcurrentWrites hammers every write method from many goroutines, with contexts cancelled
// before and during calls, then checks that the store still works and kept its invariants.
func TestStressConcurrentWrites(t *testing.T) {
	defer watchdog(t, stressLimit)()
	ctx := context.Background()
	s := openTemp(t, filepath.Join(t.TempDir(), "twin.db"))
	f := newStressFixture()
	start := time.Now()
	calls, longest := stressWork(t, s, f, 32, start.Add(2*time.Second))
	t.Logf("%d calls in %v, the longest %v", calls, time.Since(start).Round(time.Millisecond), longest.Round(time.Millisecond))

	// The writer and the readers are free again: a write and a read in a row succeed at once.
	u := store.User{ID: id.New(), Nickname: "after", CreatedAt: time.Now()}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser after the stress: %v", err)
	}
	if _, err := s.GetUser(ctx, u.ID); err != nil {
		t.Fatalf("GetUser after the stress: %v", err)
	}
	for _, uid := range f.users {
		for _, day := range []string{"2026-01-01", "2026-01-02"} {
			var count int
			err := s.r.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(count), 0) FROM quotas WHERE user_id = ? AND day = ?`,
				uid, day).Scan(&count)
			if err != nil || count > 3 {
				t.Errorf("quota of %s on %s = %d, %v; want at most 3", uid, day, count, err)
			}
		}
	}
	var twice int
	if err := s.r.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM chat_messages WHERE reply_to <> ''
		GROUP BY session_id, reply_to HAVING COUNT(*) > 1)`).Scan(&twice); err != nil || twice != 0 {
		t.Errorf("messages with more than one reply = %d, %v; want 0", twice, err)
	}
	var orphans int
	if err := s.r.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM chat_messages
		WHERE session_id NOT IN (SELECT id FROM chat_sessions)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Errorf("messages without a session = %d, %v; want 0", orphans, err)
	}
}

// TestStressCloseInFlight closes the store while calls are running: Close returns, and every call
// returns (with an error once the store is closed) instead of waiting forever.
func TestStressCloseInFlight(t *testing.T) {
	defer watchdog(t, stressLimit)()
	for round := range 10 {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "twin.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		f := newStressFixture()
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range 16 {
			wg.Go(func() {
				rnd := rand.New(rand.NewPCG(uint64(w), uint64(round)))
				for {
					select {
					case <-stop:
						return
					default:
					}
					pick(rnd, stressOps).call(context.Background(), s, f, rnd) // errors once closed
				}
			})
		}
		time.Sleep(time.Duration(20+10*round) * time.Millisecond)
		s.Close()
		close(stop)
		wg.Wait()
		if err := s.CreateUser(context.Background(), store.User{ID: id.New()}); err == nil {
			t.Errorf("round %d: CreateUser after Close succeeded", round)
		}
	}
}

// TestPanicInTransactionFreesWriter: a transaction that panics is rolled back, so that the writer's
// only connection goes back to the pool and the next write does not wait for it forever.
func TestPanicInTransactionFreesWriter(t *testing.T) {
	defer watchdog(t, stressLimit)()
	s := openTemp(t, filepath.Join(t.TempDir(), "twin.db"))
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the transaction did not panic")
			}
		}()
		s.w.tx(context.Background(), func(t *txn) error {
			if _, err := t.exec(`INSERT INTO job_states (name, last_run, cursor, updated_at) VALUES ('j', 0, '', 0)`); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.PutJobState(ctx, store.JobState{Name: "k"}); err != nil {
		t.Fatalf("PutJobState after a panicking transaction: %v", err)
	}
	if _, err := s.GetJobState(ctx, "j"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetJobState of the panicking transaction's row = %v, want ErrNotFound (rolled back)", err)
	}
}
