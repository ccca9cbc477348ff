package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/infra/lambdatest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/rematch/rematchtest"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// TestUnderEmulator runs the rematch bootstrap under the Runtime Interface Emulator with a real
// EventBridge scheduled event, over a fresh table of the DynamoDB test server, sending to a fake SQS.
func TestUnderEmulator(t *testing.T) {
	ctx := context.Background()
	endpoint, table := dynamotest.Endpoint(t), dynamotest.Table(t)
	st := dynamostore.New(dynamotest.DB(t), table)
	topics := []string{"jazz", "hiking", "chess", "pottery", "sailing"}
	now := time.Now().UTC()
	for i := range 24 {
		u := store.User{ID: id.New(), Nickname: fmt.Sprint("P", i), Discoverable: i != 0, ProfileVersion: 1,
			ProfileChangedAt: now, CreatedAt: now, UpdatedAt: now,
			Shades: []store.Shade{{ID: id.New(), Name: "Interests", Confidence: store.ConfidenceHigh, Public: &store.PublicShade{
				Name: "Interests", Topics: []string{topics[i%5], topics[(i/5)%5]}}}}}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	sqs := rematchtest.NewSQS(t)
	emu := lambdatest.Start(t, lambdatest.Build(t, "./functions/rematch"), append(sqs.Env(),
		"TABLE_NAME="+table,
		"DYNAMO_ENDPOINT="+endpoint,
		"MATCH_K=3",
		"REMATCH_SLICE=10",
	))
	event, err := os.ReadFile(filepath.Join("testdata", "eventbridge_scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	invoke := func(t *testing.T) app.NightlyResult {
		t.Helper()
		out := emu.Invoke(t, event)
		var r app.NightlyResult
		if err := json.Unmarshal(out, &r); err != nil || r.Indexed == 0 {
			t.Fatalf("response %s, want the run's figures", out)
		}
		return r
	}

	first := invoke(t)
	if first.Changed != 24 || first.Indexed != 23 || first.Slice != 10 || first.UserJobs != 1 || first.PairJobs == 0 || first.PairJobs > 3*24 {
		t.Errorf("first run = %+v, want 24 changed, 23 indexed, a slice of 10, one user job, 1-72 pair jobs", first)
	}
	jobs := sqs.Jobs()
	if len(jobs) != first.PairJobs+first.UserJobs {
		t.Errorf("the queue received %d jobs, the run reports %d", len(jobs), first.PairJobs+first.UserJobs)
	}
	if want := (len(jobs) + rematch.BatchSize - 1) / rematch.BatchSize; sqs.Batches() > want+2 {
		t.Errorf("%d SendMessageBatch calls for %d jobs, want about %d (batches of 10)", sqs.Batches(), len(jobs), want)
	}
	state, err := st.GetJobState(ctx, rematch.JobName)
	if err != nil || state.LastRun.IsZero() || state.Cursor == "" {
		t.Errorf("job state = %+v, %v; want LastRun and the slice cursor", state, err)
	}

	time.Sleep(5 * time.Millisecond)
	second := invoke(t)
	if second.Changed != 0 || second.Slice != 10 {
		t.Errorf("second run = %+v, want nobody changed and the next slice of 10", second)
	}
}
