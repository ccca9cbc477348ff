package rematch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/store"
)

// DelayedSender enqueues job bodies now or after a delay (memqueue.Queue and sqsqueue.Queue).
type DelayedSender interface {
	Sender
	// SendAfter enqueues bodies to be delivered once delay has passed.
	SendAfter(ctx context.Context, delay time.Duration, bodies ...[]byte) error
}

// BoundStore is what a bounded Rematcher reads and writes: the coalescing window and the budgets.
type BoundStore interface {
	MarkRematch(ctx context.Context, userID string, now time.Time, window time.Duration) (store.RematchDecision, time.Time, error)
	ConsumeBudget(ctx context.Context, owner, name, day string, n, limit int) (int, error)
}

var _ BoundStore = store.Store(nil)

// ErrMatchingBudget is the refusal of a refresh once the person's daily matching budget is spent;
// RematchError gives it its Retry-After.
var ErrMatchingBudget = fault.New(fault.CodeRateLimited, "daily matching budget reached")

// NewBoundedRematcher returns a Rematcher that bounds what a person's rematches cost. Their edits
// coalesce: the first edit queues a user job at once and opens a window of cfg.Window; the first
// edit inside the window marks them dirty and queues one user job for the window's end (a delayed
// message), which reads the profile as it is then, so the last edit wins; further edits in the window
// queue nothing. A refresh counts one call against the person's daily matching budget (and is
// refused with ErrMatchingBudget, 429, when none is left), and the pair job it queues is paid from
// that budget too.
func NewBoundedRematcher(sender DelayedSender, st BoundStore, cfg BudgetConfig) *Rematcher {
	return &Rematcher{sender: sender, delayed: sender, bound: st, cfg: cfg.withDefaults()}
}

// rematchBounded coalesces a person's rematches through the store's window (see NewBoundedRematcher).
// When the store cannot say, the job is sent at once: an edit is never lost.
func (r *Rematcher) rematchBounded(ctx context.Context, userID string) error {
	now := r.cfg.Now()
	decision, until, err := r.bound.MarkRematch(ctx, userID, now, r.cfg.Window)
	if err != nil {
		slog.WarnContext(ctx, "rematch window unknown; queuing at once", "user_id", userID, "err", err)
		decision = store.RematchNow
	}
	switch decision {
	case store.RematchNow:
		err = r.sender.Send(ctx, UserJob(userID).Encode())
	case store.RematchAtWindowEnd:
		err = r.delayed.SendAfter(ctx, until.Sub(now), DirtyUserJob(userID).Encode())
	default:
		slog.DebugContext(ctx, "rematch coalesced", "user_id", userID, "until", until)
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue rematch of %s: %w", userID, err)
	}
	return nil
}

// refreshBounded charges a refresh to the caller's matching budget, then queues the pair job, paid
// from the same budget.
func (r *Rematcher) refreshBounded(ctx context.Context, me, other string) error {
	now := r.cfg.Now()
	_, err := r.bound.ConsumeBudget(ctx, me, BudgetMatch, day(now), 1, r.cfg.PersonCalls)
	if errors.Is(err, store.ErrQuotaExceeded) {
		return &fault.Error{Code: ErrMatchingBudget.Code, Message: ErrMatchingBudget.Message, RetryAfter: untilMidnight(now)}
	}
	if err != nil {
		return fmt.Errorf("refresh %s/%s: %w", me, other, err)
	}
	if err := r.sender.Send(ctx, PairJobBy(me, other, me).Encode()); err != nil {
		return fmt.Errorf("enqueue refresh of %s/%s: %w", me, other, err)
	}
	return nil
}
