// Command auth is the Lambda function of the sign-in routes: GET /api/auth/login, GET
// /api/auth/callback, POST /api/auth/logout, POST /api/webhooks/secondme and GET /api/health.
// Its configuration is in docs/auth.md.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/authapi"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/lambdahttp"
	"github.com/secondme/twin/pkg/rematch"
)

func main() {
	boot.Logger()
	if err := run(context.Background(), os.Getenv); err != nil {
		slog.Error("auth function failed to start", "err", err)
		os.Exit(1)
	}
}

// run builds the clients once, from the environment, and serves the auth routes behind the public
// origin (boot.Edge: PUBLIC_URL and the edge secret).
func run(ctx context.Context, getenv func(string) string) error {
	st, err := boot.Store(ctx, getenv)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var rm auth.Rematcher
	if getenv("COMPAT_QUEUE_URL") != "" {
		q, err := boot.Queue(ctx, getenv)
		if err != nil {
			return fmt.Errorf("queue: %w", err)
		}
		rm = rematch.NewRematcher(q)
	} else {
		slog.Warn("COMPAT_QUEUE_URL is not set: sign-in will not schedule rematches")
	}
	svc, wh, err := boot.AuthWithWebhook(ctx, getenv, st, rm)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	edge, err := boot.Edge(ctx, getenv)
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	rt := api.NewRouter()
	rt.HandleFunc("GET /api/health", api.Health)
	authapi.New(svc, wh).Register(rt)
	lambdahttp.Start(api.Wrap(rt, edge, authapi.WebhookPath))
	return nil
}
