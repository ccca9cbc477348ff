package memqueue

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSendAfterHandlesOnceTheDelayPassed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	handled := map[string]time.Time{}
	q := New(func(ctx context.Context, body []byte) error {
		mu.Lock()
		defer mu.Unlock()
		handled[string(body)] = time.Now()
		return nil
	}, fast)
	start := time.Now()
	const delay = 50 * time.Millisecond
	if err := q.SendAfter(context.Background(), delay, []byte("later")); err != nil {
		t.Fatalf("SendAfter: %v", err)
	}
	if err := q.SendAfter(context.Background(), 0, []byte("now")); err != nil {
		t.Fatalf("SendAfter 0: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		_, done := handled["later"]
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
	}
	closeNow(t, q)
	mu.Lock()
	defer mu.Unlock()
	if at, ok := handled["later"]; !ok || at.Sub(start) < delay {
		t.Errorf("delayed job handled %v after the send (ok %v), want at least %v", at.Sub(start), ok, delay)
	}
	if _, ok := handled["now"]; !ok {
		t.Error("job sent with no delay was not handled")
	}
}

func TestSendAfterHoldsSlotsAndRunsOnClose(t *testing.T) {
	t.Parallel()
	var handled atomic.Int32
	q := New(func(ctx context.Context, body []byte) error { handled.Add(1); return nil }, Config{Workers: 1, Capacity: 2})
	if err := q.SendAfter(context.Background(), time.Hour, []byte("a"), []byte("b")); err != nil {
		t.Fatalf("SendAfter: %v", err)
	}
	if err := q.Send(context.Background(), []byte("c")); !errors.Is(err, ErrFull) {
		t.Errorf("Send with every slot held by delayed jobs = %v, want ErrFull", err)
	}
	// Closing waits for no delay: the jobs delayed an hour run now, before Close returns.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := q.Close(ctx); err != nil || handled.Load() != 2 {
		t.Errorf("Close with jobs delayed an hour = %v after %v, %d handled; want nil and both", err, time.Since(start), handled.Load())
	}
	if err := q.SendAfter(context.Background(), time.Second, []byte("d")); !errors.Is(err, ErrClosed) {
		t.Errorf("SendAfter after Close = %v, want ErrClosed", err)
	}
}

// TestCloseLosesNoDelayedJob closes queues while their delays run out: a timer that fires as Close
// runs must still deliver its job, and Close must see every job finish.
func TestCloseLosesNoDelayedJob(t *testing.T) {
	t.Parallel()
	for round := range 200 {
		var handled atomic.Int32
		q := New(func(ctx context.Context, body []byte) error { handled.Add(1); return nil }, Config{Workers: 2, Capacity: 16})
		for i := range 8 {
			if err := q.SendAfter(context.Background(), time.Duration(i)*100*time.Microsecond, []byte("job")); err != nil {
				t.Fatalf("SendAfter: %v", err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := q.Close(ctx)
		cancel()
		if err != nil || handled.Load() != 8 {
			t.Fatalf("round %d: Close = %v with %d of 8 jobs handled", round, err, handled.Load())
		}
	}
}
