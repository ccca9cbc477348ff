// Package sqsqueue sends jobs to an Amazon SQS queue with SendMessageBatch, ten at a time, and
// resends the entries a partial batch failure reports as retryable.
package sqsqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/secondme/twin/pkg/queue"
)

// MaxBatch is the most entries SQS takes in one SendMessageBatch call.
const MaxBatch = 10

// API is the part of the SQS client a Queue uses.
type API interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ API = (*sqs.Client)(nil)

// Queue sends jobs to one SQS queue.
type Queue struct {
	api API
	url string
	// attempts is how many times an entry is sent before its failure is returned.
	attempts int
	// backoff is the wait before resending failed entries; it doubles on each further try.
	backoff time.Duration
}

var _ queue.Sender = (*Queue)(nil)

// New returns a Queue sending to the queue at url. A whole failed call is already retried by the
// SDK's retryer; Queue itself resends the entries of a partial failure, up to 3 tries in all.
func New(api API, url string) *Queue {
	return &Queue{api: api, url: url, attempts: 3, backoff: 50 * time.Millisecond}
}

// Send sends the bodies in batches of MaxBatch. An entry SQS rejects as the sender's fault (such as
// an oversized body) is not resent; the error names every entry that was not accepted.
func (q *Queue) Send(ctx context.Context, bodies ...[]byte) error {
	return q.send(ctx, 0, bodies)
}

// send sends the bodies in batches of MaxBatch, each message delayed by delay seconds.
func (q *Queue) send(ctx context.Context, delay int32, bodies [][]byte) error {
	var errs []error
	for start := 0; start < len(bodies); start += MaxBatch {
		end := min(start+MaxBatch, len(bodies))
		if err := q.sendBatch(ctx, start, delay, bodies[start:end]); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqsqueue: send %d jobs to %s: %w", len(bodies), q.url, err)
	}
	return nil
}

// sendBatch sends up to MaxBatch bodies whose first has index first in the Send call. Entry ids are
// those indexes, so errors name the jobs by position.
func (q *Queue) sendBatch(ctx context.Context, first int, delay int32, bodies [][]byte) error {
	entries := make([]types.SendMessageBatchRequestEntry, len(bodies))
	for i, b := range bodies {
		entries[i] = types.SendMessageBatchRequestEntry{
			Id:          aws.String(strconv.Itoa(first + i)),
			MessageBody: aws.String(string(b)),
		}
		if delay > 0 {
			entries[i].DelaySeconds = delay
		}
	}
	var refused []types.BatchResultErrorEntry
	wait := q.backoff
	for attempt := 1; ; attempt++ {
		out, err := q.api.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: entries})
		if err != nil {
			return fmt.Errorf("jobs %d-%d: %w", first, first+len(bodies)-1, err)
		}
		retry, gone := split(entries, out.Failed)
		refused = append(refused, gone...)
		if len(retry) > 0 && attempt >= q.attempts {
			return batchError(append(refused, out.Failed...))
		}
		if len(retry) == 0 {
			if len(refused) > 0 {
				return batchError(refused)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("resend %d jobs: %w", len(retry), ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
		entries = retry
	}
}

// split sorts the failed entries of a batch into those worth resending and those refused for good
// (the sender's fault, or an id that was not sent).
func split(sent []types.SendMessageBatchRequestEntry, failed []types.BatchResultErrorEntry) (retry []types.SendMessageBatchRequestEntry, refused []types.BatchResultErrorEntry) {
	byID := make(map[string]types.SendMessageBatchRequestEntry, len(sent))
	for _, e := range sent {
		byID[aws.ToString(e.Id)] = e
	}
	for _, f := range failed {
		e, ok := byID[aws.ToString(f.Id)]
		if f.SenderFault || !ok {
			refused = append(refused, f)
			continue
		}
		retry = append(retry, e)
	}
	return retry, refused
}

// batchError describes failed entries, deduplicated by id.
func batchError(failed []types.BatchResultErrorEntry) error {
	seen := map[string]bool{}
	var parts []string
	for _, f := range failed {
		id := aws.ToString(f.Id)
		if seen[id] {
			continue
		}
		seen[id] = true
		parts = append(parts, fmt.Sprintf("job %s: %s: %s", id, aws.ToString(f.Code), aws.ToString(f.Message)))
	}
	return errors.New(strings.Join(parts, "; "))
}
