// Command chat is the Lambda function of the chat routes behind the HTTP API: sessions, history and
// the JSON chat turn (docs/api.md; configuration in docs/chat.md).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/functions/internal/boot/chatboot"
	"github.com/secondme/twin/pkg/lambdahttp"
)

func main() {
	boot.Logger()
	if err := run(context.Background(), os.Getenv); err != nil {
		slog.Error("chat function failed to start", "err", err)
		os.Exit(1)
	}
}

// run builds the clients once, from the environment, and serves the chat routes behind the public
// origin (boot.Edge).
func run(ctx context.Context, getenv func(string) string) error {
	svc, auth, err := chatboot.Service(ctx, getenv)
	if err != nil {
		return err
	}
	edge, err := boot.Edge(ctx, getenv)
	if err != nil {
		return err
	}
	lambdahttp.Start(newHandler(svc, auth, edge))
	return nil
}
