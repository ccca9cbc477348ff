// Command chatstream is the Lambda function of POST /api/chat/stream: the chat turn as Server-Sent
// Events, on a Function URL in RESPONSE_STREAM mode (docs/api.md; configuration in docs/chat.md).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambdaurl"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/functions/internal/boot/chatboot"
)

func main() {
	boot.Logger()
	if err := run(context.Background(), os.Getenv); err != nil {
		slog.Error("chatstream function failed to start", "err", err)
		os.Exit(1)
	}
}

// run builds the clients once, from the environment, and streams chat turns behind the public origin
// (boot.Edge).
func run(ctx context.Context, getenv func(string) string) error {
	svc, auth, err := chatboot.Service(ctx, getenv)
	if err != nil {
		return err
	}
	edge, err := boot.Edge(ctx, getenv)
	if err != nil {
		return err
	}
	lambdaurl.Start(newHandler(svc, auth, edge))
	return nil
}
