package rematch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
)

// taskQueue is the nightly queue of a fan-out test: it keeps the tasks and the jobs sent apart.
type taskQueue struct {
	recordingSender
}

// drain runs the queued tasks in the order they were sent until none is left (at most limit), and
// returns the jobs sent and the tasks run.
func (q *taskQueue) drain(t *testing.T, f *rematch.Fanout, limit int) (jobs []rematch.Job, tasks int) {
	t.Helper()
	ctx := context.Background()
	for {
		q.mu.Lock()
		batches := q.batches
		q.batches = nil
		q.mu.Unlock()
		var pending []rematch.ShardTask
		for _, b := range batches {
			for _, body := range b {
				if rematch.IsShardTask(body) {
					task, err := rematch.DecodeShardTask(body)
					if err != nil {
						t.Fatalf("sent a bad task %s: %v", body, err)
					}
					pending = append(pending, task)
					continue
				}
				j, err := rematch.DecodeJob(body)
				if err != nil {
					t.Fatalf("sent a bad job %s: %v", body, err)
				}
				jobs = append(jobs, j)
			}
		}
		if len(pending) == 0 {
			return jobs, tasks
		}
		for _, task := range pending {
			if tasks++; tasks > limit {
				t.Fatalf("more than %d tasks", limit)
			}
			if _, err := f.Shard(ctx, task); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// fanoutStores are the stores the fan-out's tests run on: SQLite, and DynamoDB (dynalite) when
// DYNAMO_ENDPOINT is set (infra/scripts/with-dynalite.sh).
var fanoutStores = map[string]func(t *testing.T) store.Store{
	"sqlite":   func(t *testing.T) store.Store { return newStore(t) },
	"dynamodb": func(t *testing.T) store.Store { return dynamotest.New(t) },
}

func TestFanoutRunsTheNightInBoundedTasks(t *testing.T) {
	t.Parallel()
	for name, open := range fanoutStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fanoutNight(t, open(t))
		})
	}
}

// fanoutNight runs two nights of the fan-out over st.
func fanoutNight(t *testing.T, st store.Store) {
	ctx := context.Background()
	people := population(t, st, 60)
	update(t, st, people[59].ID, func(u *store.User) { u.Discoverable = false })
	clk := &clock{t: time.Now().Add(time.Second)}
	cfg := rematch.NightlyConfig{Config: rematch.Config{K: 4}, Slice: 25, Now: clk.Now}
	q := &taskQueue{}
	f := rematch.NewFanout(st, q, cfg, 10)

	if resumed, err := f.Plan(ctx); err != nil || resumed {
		t.Fatalf("plan = %v, %v; want a new run", resumed, err)
	}
	jobs, tasks := q.drain(t, f, 100)
	// 60 changed people in tasks of 10, then a slice of 25 in tasks of 10.
	if tasks != 6+3 {
		t.Errorf("%d tasks, want 9 (6 of changed people, 3 of the slice)", tasks)
	}
	pairs, users := pairSet(jobs), 0
	for _, j := range jobs {
		if j.Kind == rematch.KindUser {
			users++
		}
	}
	if users != 1 || len(pairs) == 0 || len(pairs) > 4*(60+25)+1 {
		t.Errorf("%d user jobs and %d pairs, want 1 user job (the hidden person) and 1..K·people pairs", users, len(pairs))
	}
	state, err := st.GetJobState(ctx, rematch.JobName)
	if err != nil || !state.LastRun.After(people[59].ProfileChangedAt) || state.Cursor == "" {
		t.Fatalf("job state = %+v, %v; want the run saved with the slice's cursor", state, err)
	}
	if ids, _ := st.UsersWithTerm(ctx, "jazz", "", 100); len(ids) == 0 {
		t.Error("changed people were not indexed in the store")
	}

	// Nothing changed since: the next night is the next slice only.
	clk.set(clk.Now().Add(time.Second))
	if _, err := f.Plan(ctx); err != nil {
		t.Fatal(err)
	}
	if _, tasks := q.drain(t, f, 100); tasks != 1+3 {
		t.Errorf("quiet night: %d tasks, want 4 (an empty changed phase and 3 of the slice)", tasks)
	}
}

func TestFanoutTaskRunsOnceAndABrokenChainContinues(t *testing.T) {
	t.Parallel()
	for name, open := range fanoutStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fanoutOnce(t, open(t))
		})
	}
}

// fanoutOnce delivers a task twice and loses one, over st.
func fanoutOnce(t *testing.T, st store.Store) {
	ctx := context.Background()
	population(t, st, 40)
	clk := &clock{t: time.Now().Add(time.Second)}
	cfg := rematch.NightlyConfig{Config: rematch.Config{K: 3}, Slice: 10, Now: clk.Now}
	q := &taskQueue{}
	f := rematch.NewFanout(st, q, cfg, 10)
	if _, err := f.Plan(ctx); err != nil {
		t.Fatal(err)
	}
	first := lastTask(t, q)

	// The first task, then the same task delivered again: the second delivery does nothing.
	if stats, err := f.Shard(ctx, first); err != nil || stats.Changed != 10 {
		t.Fatalf("first task = %+v, %v; want 10 changed people", stats, err)
	}
	second := lastTask(t, q)
	if stats, err := f.Shard(ctx, first); err != nil || stats.Changed != 0 || stats.PairJobs != 0 {
		t.Errorf("the same task again = %+v, %v; want nothing done", stats, err)
	}

	// The chain breaks (the second task is lost): the next Plan sends it again, and the run ends.
	q.jobs(t)
	if resumed, err := f.Plan(ctx); err != nil || !resumed {
		t.Fatalf("plan after a broken chain = %v, %v; want the run resumed", resumed, err)
	}
	if again := lastTask(t, q); string(again.Encode()) != string(second.Encode()) {
		t.Fatalf("resumed with %s, want %s", again.Encode(), second.Encode())
	}
	if _, err := f.Shard(ctx, second); err != nil {
		t.Fatal(err)
	}
	q.drain(t, f, 20)
	state, err := st.GetJobState(ctx, rematch.JobName)
	if err != nil || !state.LastRun.Equal(first.Run) {
		t.Fatalf("job state = %+v, %v; want the run of %s finished", state, err, first.Run)
	}
	// A task of a finished run does nothing.
	if stats, err := f.Shard(ctx, second); err != nil || stats.Changed != 0 || stats.PairJobs != 0 {
		t.Errorf("a task of a finished run = %+v, %v; want nothing done", stats, err)
	}
}

func TestFanoutPlansTheModelWithinTheNightlyBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	population(t, st, 50)
	clk := &clock{t: time.Now().Add(time.Second)}
	// Room for 20 pairs with the model part (40 calls at 2 a pair).
	cfg := rematch.NightlyConfig{Config: rematch.Config{K: 4, ModelTop: 2, Budget: rematch.BudgetConfig{NightlyCalls: 40, CallsPerPair: 2}},
		Slice: 20, Now: clk.Now}
	q := &taskQueue{}
	f := rematch.NewFanout(st, q, cfg, 7)
	if _, err := f.Plan(ctx); err != nil {
		t.Fatal(err)
	}
	jobs, _ := q.drain(t, f, 100)
	model, deferred := 0, 0
	for _, j := range jobs {
		switch {
		case j.Kind != rematch.KindPair || j.ScoreOnly:
		case j.Defer:
			deferred++
		default:
			model++
		}
	}
	if model != 20 || deferred == 0 {
		t.Errorf("%d pair jobs with the model part and %d deferring ones, want exactly the 20 the budget pays for, the rest deferring", model, deferred)
	}
}

// lastTask returns the one shard task sent since the last call, dropping the jobs sent with it.
func lastTask(t *testing.T, q *taskQueue) rematch.ShardTask {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	var tasks []rematch.ShardTask
	for _, b := range q.batches {
		for _, body := range b {
			if rematch.IsShardTask(body) {
				task, err := rematch.DecodeShardTask(body)
				if err != nil {
					t.Fatal(err)
				}
				tasks = append(tasks, task)
			}
		}
	}
	q.batches = nil
	if len(tasks) != 1 {
		t.Fatalf("%d tasks sent, want 1", len(tasks))
	}
	return tasks[0]
}

// FuzzDecodeShardTask checks the decoder of the nightly queue's tasks: it never panics, whatever it
// accepts is a valid task that encodes back to itself, and everything it refuses is ErrBadJob.
func FuzzDecodeShardTask(f *testing.F) {
	f.Add([]byte(`{"kind":"shard","run":"2026-11-30T03:00:00Z","since":"0001-01-01T00:00:00Z","phase":"changed","seq":0,"done":0,"planned":0}`))
	f.Add([]byte(`{"kind":"shard","run":"2026-11-30T03:00:00.5Z","since":"2026-11-29T03:00:00Z","phase":"slice","cursor":"c2Nhbg","seq":7,"done":500,"planned":1200}`))
	f.Add([]byte(`{"kind":"shard","run":"2026-11-30T03:00:00+01:00","since":"2026-11-30T04:00:00Z","phase":"slice"}`))
	f.Add([]byte(`{"kind":"pair","a":"x","b":"y"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		task, err := rematch.DecodeShardTask(body)
		if err != nil {
			if !errors.Is(err, rematch.ErrBadJob) {
				t.Fatalf("err = %v, want ErrBadJob", err)
			}
			return
		}
		if !rematch.IsShardTask(body) {
			t.Fatalf("accepted %s, which IsShardTask refuses", body)
		}
		again, err := rematch.DecodeShardTask(task.Encode())
		if err != nil || string(again.Encode()) != string(task.Encode()) {
			t.Fatalf("re-decoding %s: %s, %v", task.Encode(), again.Encode(), err)
		}
	})
}
