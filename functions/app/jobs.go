package app

import (
	"context"
	"fmt"

	"github.com/secondme/twin/pkg/account"
	"github.com/secondme/twin/pkg/avatar"
)

// Jobs returns the handler of the job queue's messages (docs/architecture.md, "Jobs"): export and
// erase jobs go to the account jobs, avatar jobs to the avatar worker, all others (pair, user) to the
// compat worker. Before each job it runs Refresh, so that a rotated model key reaches the worker.
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
	return func(ctx context.Context, body []byte) error {
		a.Refresh(ctx)
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
