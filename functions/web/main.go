// Command web is the Lambda function that serves the browser client: GET / and GET /assets/*, behind
// the public origin (boot.Edge: PUBLIC_URL and the edge secret).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/lambdahttp"
	"github.com/secondme/twin/pkg/web"
)

func main() {
	boot.Logger()
	edge, err := boot.Edge(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("web function failed to start", "err", err)
		os.Exit(1)
	}
	rt := api.NewRouter()
	web.New().Register(rt)
	lambdahttp.Start(api.Wrap(rt, edge))
}
