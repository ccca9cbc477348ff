package main

import (
	"context"
	"errors"
	"time"

	"github.com/secondme/twin/pkg/queue/memqueue"
)

// patientSender waits for room when the in-process queue is full, as SQS never is: the nightly run
// may send more jobs than the queue holds at once. (The worker's own fan-out must not wait: it runs
// on the queue's workers, so it fails instead and its job is retried.)
type patientSender struct{ q *memqueue.Queue }

func (p patientSender) Send(ctx context.Context, bodies ...[]byte) error {
	for {
		err := p.q.Send(ctx, bodies...)
		if !errors.Is(err, memqueue.ErrFull) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fanoutSender is where the worker sends the pair jobs of a user job: the queue, or, once the queue
// is closing (the stack shuts down), the worker itself, so that the drain finishes the work instead
// of losing it.
type fanoutSender struct {
	q      *memqueue.Queue
	handle func(ctx context.Context, body []byte) error
}

func (f *fanoutSender) Send(ctx context.Context, bodies ...[]byte) error {
	err := f.q.Send(ctx, bodies...)
	if !errors.Is(err, memqueue.ErrClosed) {
		return err
	}
	return inlineSender(f.handle).Send(ctx, bodies...)
}

// SendAfter delays the jobs on the queue (the rematch of a coalescing window's end); once the queue
// is closed they run at once, like Send's.
func (f *fanoutSender) SendAfter(ctx context.Context, delay time.Duration, bodies ...[]byte) error {
	err := f.q.SendAfter(ctx, delay, bodies...)
	if !errors.Is(err, memqueue.ErrClosed) {
		return err
	}
	return inlineSender(f.handle).Send(ctx, bodies...)
}

// inlineSender runs each job at once instead of queueing it.
type inlineSender func(ctx context.Context, body []byte) error

func (h inlineSender) Send(ctx context.Context, bodies ...[]byte) error {
	var errs []error
	for _, b := range bodies {
		errs = append(errs, h(ctx, b))
	}
	return errors.Join(errs...)
}
