// Command compatworker is the Lambda function behind the compat SQS queue: it runs pair jobs (compute
// or remove one match) and user jobs (rematch one person), and reports partial batch failures
// (docs/matching.md).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/functions/internal/boot/llmboot"
	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/rematch"
)

func main() {
	boot.Logger()
	if err := run(context.Background(), os.Getenv); err != nil {
		slog.Error("compatworker function failed to start", "err", err)
		os.Exit(1)
	}
}

// run builds the clients once, from the environment, and serves SQS batches.
func run(ctx context.Context, getenv func(string) string) error {
	settings, err := rematch.SettingsFrom(getenv)
	if err != nil {
		return err
	}
	st, err := boot.Store(ctx, getenv)
	if err != nil {
		return err
	}
	q, err := boot.Queue(ctx, getenv)
	if err != nil {
		return err
	}
	model, _, err := llmboot.Model(ctx, getenv)
	if err != nil {
		return err
	}
	w := rematch.NewWorker(st, compat.New(model, compat.Config{Messages: settings.Messages, ModelWeight: settings.ModelWeight}), q, settings.Nightly.Config)
	lambda.Start(batchHandler{handle: w.Handle, workers: rematch.BatchSize}.Handle)
	return nil
}
