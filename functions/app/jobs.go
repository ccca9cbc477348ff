package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/secondme/twin/pkg/account"
	"github.com/secondme/twin/pkg/avatar"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/rematch"
)

// Jobs returns the handler of the job queue's messages (docs/architecture.md, "Jobs"): export and
// erase jobs go to the account jobs, avatar jobs to the avatar worker, the nightly's shard tasks to
// the nightly fan-out (rematch.Fanout, docs/scale.md), all others (pair, user) to the compat worker.
// Before each job it runs Refresh, so that a rotated model key reaches the worker.
// Without media storage, avatar jobs fail (and reach the dead-letter queue) while the others run.
func (a *App) Jobs(ctx context.Context) (func(ctx context.Context, body []byte) error, error) {
	w, err := a.Worker(ctx)
	if err != nil {
		return nil, err
	}
	av, avErr := a.AvatarWorker(ctx)
	if avErr != nil {
		a.deps.Logger.WarnContext(ctx, "avatar jobs cannot run", "err", avErr)
	}
	acc, accErr := a.Account(ctx)
	if accErr != nil {
		a.deps.Logger.WarnContext(ctx, "export and erase jobs cannot run", "err", accErr)
	}
	var fan *rematch.Fanout
	if q := a.nightlyQueue(); q != nil {
		if fan, err = a.Fanout(q); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, body []byte) error {
		a.Refresh(ctx)
		if rematch.IsShardTask(body) {
			if fan == nil {
				return errors.New("shard task: no queue to continue the night on")
			}
			t, err := rematch.DecodeShardTask(body)
			if err != nil {
				return err
			}
			st, err := fan.Shard(ctx, t)
			if err == nil && st.Finished {
				recordNightly(a.deps.Metrics, metrics.ResultOK)
			}
			return err
		}
		if account.IsJob(body) {
			if accErr != nil {
				return fmt.Errorf("account job: %w", accErr)
			}
			return acc.Handle(ctx, body)
		}
		if avatar.IsJob(body) {
			if avErr != nil {
				return fmt.Errorf("avatar job: %w", avErr)
			}
			return av.Handle(ctx, body)
		}
		return w.Handle(ctx, body)
	}, nil
}
