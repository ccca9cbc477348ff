package memqueue

import (
	"context"
	"errors"
	"sync"
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
	closeNow(t, q) // waits for the delayed job too
	mu.Lock()
	defer mu.Unlock()
	if at, ok := handled["later"]; !ok || at.Sub(start) < delay {
		t.Errorf("delayed job handled %v after the send (ok %v), want at least %v", at.Sub(start), ok, delay)
	}
	if _, ok := handled["now"]; !ok {
		t.Error("job sent with no delay was not handled")
	}
}

func TestSendAfterHoldsSlotsAndStopsOnClose(t *testing.T) {
	t.Parallel()
	q := New(func(ctx context.Context, body []byte) error { return nil }, Config{Workers: 1, Capacity: 2})
	if err := q.SendAfter(context.Background(), time.Hour, []byte("a"), []byte("b")); err != nil {
		t.Fatalf("SendAfter: %v", err)
	}
	if err := q.Send(context.Background(), []byte("c")); !errors.Is(err, ErrFull) {
		t.Errorf("Send with every slot held by delayed jobs = %v, want ErrFull", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := q.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close with jobs delayed an hour = %v, want the context's deadline", err)
	}
	if err := q.SendAfter(context.Background(), time.Second, []byte("d")); !errors.Is(err, ErrClosed) {
		t.Errorf("SendAfter after Close = %v, want ErrClosed", err)
	}
}
