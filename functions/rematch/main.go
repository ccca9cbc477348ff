// Command rematch is the Lambda function of the nightly rematch, run by an EventBridge schedule: it
// sends pair jobs for the people whose profile changed since the last run and a rolling slice of the
// rest (docs/matching.md).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/pkg/rematch"
)

func main() {
	boot.Logger()
	if err := run(context.Background(), os.Getenv); err != nil {
		slog.Error("rematch function failed to start", "err", err)
		os.Exit(1)
	}
}

// run builds the clients once, from the environment, and runs the nightly rematch on each event.
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
	lambda.Start(handler(rematch.NewNightly(st, q, settings.Nightly)))
	return nil
}

// result is what an invocation returns: the run's figures.
type result struct {
	Indexed  int  `json:"indexed"`
	Changed  int  `json:"changed"`
	Slice    int  `json:"slice"`
	PairJobs int  `json:"pairJobs"`
	UserJobs int  `json:"userJobs"`
	Deferred int  `json:"deferred"`
	Resumed  bool `json:"resumed"`
}

// handler runs the nightly rematch for a scheduled event. A failure fails the invocation, so that
// EventBridge retries it; the retry continues where the run stopped.
func handler(n *rematch.Nightly) func(ctx context.Context, ev events.EventBridgeEvent) (result, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (result, error) {
		slog.InfoContext(ctx, "scheduled rematch", "event_id", ev.ID, "time", ev.Time, "rule", ev.Resources)
		st, err := n.Run(ctx)
		if err != nil {
			return result{}, fmt.Errorf("nightly rematch: %w", err)
		}
		return result(st), nil
	}
}
