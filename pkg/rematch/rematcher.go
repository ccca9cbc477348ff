package rematch

import (
	"context"
	"fmt"
)

// Rematcher enqueues rematches: the hook that sign-in, sync and shade edits call, and the refresh of
// one pair.
type Rematcher struct {
	sender Sender
}

// NewRematcher returns a Rematcher that sends jobs through sender (the compat queue).
func NewRematcher(sender Sender) *Rematcher { return &Rematcher{sender: sender} }

// Rematch enqueues a user job for userID: its index terms, candidates and matches are brought up to
// date in the background. It returns once the job is queued.
func (r *Rematcher) Rematch(ctx context.Context, userID string) error {
	if err := r.sender.Send(ctx, UserJob(userID).Encode()); err != nil {
		return fmt.Errorf("enqueue rematch of %s: %w", userID, err)
	}
	return nil
}

// Refresh enqueues the pair job of a and b.
func (r *Rematcher) Refresh(ctx context.Context, a, b string) error {
	if err := r.sender.Send(ctx, PairJob(a, b).Encode()); err != nil {
		return fmt.Errorf("enqueue refresh of %s/%s: %w", a, b, err)
	}
	return nil
}
