package app_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// discard is a rematch.Sender that keeps nothing.
type discard struct{}

func (discard) Send(context.Context, ...[]byte) error { return nil }

// TestNightlyHandlerCountsRuns checks the metric the template's NightlyMissingAlarm watches: each run
// counts NightlyRuns under Result ok when it finished, failed when it did not.
func TestNightlyHandlerCountsRuns(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "nightly.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rec := metrics.NewCounter()
	h := app.NightlyHandler(rematch.NewNightly(st, discard{}, rematch.NightlyConfig{}), slog.New(slog.DiscardHandler), rec)

	if _, err := h(ctx, events.EventBridgeEvent{ID: "ok"}); err != nil {
		t.Fatalf("a run on an empty store: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := h(canceled, events.EventBridgeEvent{ID: "failed"}); err == nil {
		t.Fatal("a run with its context canceled succeeded")
	}
	got := rec.Snapshot()[metrics.NightlyRuns]
	if got[metrics.ResultOK] != 1 || got[metrics.ResultFailed] != 1 {
		t.Errorf("%s = %v, want 1 %s and 1 %s", metrics.NightlyRuns, got, metrics.ResultOK, metrics.ResultFailed)
	}
}
