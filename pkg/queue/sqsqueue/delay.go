package sqsqueue

import (
	"context"
	"fmt"
	"time"
)

// MaxDelay is the longest delay SQS gives a message (DelaySeconds 900).
const MaxDelay = 15 * time.Minute

// SendAfter sends the bodies like Send, each delivered once delay has passed (DelaySeconds, rounded
// up to the second). A delay beyond MaxDelay is an error and sends nothing.
func (q *Queue) SendAfter(ctx context.Context, delay time.Duration, bodies ...[]byte) error {
	if delay > MaxDelay {
		return fmt.Errorf("sqsqueue: delay %v is beyond the %v SQS allows", delay, MaxDelay)
	}
	secs := int32((max(delay, 0) + time.Second - 1) / time.Second)
	return q.send(ctx, secs, bodies)
}
