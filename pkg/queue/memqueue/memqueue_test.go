package memqueue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fast is a config whose retries take milliseconds.
var fast = Config{Workers: 2, Capacity: 8, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}

// recorder is a handler that counts attempts per body and fails the first failures[body] of them.
type recorder struct {
	mu       sync.Mutex
	failures map[string]int
	attempts map[string]int
	panics   bool
}

func (r *recorder) handle(ctx context.Context, body []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.attempts == nil {
		r.attempts = map[string]int{}
	}
	r.attempts[string(body)]++
	if r.attempts[string(body)] <= r.failures[string(body)] {
		if r.panics {
			panic("boom " + string(body))
		}
		return fmt.Errorf("attempt %d of %s failed", r.attempts[string(body)], body)
	}
	return nil
}

func closeNow(tb testing.TB, q *Queue) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		tb.Fatalf("Close: %v", err)
	}
}

func TestRetriesAndDeadLetters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cfg          Config
		failures     map[string]int
		panics       bool
		wantAttempts map[string]int
		wantDead     []string
	}{
		{
			name:         "every job succeeds at once",
			cfg:          fast,
			wantAttempts: map[string]int{"a": 1, "b": 1, "c": 1},
		},
		{
			name:         "a job succeeds on its third attempt",
			cfg:          fast,
			failures:     map[string]int{"b": 2},
			wantAttempts: map[string]int{"a": 1, "b": 3, "c": 1},
		},
		{
			name:         "a job failing every attempt is dead-lettered after the default 5",
			cfg:          fast,
			failures:     map[string]int{"c": 99},
			wantAttempts: map[string]int{"a": 1, "b": 1, "c": 5},
			wantDead:     []string{"c"},
		},
		{
			name:         "max attempts is configurable",
			cfg:          Config{Workers: 1, Capacity: 3, MaxAttempts: 2, Backoff: time.Millisecond},
			failures:     map[string]int{"a": 99, "b": 99},
			wantAttempts: map[string]int{"a": 2, "b": 2, "c": 1},
			wantDead:     []string{"a", "b"},
		},
		{
			name:         "a panicking job is retried like a failing one",
			cfg:          fast,
			failures:     map[string]int{"a": 1, "b": 99},
			panics:       true,
			wantAttempts: map[string]int{"a": 2, "b": 5, "c": 1},
			wantDead:     []string{"b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{failures: tt.failures, panics: tt.panics}
			q := New(rec.handle, tt.cfg)
			if err := q.Send(context.Background(), []byte("a"), []byte("b"), []byte("c")); err != nil {
				t.Fatalf("Send: %v", err)
			}
			closeNow(t, q)

			for body, want := range tt.wantAttempts {
				if got := rec.attempts[body]; got != want {
					t.Errorf("attempts of %s = %d, want %d", body, got, want)
				}
			}
			dead := q.DeadLetters()
			if len(dead) != len(tt.wantDead) {
				t.Fatalf("dead letters = %d, want %d (%v)", len(dead), len(tt.wantDead), dead)
			}
			got := map[string]DeadLetter{}
			for _, d := range dead {
				got[string(d.Body)] = d
			}
			for _, body := range tt.wantDead {
				d, ok := got[body]
				if !ok {
					t.Errorf("%s is not dead-lettered; dead letters: %v", body, dead)
					continue
				}
				if d.Attempts != tt.wantAttempts[body] || d.Err == "" || d.At.IsZero() {
					t.Errorf("dead letter %s = %+v, want %d attempts, an error and a time", body, d, tt.wantAttempts[body])
				}
			}
		})
	}
}

func TestSendRefusesWithoutBlocking(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	q := New(func(ctx context.Context, body []byte) error {
		<-release
		return nil
	}, Config{Workers: 1, Capacity: 3})

	ctx := context.Background()
	if err := q.Send(ctx, []byte("1"), []byte("2")); err != nil {
		t.Fatalf("Send within capacity: %v", err)
	}
	tests := []struct {
		name    string
		bodies  int
		wantErr error
	}{
		{name: "more than the free slots is refused whole", bodies: 2, wantErr: ErrFull},
		{name: "the last free slot is taken", bodies: 1},
		{name: "a full queue refuses one more", bodies: 1, wantErr: ErrFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bodies := make([][]byte, tt.bodies)
			for i := range bodies {
				bodies[i] = []byte("x")
			}
			if err := q.Send(ctx, bodies...); !errors.Is(err, tt.wantErr) {
				t.Errorf("Send(%d) = %v, want %v", tt.bodies, err, tt.wantErr)
			}
		})
	}
	close(release)
	closeNow(t, q)
	if err := q.Send(ctx, []byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want %v", err, ErrClosed)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	idle := New(func(context.Context, []byte) error { return nil }, Config{})
	if err := idle.Send(cancelled, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled context = %v, want %v", err, context.Canceled)
	}
	closeNow(t, idle)
}

func TestCloseDrainsInFlightWork(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	done := 0
	q := New(func(ctx context.Context, body []byte) error {
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		done++
		return nil
	}, Config{Workers: 2, Capacity: 10})
	for range 10 {
		if err := q.Send(context.Background(), []byte("job")); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	closeNow(t, q)
	if done != 10 {
		t.Errorf("jobs done after Close = %d, want 10", done)
	}
	closeNow(t, q) // a second Close is harmless
}

func TestCloseGivesUpWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	var cancelled bool
	q := New(func(ctx context.Context, body []byte) error {
		close(started)
		<-ctx.Done()
		cancelled = true
		return ctx.Err()
	}, Config{Workers: 1})
	if err := q.Send(context.Background(), []byte("stuck")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := q.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want %v", err, context.DeadlineExceeded)
	}
	if !cancelled {
		t.Error("the job in flight did not see its context cancelled")
	}
	if dead := q.DeadLetters(); len(dead) != 0 {
		t.Errorf("dead letters = %v, want none: a job cut short by Close is not a poison job", dead)
	}
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	t.Parallel()
	cfg := Config{Backoff: 100 * time.Millisecond, MaxBackoff: time.Second}.withDefaults()
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{2, 100 * time.Millisecond},
		{3, 200 * time.Millisecond},
		{4, 400 * time.Millisecond},
		{5, 800 * time.Millisecond},
		{6, time.Second},
		{60, time.Second},
	}
	for _, tt := range tests {
		if got := cfg.backoff(tt.attempt); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
}
