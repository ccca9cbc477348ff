package rematch

import (
	"context"
	"fmt"
)

// Rematcher enqueues rematches: the hook that sign-in, sync and shade edits call, and the refresh of
// one pair. NewRematcher's sends every job; NewBoundedRematcher's (coalesce.go) coalesces a person's
// edits and charges refreshes to their matching budget.
type Rematcher struct {
	sender Sender
	// delayed, bound and cfg are set by NewBoundedRematcher.
	delayed DelayedSender
	bound   BoundStore
	cfg     BudgetConfig
}

// NewRematcher returns a Rematcher that sends jobs through sender (the compat queue), one per call.
func NewRematcher(sender Sender) *Rematcher { return &Rematcher{sender: sender} }

// Rematch enqueues a user job for userID: its index terms, candidates and matches are brought up to
// date in the background. It returns once the job is queued, or coalesced into one already queued.
func (r *Rematcher) Rematch(ctx context.Context, userID string) error {
	if r.bound != nil {
		return r.rematchBounded(ctx, userID)
	}
	if err := r.sender.Send(ctx, UserJob(userID).Encode()); err != nil {
		return fmt.Errorf("enqueue rematch of %s: %w", userID, err)
	}
	return nil
}

// Refresh enqueues the pair job of a and b, asked for by a. A bounded Rematcher refuses it with a
// rate_limited *fault.Error (ErrMatchingBudget, with RetryAfter) once a's matching budget is spent.
func (r *Rematcher) Refresh(ctx context.Context, a, b string) error {
	if r.bound != nil {
		return r.refreshBounded(ctx, a, b)
	}
	if err := r.sender.Send(ctx, PairJob(a, b).Encode()); err != nil {
		return fmt.Errorf("enqueue refresh of %s/%s: %w", a, b, err)
	}
	return nil
}
