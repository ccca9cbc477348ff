package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secondme/twin/pkg/queue"
)

// margin is the time kept at the end of an invocation to answer before Lambda's deadline: a job still
// running then is cancelled and reported as failed.
const margin = 3 * time.Second

// BatchHandler turns an SQS batch into jobs for Handle and reports the messages that failed, so that
// only those are received again (ReportBatchItemFailures) and a poison message reaches the
// dead-letter queue alone after its 5 receives. Identical bodies in one batch run once.
type BatchHandler struct {
	Handle func(ctx context.Context, body []byte) error
	// Workers bounds the jobs run at once.
	Workers int
	// Logger logs failed jobs and each batch's figures.
	Logger *slog.Logger
}

// HandleBatch runs the batch's jobs, at most Workers at a time, and returns the ids of the messages whose
// job failed. It never returns an error: that would fail the whole batch.
func (h BatchHandler) HandleBatch(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-margin))
		defer cancel()
	}
	// Group message ids by body: a job redelivered within one batch is done once.
	var bodies []string
	ids := make(map[string][]string)
	for _, r := range ev.Records {
		if _, ok := ids[r.Body]; !ok {
			bodies = append(bodies, r.Body)
		}
		ids[r.Body] = append(ids[r.Body], r.MessageId)
	}
	failed := make([]bool, len(bodies))
	sem := make(chan struct{}, max(1, h.Workers))
	var wg sync.WaitGroup
	for i, body := range bodies {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := h.run(ctx, []byte(body)); err != nil {
				failed[i] = true
				h.Logger.ErrorContext(ctx, "compat job failed", "message_ids", ids[body], "permanent", errors.Is(err, queue.ErrBadJob), "err", err)
			}
		}()
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, body := range bodies {
		if failed[i] {
			for _, id := range ids[body] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
			}
		}
	}
	h.Logger.InfoContext(ctx, "compat batch done", "messages", len(ev.Records), "jobs", len(bodies), "failed", len(resp.BatchItemFailures))
	return resp, nil
}

// run runs one job, unless the invocation is out of time; a panic fails the job, not the batch.
func (h BatchHandler) run(ctx context.Context, body []byte) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			err = errors.New("panic in compat job")
			h.Logger.ErrorContext(ctx, "panic in compat job", "cause", v)
		}
	}()
	return h.Handle(ctx, body)
}
