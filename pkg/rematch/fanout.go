package rematch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/secondme/twin/pkg/store"
)

// Bounds of a shard task of the nightly fan-out (docs/scale.md has the figures).
const (
	// DefaultShardPeople is how many people one task rematches: about 10 s of store calls, well
	// inside the compat worker's timeout, and a few megabytes.
	DefaultShardPeople = 200
	// ShardWorkers is how many people of a task are looked up at once.
	ShardWorkers = 8
)

// FanoutStore is what the nightly fan-out reads and writes: the nightly's store, with candidates
// found through the store's term index instead of an in-memory index of everyone.
type FanoutStore interface {
	NightlyStore
	UsersWithTerm(ctx context.Context, term, asker string, limit int) ([]string, error)
}

// Fanout is the nightly rematch as a chain of bounded shard tasks on the nightly queue. Plan (the
// scheduled function) only writes the run's first task; each task (run by the compat worker)
// rematches at most shardPeople people of its phase through the store's term index, sends their pair
// jobs, then sends the task that continues where it stopped. No step holds more than one task's
// people, so a run's size is bounded by the night, not by a function's memory or 15 minutes.
//
// A task carries the run's plan (how many pairs with the model part were sent), so the nightly budget
// is planned in the order Nightly.Run plans it: changed people's top ModelTop, then the deferred
// pairs, then the changed people's band, then the rolling slice. The run's checkpoint (the task due
// next) is saved in the store, so a task delivered twice runs once, and a run whose chain broke is
// continued by the next Plan.
type Fanout struct {
	n      *Nightly
	store  FanoutStore
	sender Sender
	people int
}

// NewFanout returns the nightly fan-out over st, sending tasks and pair jobs through sender (the
// nightly queue). shardPeople <= 0 means DefaultShardPeople.
func NewFanout(st FanoutStore, sender Sender, cfg NightlyConfig, shardPeople int) *Fanout {
	if shardPeople <= 0 {
		shardPeople = DefaultShardPeople
	}
	return &Fanout{n: NewNightly(st, sender, cfg), store: st, sender: sender, people: shardPeople}
}

// checkpointName names the JobState that holds the task due next of the run in progress.
const checkpointName = JobName + "/task"

// Plan starts a nightly run: it writes the run's first task to the queue and saves it as the
// checkpoint. When a run is still in progress (its checkpoint is newer than the last finished run),
// it sends the checkpoint's task again instead, so that a run whose chain broke continues, and a
// duplicate of that task is dropped by the checkpoint. It reports whether it resumed a run.
func (f *Fanout) Plan(ctx context.Context) (resumed bool, err error) {
	state, err := f.store.GetJobState(ctx, JobName)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("get job state: %w", err)
	}
	cp, err := f.store.GetJobState(ctx, checkpointName)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("get nightly checkpoint: %w", err)
	}
	if err == nil && cp.LastRun.After(state.LastRun) {
		if t, err := DecodeShardTask([]byte(cp.Cursor)); err == nil {
			slog.InfoContext(ctx, "rematch resumed", "run", t.Run, "phase", t.Phase, "seq", t.Seq)
			return true, f.sender.Send(ctx, t.Encode())
		}
	}
	// Stores keep times to the millisecond: the run's name is one, so that it compares as stored.
	run := f.n.now().UTC().Truncate(time.Millisecond)
	if !run.After(state.LastRun) {
		run = state.LastRun.Add(time.Millisecond)
	}
	t := ShardTask{Kind: KindShard, Run: run, Since: state.LastRun.UTC(), Phase: PhaseChanged}
	if err := f.checkpoint(ctx, t); err != nil {
		return false, err
	}
	slog.InfoContext(ctx, "rematch planned", "run", run, "since", state.LastRun)
	return false, f.sender.Send(ctx, t.Encode())
}

// Run is Plan for the scheduled nightly function (it plans; the tasks do the work): its Stats report
// only whether it resumed a run.
func (f *Fanout) Run(ctx context.Context) (Stats, error) {
	resumed, err := f.Plan(ctx)
	return Stats{Resumed: resumed}, err
}

// checkpoint saves t as the task due next of its run.
func (f *Fanout) checkpoint(ctx context.Context, t ShardTask) error {
	err := f.store.PutJobState(ctx, store.JobState{Name: checkpointName, LastRun: t.Run, Cursor: string(t.Encode()), UpdatedAt: f.n.now().UTC()})
	if err != nil {
		return fmt.Errorf("save nightly checkpoint: %w", err)
	}
	return nil
}

// Shard runs one task: it rematches at most shardPeople people of the task's phase, sends their pair
// jobs, then sends the next task and saves it as the checkpoint; the last task of the slice saves the
// run as finished (LastRun, and the slice's cursor for the next run) instead. A task that is not the
// run's checkpoint (delivered again, or of a finished run) does nothing. A task that fails part-way
// is retried by the queue and does its people again: pair jobs are idempotent.
func (f *Fanout) Shard(ctx context.Context, t ShardTask) (Stats, error) {
	var st Stats
	cp, err := f.store.GetJobState(ctx, checkpointName)
	if errors.Is(err, store.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("get nightly checkpoint: %w", err)
	}
	state, err := f.store.GetJobState(ctx, JobName)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return st, fmt.Errorf("get job state: %w", err)
	}
	if cp.Cursor != string(t.Encode()) || !t.Run.After(state.LastRun) {
		slog.InfoContext(ctx, "rematch task dropped: not the run's next", "run", t.Run, "seq", t.Seq)
		return st, nil
	}
	b := f.n.cfg.Budget
	r := &run{n: f.n, seen: make(map[[2]string]bool), scored: make(map[[2]string]bool), stats: &st,
		capacity: b.NightlyCalls / b.CallsPerPair, planned: t.Planned}
	next := t
	next.Seq++
	finished := false
	if t.Phase == PhaseChanged {
		end, err := f.changedPages(ctx, r, &next)
		if err != nil {
			return st, err
		}
		if end {
			// The changed people's top ModelTop are all planned: the deferred pairs may have what is
			// left, then the changed people's band (this task's; each task plans its own band).
			if err := r.resume(ctx); err != nil {
				return st, err
			}
			next.Phase, next.Cursor = PhaseSlice, state.Cursor
		}
	} else {
		if finished, err = f.slicePages(ctx, r, &next); err != nil {
			return st, err
		}
	}
	r.queueNear()
	if err := r.flush(ctx); err != nil {
		return st, err
	}
	next.Planned = r.planned
	if finished {
		err := f.store.PutJobState(ctx, store.JobState{Name: JobName, LastRun: t.Run, Cursor: next.Cursor, UpdatedAt: f.n.now().UTC()})
		if err != nil {
			return st, fmt.Errorf("save job state: %w", err)
		}
		slog.InfoContext(ctx, "rematch finished", "run", t.Run, "tasks", next.Seq, "model_pairs", r.planned)
		st.Finished = true
		return st, nil
	}
	if err := f.sender.Send(ctx, next.Encode()); err != nil {
		return st, fmt.Errorf("send the next nightly task: %w", err)
	}
	if err := f.checkpoint(ctx, next); err != nil {
		return st, err
	}
	slog.InfoContext(ctx, "rematch task done", "run", t.Run, "phase", t.Phase, "seq", t.Seq, "changed", st.Changed,
		"slice", st.Slice, "pair_jobs", st.PairJobs, "model_pairs", r.planned)
	return st, nil
}

// changedPages rematches the changed people of one task, page by page, moving next's cursor; it
// reports the end of the phase: no more pages, or a person changed after the run started (the list
// is oldest change first, so the rest changed later too: the next run has them).
func (f *Fanout) changedPages(ctx context.Context, r *run, next *ShardTask) (end bool, err error) {
	for r.stats.Changed < f.people {
		page, err := f.store.ChangedUsers(ctx, next.Since, next.Cursor, min(pageSize, f.people-r.stats.Changed))
		if err != nil {
			return false, fmt.Errorf("changed users since %s: %w", next.Since, err)
		}
		people := page.Items
		for i, u := range people {
			if !u.ProfileChangedAt.Before(next.Run) {
				people, end = people[:i], true
				break
			}
		}
		r.stats.Changed += len(people)
		if err := f.rematch(ctx, r, people, true); err != nil {
			return false, err
		}
		if end {
			return true, nil
		}
		next.Cursor = page.Next
		if page.Next == "" {
			return true, nil
		}
	}
	return false, nil
}

// slicePages rematches the people of one task of the rolling slice, page by page, moving next's
// cursor and count; it reports the end of the run: the slice is done or the listing wrapped around.
func (f *Fanout) slicePages(ctx context.Context, r *run, next *ShardTask) (finished bool, err error) {
	for r.stats.Slice < f.people {
		page, err := f.store.ScanUsers(ctx, next.Cursor, min(pageSize, f.people-r.stats.Slice, f.n.cfg.Slice-next.Done))
		if err != nil {
			return false, fmt.Errorf("scan users: %w", err)
		}
		r.stats.Slice += len(page.Items)
		if err := f.rematch(ctx, r, page.Items, false); err != nil {
			return false, err
		}
		next.Done += len(page.Items)
		next.Cursor = page.Next
		if page.Next == "" || next.Done >= f.n.cfg.Slice {
			return true, nil
		}
	}
	return false, nil
}

// found is what a person's rematch found: their candidates (and matches), and which of them get
// the model part.
type found struct {
	user      store.User
	cands     []string
	top, near map[string]bool
	err       error
}

// rematch finds the candidates of people (ShardWorkers at a time) and queues their pair jobs in the
// order of people, so that the night's plan does not depend on which lookup came back first. A
// changed person who is hidden gets a user job (their matches go); a changed person's terms are
// written (only those that changed) and their existing matches rematched too.
func (f *Fanout) rematch(ctx context.Context, r *run, people []store.User, changed bool) error {
	out := make([]found, len(people))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(ShardWorkers, len(people)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = f.find(ctx, people[i], changed)
			}
		}()
	}
	for i := range people {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, fd := range out {
		if fd.err != nil {
			return fd.err
		}
		if changed && !fd.user.Discoverable {
			r.stats.UserJobs++
			r.waiting = append(r.waiting, UserJob(fd.user.ID).Encode())
			continue
		}
		for _, c := range fd.cands {
			if fd.top[c] {
				r.queue(fd.user.ID, c)
			} else {
				r.queueScoreOnly(fd.user.ID, c)
			}
			if fd.near[c] {
				r.near = append(r.near, [2]string{fd.user.ID, c})
			}
		}
	}
	return nil
}

// find is candidates (nightly.go) with the top K candidates found through the store's term index (as
// a user job finds them) instead of an in-memory index of everyone.
func (f *Fanout) find(ctx context.Context, u store.User, changed bool) found {
	fd := found{user: u}
	if !u.Discoverable {
		return fd
	}
	cfg := f.n.cfg
	terms := IndexTerms(u, cfg.IndexTerms)
	if changed {
		if err := f.store.SetUserTerms(ctx, u.ID, terms); err != nil {
			fd.err = fmt.Errorf("index %s: %w", u.ID, err)
			return fd
		}
	}
	holders := func(ctx context.Context, t string) ([]string, error) {
		return f.store.UsersWithTerm(ctx, t, u.ID, cfg.TermLookup)
	}
	cands, err := TermCandidates(ctx, holders, u.ID, terms, cfg.TermLookup, cfg.K)
	if err != nil {
		fd.err = err
		return fd
	}
	fd.cands = cands
	if changed {
		page, err := f.store.ListMatches(ctx, u.ID, "", cfg.K)
		if err != nil {
			fd.err = fmt.Errorf("list matches of %s: %w", u.ID, err)
			return fd
		}
		for _, e := range page.Items {
			if !slices.Contains(fd.cands, e.OtherID) {
				fd.cands = append(fd.cands, e.OtherID)
			}
		}
	}
	if len(fd.cands) > 0 {
		fd.top, fd.near, fd.err = topByScore(ctx, f.store, u, fd.cands, cfg.ModelTop, cfg.ModelBand)
	}
	return fd
}
