package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/secondme/twin/pkg/api/matchesapi"
	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/queue/memqueue"
	"github.com/secondme/twin/pkg/rematch"
)

// defaultNightlyInterval is how often the local stack runs the nightly rematch (NIGHTLY_INTERVAL).
const defaultNightlyInterval = 24 * time.Hour

// wireMatches adds the matches routes and provides the rematch hook (s.rematch), the compat worker as
// the queue's job handler (s.jobs) and the nightly rematch (s.nightly), which a ticker runs every
// NIGHTLY_INTERVAL in place of EventBridge. The model is the one chat uses (offline by default).
func wireMatches(ctx context.Context, s *stack) error {
	settings, err := rematch.SettingsFrom(s.getenv)
	if err != nil {
		return err
	}
	interval := defaultNightlyInterval
	if v := s.getenv("NIGHTLY_INTERVAL"); v != "" {
		if interval, err = time.ParseDuration(v); err != nil || interval <= 0 {
			return fmt.Errorf("NIGHTLY_INTERVAL=%q: want a positive duration such as 24h", v)
		}
	}
	cfg, err := llm.ConfigFrom(s.getenv)
	if err != nil {
		return err
	}
	model, err := llm.New(cfg, nil)
	if err != nil {
		return err
	}
	fanout := &fanoutSender{q: s.queue}
	worker := rematch.NewWorker(s.store, compat.New(model, compat.Config{Messages: settings.Messages, ModelWeight: settings.ModelWeight}), fanout, settings.Nightly.Config)
	fanout.handle = worker.Handle
	rematcher := rematch.NewRematcher(s.queue)
	s.jobs = worker.Handle
	s.rematch = rematcher
	// make rematch: one pass that computes every pair before it returns.
	s.nightly = func(ctx context.Context) error {
		_, err := rematch.NewNightly(s.store, inlineSender(worker.Handle), settings.Nightly).Run(ctx)
		return err
	}
	matchesapi.New(s.store, s.auth, rematcher).Register(s.router)
	nightly := rematch.NewNightly(s.store, patientSender{s.queue}, settings.Nightly)
	s.background(func(ctx context.Context) {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := nightly.Run(ctx); err != nil && ctx.Err() == nil {
					slog.ErrorContext(ctx, "nightly rematch failed", "err", err)
				}
			}
		}
	})
	slog.InfoContext(ctx, "matching ready", "provider", cfg.Provider, "nightly_interval", interval)
	return nil
}

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

// inlineSender runs each job at once instead of queueing it.
type inlineSender func(ctx context.Context, body []byte) error

func (h inlineSender) Send(ctx context.Context, bodies ...[]byte) error {
	var errs []error
	for _, b := range bodies {
		errs = append(errs, h(ctx, b))
	}
	return errors.Join(errs...)
}
