// Package memqueue is an in-process job queue for the local stack: bounded, served by a pool of
// workers, with retries and exponential backoff, and a dead-letter list for jobs that keep failing.
package memqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/secondme/twin/pkg/queue"
)

// ErrFull is returned by Send when the queue has no room for every body sent.
var ErrFull = errors.New("memqueue: queue is full")

// ErrClosed is returned by Send once Close has been called.
var ErrClosed = errors.New("memqueue: queue is closed")

// Config sizes a queue. Zero fields take their defaults.
type Config struct {
	// Workers is the number of jobs handled at once (default 4).
	Workers int
	// Capacity is the number of jobs the queue holds, counting those in flight and those waiting
	// for a retry (default 1024).
	Capacity int
	// MaxAttempts is how many times a job is tried before it goes to the dead-letter list (default 5,
	// like the SQS redrive policy).
	MaxAttempts int
	// Backoff is the wait before the first retry (default 100ms); it doubles on each further retry.
	Backoff time.Duration
	// MaxBackoff caps the wait between retries (default 5s).
	MaxBackoff time.Duration
}

func (c Config) withDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Capacity <= 0 {
		c.Capacity = 1024
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.Backoff <= 0 {
		c.Backoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	return c
}

// backoff returns the wait before attempt number next (2 or more): Backoff doubled for each retry
// already made, capped at MaxBackoff.
func (c Config) backoff(next int) time.Duration {
	d := c.Backoff
	for i := 2; i < next && d < c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxBackoff)
}

// DeadLetter is a job that failed on every attempt.
type DeadLetter struct {
	Body     []byte
	Attempts int
	// Err is the error of the last attempt.
	Err string
	At  time.Time
}

type job struct {
	body     []byte
	attempts int
}

// Queue is an in-process job queue. It is safe for concurrent use.
type Queue struct {
	cfg    Config
	handle queue.Handler
	jobs   chan *job // buffered to Capacity; a job only enters it holding a reserved slot

	// ctx is the context of every handler call; Close cancels it when its own context expires.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	pending int  // jobs accepted and not yet finished: queued, in flight, or waiting for a retry
	closed  bool // no more Sends
	idle    chan struct{}
	timers  map[*time.Timer][]*job // jobs waiting for a delay or a retry, by the timer that sends them
	dead    []DeadLetter

	workers sync.WaitGroup
}

var _ queue.Sender = (*Queue)(nil)

// New starts a queue whose workers run h on each job.
func New(h queue.Handler, cfg Config) *Queue {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		cfg:    cfg,
		handle: h,
		jobs:   make(chan *job, cfg.Capacity),
		ctx:    ctx,
		cancel: cancel,
		timers: map[*time.Timer][]*job{},
	}
	q.workers.Add(cfg.Workers)
	for range cfg.Workers {
		go q.work()
	}
	return q
}

// Send enqueues the bodies, all or none: it returns ErrFull when the queue lacks room for all of them
// and ErrClosed after Close. It never blocks.
func (q *Queue) Send(ctx context.Context, bodies ...[]byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memqueue: send: %w", err)
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
	for _, b := range bodies {
		q.jobs <- &job{body: append([]byte(nil), b...)}
	}
	return nil
}

// DeadLetters returns a copy of the jobs that failed on every attempt, oldest first.
func (q *Queue) DeadLetters() []DeadLetter {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]DeadLetter(nil), q.dead...)
}

// Close stops accepting jobs and waits until every accepted job has finished, retries included. If
// ctx ends first, it cancels the jobs in flight, drops those still waiting and returns the context's
// error. Close is safe to call more than once.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	q.closed = true
	// Nothing more comes, so nothing waits for its time: delayed jobs and retries run now.
	// A timer that has fired already is left to its function, which sends its jobs once it has the lock.
	for t, jobs := range q.timers {
		if t.Stop() {
			for _, j := range jobs {
				q.jobs <- j // never blocks: each job holds its slot
			}
			delete(q.timers, t)
		}
	}
	if q.idle == nil {
		q.idle = make(chan struct{})
		if q.pending == 0 {
			close(q.idle)
		}
	}
	idle := q.idle
	q.mu.Unlock()

	var err error
	select {
	case <-idle:
	case <-ctx.Done():
		q.mu.Lock()
		err = fmt.Errorf("memqueue: close with %d jobs unfinished: %w", q.pending, ctx.Err())
		for t := range q.timers {
			t.Stop()
		}
		clear(q.timers)
		q.mu.Unlock()
	}
	q.cancel()
	q.workers.Wait()
	return err
}

func (q *Queue) work() {
	defer q.workers.Done()
	for {
		select {
		case <-q.ctx.Done():
			return
		case j := <-q.jobs:
			q.run(j)
		}
	}
}

// run makes one attempt at a job and then finishes it or schedules its retry.
func (q *Queue) run(j *job) {
	j.attempts++
	err := q.call(j.body)
	if err == nil {
		q.finish()
		return
	}
	if q.ctx.Err() != nil {
		return // Close gave up waiting; the job is dropped.
	}
	if j.attempts >= q.cfg.MaxAttempts {
		slog.ErrorContext(q.ctx, "job dead-lettered", "attempts", j.attempts, "err", err)
		q.mu.Lock()
		q.dead = append(q.dead, DeadLetter{Body: j.body, Attempts: j.attempts, Err: err.Error(), At: time.Now().UTC()})
		q.mu.Unlock()
		q.finish()
		return
	}
	wait := q.cfg.backoff(j.attempts + 1)
	slog.WarnContext(q.ctx, "job failed; will retry", "attempt", j.attempts, "retry_in", wait, "err", err)
	q.mu.Lock()
	defer q.mu.Unlock()
	var t *time.Timer
	t = time.AfterFunc(wait, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if _, ok := q.timers[t]; !ok {
			return // stopped by Close
		}
		delete(q.timers, t)
		q.jobs <- j // never blocks: the job still holds its slot
	})
	q.timers[t] = []*job{j}
}

// call runs the handler, turning a panic into an error.
func (q *Queue) call(body []byte) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("job panicked: %v", v)
		}
	}()
	return q.handle(q.ctx, body)
}

// finish releases the slot of a finished job.
func (q *Queue) finish() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending--
	if q.pending == 0 && q.idle != nil {
		select {
		case <-q.idle:
		default:
			close(q.idle)
		}
	}
}
