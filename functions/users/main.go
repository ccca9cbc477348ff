// Command users is the Lambda function of the users routes behind the HTTP API: a person's own
// profile, shades, sync, export and erase, public profiles and blocks (docs/api.md; docs/api-users.md).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/usersapi"
	"github.com/secondme/twin/pkg/lambdahttp"
	"github.com/secondme/twin/pkg/rematch"
)

func main() {
	boot.Logger()
	if err := run(context.Background(), os.Getenv); err != nil {
		slog.Error("users function failed to start", "err", err)
		os.Exit(1)
	}
}

// run builds the clients once, from the environment, and serves the users routes: the store
// (TABLE_NAME), the compat queue for rematches (COMPAT_QUEUE_URL), the sign-in service of
// docs/auth.md, which checks login sessions and re-imports SecondMe profiles, and the public origin
// (boot.Edge: PUBLIC_URL and the edge secret).
func run(ctx context.Context, getenv func(string) string) error {
	st, err := boot.Store(ctx, getenv)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	q, err := boot.Queue(ctx, getenv)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	rematcher := rematch.NewRematcher(q)
	svc, err := boot.Auth(ctx, getenv, st, rematcher)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	edge, err := boot.Edge(ctx, getenv)
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	rt := api.NewRouter()
	rt.HandleFunc("GET /api/health", api.Health)
	usersapi.New(st, svc, rematcher, svc).Register(rt)
	lambdahttp.Start(api.Wrap(rt, edge))
	return nil
}
