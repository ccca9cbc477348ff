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
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("response %s: %v", out, err)
		}
		return r
	}

	// The function plans the night: its first shard task goes to the queue and is saved as the
	// checkpoint; the tasks (the compat worker's) do the work.
	if first := invoke(t); first.Resumed {
		t.Errorf("first run = %+v, want a new run", first)
	}
	tasks := sqs.Tasks()
	if len(tasks) != 1 || tasks[0].Phase != rematch.PhaseChanged || tasks[0].Seq != 0 || tasks[0].Cursor != "" {
		t.Fatalf("tasks sent = %+v, want the run's first task, of the changed people", tasks)
	}
	if jobs := sqs.Jobs(); len(jobs) != 0 {
		t.Errorf("the plan sent %d pair or user jobs, want none (the tasks send them)", len(jobs))
	}
	cp, err := st.GetJobState(ctx, rematch.JobName+"/task")
	if err != nil || !cp.LastRun.Equal(tasks[0].Run) {
		t.Errorf("checkpoint = %+v, %v; want the first task's run %v", cp, err, tasks[0].Run)
	}

	// No task ran, so the run is still in progress: the next invocation (Lambda's retry, or the next
	// night) sends the checkpoint's task again instead of starting another run.
	time.Sleep(5 * time.Millisecond)
	if second := invoke(t); !second.Resumed {
		t.Errorf("second run = %+v, want the run in progress resumed", second)
	}
	tasks = sqs.Tasks()
	if len(tasks) != 2 || !tasks[1].Run.Equal(tasks[0].Run) || tasks[1].Seq != tasks[0].Seq {
		t.Errorf("tasks sent = %+v, want the first task sent again", tasks)
	}
}
