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
// coalesce into one model pass per window of cfg.Window: the first edit opens a window, queues a
// score-only user job at once (their candidates and matches get the deterministic score, no model
// call) and one user job for the window's end (a delayed message), which reads the profile as it is
// then, so the last edit wins, gives their top M the model part and opens the next window, clean;
// further edits in the window queue nothing. The first edit in a clean window does the same for its
// end. A refresh counts one call against the person's daily matching budget (and is refused with
// ErrMatchingBudget, 429, when none is left), and the pair job it queues is paid from that budget too.
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
		if err := r.sender.Send(ctx, UserJob(userID).Encode()); err != nil {
			return fmt.Errorf("enqueue rematch of %s: %w", userID, err)
		}
		return nil
	}
	if decision == store.RematchCoalesced {
		slog.DebugContext(ctx, "rematch coalesced", "user_id", userID, "until", until)
		return nil
	}
	if err := r.sender.Send(ctx, ScoreOnlyUserJob(userID).Encode()); err != nil {
		return fmt.Errorf("enqueue rematch of %s: %w", userID, err)
	}
	if err := r.delayed.SendAfter(ctx, max(until.Sub(now), 0), DirtyUserJob(userID).Encode()); err != nil {
		return fmt.Errorf("enqueue the rematch of %s at the window's end: %w", userID, err)
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
