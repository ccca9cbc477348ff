package memqueue

import (
	"context"
	"fmt"
	"time"
)

// SendAfter enqueues the bodies to be handled once delay has passed, all or none, like Send (SQS's
// DelaySeconds). They hold their slots while they wait; Close runs them at once and waits for them.
func (q *Queue) SendAfter(ctx context.Context, delay time.Duration, bodies ...[]byte) error {
	if delay <= 0 {
		return q.Send(ctx, bodies...)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memqueue: send: %w", err)
	}
	jobs := make([]*job, len(bodies))
	for i, b := range bodies {
		jobs[i] = &job{body: append([]byte(nil), b...)}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	if q.pending+len(bodies) > q.cfg.Capacity {
		return fmt.Errorf("send %d jobs with %d of %d slots taken: %w", len(bodies), q.pending, q.cfg.Capacity, ErrFull)
	}
	q.pending += len(bodies)
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if _, ok := q.timers[t]; !ok {
			return // stopped by Close
		}
		delete(q.timers, t)
		for _, j := range jobs {
			q.jobs <- j // never blocks: each job holds its slot
		}
	})
	q.timers[t] = jobs
	return nil
}
