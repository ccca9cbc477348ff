// Package queue is the job queue contract. Producers send opaque JSON job bodies; a consumer handles
// them one at a time. Delivery is at least once, so every Handler must be idempotent. The deployed
// implementation is sqsqueue (Amazon SQS, with a dead-letter queue after 5 receives); the local stack
// uses memqueue (in process, with the same retry and dead-letter behaviour).
package queue

import "context"

// Sender enqueues jobs.
type Sender interface {
	// Send enqueues each body as one job. It returns nil only when every body was accepted; on an
	// error some bodies may have been accepted, so callers retry with idempotent jobs. A queue that
	// is full or closed returns an error at once rather than blocking.
	Send(ctx context.Context, bodies ...[]byte) error
}

// Handler runs one job. A nil error acknowledges the job; any error asks for a later retry, and a job
// that keeps failing ends in the dead-letter queue.
type Handler func(ctx context.Context, body []byte) error
