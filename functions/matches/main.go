// Command matches is the Lambda function of the matches routes behind the HTTP API: the ranked list,
// one match with its evidence, and refresh (docs/api.md; docs/matching.md).
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/matchesapi"
	"github.com/secondme/twin/pkg/lambdahttp"
	"github.com/secondme/twin/pkg/rematch"
)

func main() {
	boot.Logger()
	if err := run(context.Background(), os.Getenv); err != nil {
		slog.Error("matches function failed to start", "err", err)
		os.Exit(1)
	}
}

// run builds the clients once, from the environment, and serves the matches routes behind the public
// origin (boot.Edge).
func run(ctx context.Context, getenv func(string) string) error {
	st, err := boot.Store(ctx, getenv)
	if err != nil {
		return err
	}
	sessions, err := boot.Sessions(getenv, st)
	if err != nil {
		return err
	}
	q, err := boot.Queue(ctx, getenv)
	if err != nil {
		return err
	}
	edge, err := boot.Edge(ctx, getenv)
	if err != nil {
		return err
	}
	lambdahttp.Start(newHandler(matchesapi.New(st, sessions, rematch.NewRematcher(q)), edge))
	return nil
}

// newHandler is the function's HTTP handler behind the public origin: health and the matches routes.
func newHandler(h *matchesapi.Handler, edge api.Edge) http.Handler {
	rt := api.NewRouter()
	rt.HandleFunc("GET /api/health", api.Health)
	h.Register(rt)
	return api.Wrap(rt, edge)
}
