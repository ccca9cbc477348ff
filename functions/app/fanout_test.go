package app_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/functions/app/models"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// TestNightlyFanoutThroughTheApp plans a night as the rematch function does and runs its shard tasks
// through App.Jobs, the worker's handler: the tasks continue, and their pair jobs go, on the nightly
// queue, never the interactive one; the run finishes; a task that is not a task is refused.
func TestNightlyFanoutThroughTheApp(t *testing.T) {
	ctx := context.Background()
	cfg, err := app.Load(env(nil), models.All...)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now().UTC().Add(-time.Minute)
	for i, topics := range [][]string{{"jazz", "chess"}, {"jazz", "sailing"}, {"chess", "sailing"}} {
		u := store.User{ID: id.New(), Nickname: string(rune('A' + i)), Provider: store.ProviderOIDC, Discoverable: true,
			ProfileVersion: 1, ProfileChangedAt: start, CreatedAt: start, UpdatedAt: start,
			Shades: []store.Shade{{ID: id.New(), Name: "Things", Confidence: store.ConfidenceHigh,
				Public: &store.PublicShade{Name: "Things", Description: "I like these.", Topics: topics}}}}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	interactive, nightly := &sentJobs{}, &sentJobs{}
	rec := metrics.NewCounter()
	a := app.New(cfg, app.Deps{Store: st, Queue: interactive, NightlyQueue: nightly, Metrics: rec})
	fan, err := a.Fanout(nightly)
	if err != nil {
		t.Fatal(err)
	}
	// The scheduled function plans: that is no finished run for NightlyMissingAlarm.
	if _, err := app.NightlyHandler(fan, slog.New(slog.DiscardHandler), rec)(ctx, events.EventBridgeEvent{ID: "plan"}); err != nil {
		t.Fatal(err)
	}
	if got := rec.Snapshot()[metrics.NightlyRuns]; len(got) != 0 {
		t.Errorf("after the plan %s = %v, want nothing counted", metrics.NightlyRuns, got)
	}
	jobs, err := a.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tasks, pairs := 0, 0
	for len(nightly.bodies) > 0 {
		bodies := nightly.bodies
		nightly.bodies = nil
		for _, body := range bodies {
			if !rematch.IsShardTask(body) {
				pairs++
				continue
			}
			if tasks++; tasks > 10 {
				t.Fatal("more than 10 tasks for 3 people")
			}
			if err := jobs(ctx, body); err != nil {
				t.Fatalf("task %s: %v", body, err)
			}
		}
	}
	if tasks != 2 || pairs == 0 || len(interactive.bodies) != 0 {
		t.Errorf("%d tasks, %d pair jobs on the nightly queue, %d jobs on the interactive one; want 2 tasks (changed people, slice), pairs, and nothing interactive",
			tasks, pairs, len(interactive.bodies))
	}
	if state, err := st.GetJobState(ctx, rematch.JobName); err != nil || state.LastRun.IsZero() {
		t.Errorf("job state = %+v, %v; want the run finished", state, err)
	}
	if got := rec.Snapshot()[metrics.NightlyRuns]; got[metrics.ResultOK] != 1 || len(got) != 1 {
		t.Errorf("after the last task %s = %v, want 1 %s (the run finished)", metrics.NightlyRuns, got, metrics.ResultOK)
	}
	if err := jobs(ctx, []byte(`{"kind":"shard","phase":"later"}`)); !errors.Is(err, rematch.ErrBadJob) {
		t.Errorf("a bad task: %v, want ErrBadJob", err)
	}
}
