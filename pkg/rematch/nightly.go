package rematch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/secondme/twin/pkg/store"
)

// JobName names the nightly rematch's JobState; JobName+"/progress" holds a run in progress.
const JobName = "rematch-nightly"

// Defaults of NightlyConfig.
const (
	// DefaultSlice is how many people beyond the changed ones a run rematches.
	DefaultSlice = 1000
	// pageSize is the page size of the nightly's store listings.
	pageSize = 100
)

// NightlyConfig tunes the nightly run. The zero NightlyConfig takes every default.
type NightlyConfig struct {
	Config
	// Slice is how many people of the rolling slice (the rest, in ScanUsers order, continuing where
	// the last run stopped) each run rematches; default DefaultSlice.
	Slice int
	// MaxPosting bounds the people visited per term in the in-memory index; default DefaultMaxPosting.
	MaxPosting int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// NightlyStore is what the nightly run reads and writes.
type NightlyStore interface {
	ChangedUsers(ctx context.Context, since time.Time, cursor string, limit int) (store.Page[store.User], error)
	ScanUsers(ctx context.Context, cursor string, limit int) (store.Page[store.User], error)
	ListMatches(ctx context.Context, userID, cursor string, limit int) (store.Page[store.MatchEntry], error)
	SetUserTerms(ctx context.Context, userID string, terms []string) error
	GetJobState(ctx context.Context, name string) (store.JobState, error)
	PutJobState(ctx context.Context, s store.JobState) error
	ListDeferred(ctx context.Context, limit int) ([]store.Deferral, error)
	UserGetter
}

var _ NightlyStore = store.Store(nil)

// Nightly is the nightly rematch.
type Nightly struct {
	store  NightlyStore
	sender Sender
	cfg    NightlyConfig
	now    func() time.Time
}

// NewNightly returns the nightly run over st, sending jobs through sender.
func NewNightly(st NightlyStore, sender Sender, cfg NightlyConfig) *Nightly {
	cfg.Config = cfg.Config.withDefaults()
	if cfg.Slice <= 0 {
		cfg.Slice = DefaultSlice
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Nightly{store: st, sender: sender, cfg: cfg, now: now}
}

// Stats is what one nightly run did.
type Stats struct {
	Indexed   int // people in the candidate index (the discoverable ones)
	Changed   int // people whose profile changed since the last run
	Slice     int // people of the rolling slice
	PairJobs  int // pair jobs sent (each pair once per run, or twice when found in a top M after a score-only job)
	ScoreOnly int // of those, jobs for the deterministic match only (pairs outside the top M)
	UserJobs  int // user jobs sent (changed people who are hidden: their matches go)
	Deferred  int // pairs sent again because their model part waited for a budget
	// OverBudget counts the pair jobs of someone's top M sent without the model part because the
	// night's model pairs already filled the nightly budget: their pairs are deferred if stale.
	OverBudget int
	Resumed    bool
	// Finished reports that the run ended (its LastRun saved): at the end of Nightly.Run, and of the
	// fan-out's last task.
	Finished bool
}

// progress is the state of a run in progress, kept in the Cursor of JobName+"/progress".
type progress struct {
	Phase   string `json:"phase"` // "changed" or "slice"
	Cursor  string `json:"cursor"`
	Done    int    `json:"done"`    // people of the slice done
	Planned int    `json:"planned"` // pair jobs with the model part sent so far
}

// Run rematches the people whose profile changed since the last run and a rolling slice of the rest:
// it builds an in-memory index of every discoverable person's terms (one ScanUsers pass), finds each
// of those people's top K candidates, and sends one pair job per pair (in batches of 10); a changed
// person also gets jobs for the matches they already have. It saves its progress after every page,
// so a run that fails part-way continues where it stopped when it is retried, and at the end it saves
// the start of the run as LastRun (changes made during a run are picked up by the next) and where the
// slice stopped as Cursor. Pair jobs are idempotent: only pairs whose stored match is stale reach the model.
//
// The model part of a night is planned within the nightly budget, in order: the changed people's top
// ModelTop first, then the pairs deferred on earlier nights (the longest deferred first), then the
// changed people's band (Config.ModelBand), then the rolling slice's top ModelTop and band. Once the
// pair jobs with the model part sent would cost the whole nightly budget (NightlyCalls /
// CallsPerPair pairs), the rest go as deferring jobs (Job.Defer), so that however the queue orders
// the jobs, the slice and the deferred pairs never spend what a changed person's top ModelTop needs.
func (n *Nightly) Run(ctx context.Context) (Stats, error) {
	var st Stats
	state, err := n.store.GetJobState(ctx, JobName)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return st, fmt.Errorf("get job state: %w", err)
	}
	start := n.now().UTC()
	prog := progress{Phase: "changed"}
	if saved, err := n.store.GetJobState(ctx, JobName+"/progress"); err == nil && saved.LastRun.After(state.LastRun) {
		if json.Unmarshal([]byte(saved.Cursor), &prog) == nil {
			start, st.Resumed = saved.LastRun, true
		} else {
			prog = progress{Phase: "changed"}
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return st, fmt.Errorf("get job progress: %w", err)
	}
	slog.InfoContext(ctx, "rematch started", "since", state.LastRun, "resumed", st.Resumed, "phase", prog.Phase)

	idx, err := n.buildIndex(ctx)
	if err != nil {
		return st, err
	}
	st.Indexed = idx.Len()
	b := n.cfg.Budget
	r := &run{n: n, idx: idx, scratch: idx.NewScratch(), seen: make(map[[2]string]bool), scored: make(map[[2]string]bool), stats: &st,
		capacity: b.NightlyCalls / b.CallsPerPair, planned: prog.Planned}

	save := func(p progress) error {
		p.Planned = r.planned
		b, _ := json.Marshal(p)
		err := n.store.PutJobState(ctx, store.JobState{Name: JobName + "/progress", LastRun: start, Cursor: string(b), UpdatedAt: n.now().UTC()})
		if err != nil {
			return fmt.Errorf("save job progress: %w", err)
		}
		return nil
	}
	if prog.Phase == "changed" {
		for {
			page, err := n.store.ChangedUsers(ctx, state.LastRun, prog.Cursor, pageSize)
			if err != nil {
				return st, fmt.Errorf("changed users since %s: %w", state.LastRun, err)
			}
			for _, u := range page.Items {
				st.Changed++
				if err := r.changed(ctx, u); err != nil {
					return st, err
				}
			}
			if err := r.flush(ctx); err != nil {
				return st, err
			}
			slog.InfoContext(ctx, "rematch progress", "phase", "changed", "people", st.Changed, "pair_jobs", st.PairJobs)
			prog.Cursor = page.Next
			if page.Next == "" {
				// The changed people's top ModelTop are all planned: the deferred pairs may have what
				// is left, then the changed people's band.
				if err := r.resume(ctx); err != nil {
					return st, err
				}
				r.queueNear()
				if err := r.flush(ctx); err != nil {
					return st, err
				}
				prog = progress{Phase: "slice", Cursor: state.Cursor}
			}
			if err := save(prog); err != nil {
				return st, err
			}
			if page.Next == "" {
				break
			}
		}
	}
	for prog.Done < n.cfg.Slice {
		page, err := n.store.ScanUsers(ctx, prog.Cursor, min(pageSize, n.cfg.Slice-prog.Done))
		if err != nil {
			return st, fmt.Errorf("scan users: %w", err)
		}
		for _, u := range page.Items {
			st.Slice++
			if err := r.candidates(ctx, u, nil); err != nil {
				return st, err
			}
		}
		if err := r.flush(ctx); err != nil {
			return st, err
		}
		prog.Done += len(page.Items)
		prog.Cursor = page.Next
		slog.InfoContext(ctx, "rematch progress", "phase", "slice", "people", prog.Done, "pair_jobs", st.PairJobs)
		if err := save(prog); err != nil {
			return st, err
		}
		if page.Next == "" {
			break // the slice wraps around: the next run starts from the beginning
		}
	}
	r.queueNear()
	if err := r.flush(ctx); err != nil {
		return st, err
	}
	err = n.store.PutJobState(ctx, store.JobState{Name: JobName, LastRun: start, Cursor: prog.Cursor, UpdatedAt: n.now().UTC()})
	if err != nil {
		return st, fmt.Errorf("save job state: %w", err)
	}
	slog.InfoContext(ctx, "rematch finished", "indexed", st.Indexed, "changed", st.Changed, "slice", st.Slice,
		"pair_jobs", st.PairJobs, "user_jobs", st.UserJobs, "deferred", st.Deferred, "over_budget", st.OverBudget,
		"model_pairs", r.planned, "resumed", st.Resumed)
	st.Finished = true
	return st, nil
}

// buildIndex reads every person once and indexes the discoverable ones under their terms.
func (n *Nightly) buildIndex(ctx context.Context) (*Index, error) {
	idx := NewIndex(n.cfg.MaxPosting)
	cursor := ""
	for {
		page, err := n.store.ScanUsers(ctx, cursor, pageSize)
		if err != nil {
			return nil, fmt.Errorf("scan users for the index: %w", err)
		}
		for _, u := range page.Items {
			if u.Discoverable {
				idx.Add(u.ID, IndexTerms(u, n.cfg.IndexTerms))
			}
		}
		if page.Next == "" {
			return idx, nil
		}
		cursor = page.Next
	}
}

// run is the state of one nightly run: the index, the pairs sent so far and the jobs waiting.
type run struct {
	n       *Nightly
	idx     *Index
	scratch *Scratch
	seen    map[[2]string]bool // pairs sent with the model part
	scored  map[[2]string]bool // pairs sent for the deterministic match only
	waiting [][]byte
	cands   []string
	near    [][2]string // pairs within the band of someone's top ModelTop, waiting for the phase's end
	stats   *Stats
	// capacity is how many pairs' model part the nightly budget pays for; planned is how many pair
	// jobs with the model part this run sent.
	capacity, planned int
}

// changed rematches a person whose profile changed: their index terms are refreshed in the store, and
// pair jobs wait for their candidates and their existing matches. A hidden person gets a user job,
// which removes their matches.
func (r *run) changed(ctx context.Context, u store.User) error {
	if !u.Discoverable {
		r.stats.UserJobs++
		r.waiting = append(r.waiting, UserJob(u.ID).Encode())
		return nil
	}
	if err := r.n.store.SetUserTerms(ctx, u.ID, IndexTerms(u, r.n.cfg.IndexTerms)); err != nil {
		return fmt.Errorf("index %s: %w", u.ID, err)
	}
	page, err := r.n.store.ListMatches(ctx, u.ID, "", r.n.cfg.K)
	if err != nil {
		return fmt.Errorf("list matches of %s: %w", u.ID, err)
	}
	matches := make([]string, 0, len(page.Items))
	for _, e := range page.Items {
		matches = append(matches, e.OtherID)
	}
	return r.candidates(ctx, u, matches)
}

// candidates queues the pair jobs of a person's top K candidates and of others (their existing
// matches): the top ModelTop of them by the deterministic score with the model part, the rest for
// the deterministic match only.
func (r *run) candidates(ctx context.Context, u store.User, others []string) error {
	r.cands = r.idx.Candidates(r.cands[:0], u.ID, r.n.cfg.K, r.scratch)
	for _, o := range others {
		if !slices.Contains(r.cands, o) {
			r.cands = append(r.cands, o)
		}
	}
	if len(r.cands) == 0 {
		return nil
	}
	top, near, err := topByScore(ctx, r.n.store, u, r.cands, r.n.cfg.ModelTop, r.n.cfg.ModelBand)
	if err != nil {
		return err
	}
	for _, c := range r.cands {
		if top[c] {
			r.queue(u.ID, c)
		} else {
			r.queueScoreOnly(u.ID, c)
		}
		if near[c] {
			r.near = append(r.near, [2]string{u.ID, c})
		}
	}
	return nil
}

// queueNear plans the model part of the pairs within the band of someone's top ModelTop
// (Config.ModelBand), after the top ModelTop of everyone the phase rematched. They were sent
// score-only already, so a run that fails before this point leaves them the deterministic score.
func (r *run) queueNear() {
	for _, p := range r.near {
		r.queue(p[0], p[1])
	}
	r.near = r.near[:0]
}

// queueScoreOnly adds the score-only job of a pair unless this run sent a job for it already.
func (r *run) queueScoreOnly(a, b string) {
	j := ScoreOnlyJob(a, b)
	key := [2]string{j.A, j.B}
	if r.seen[key] || r.scored[key] {
		return
	}
	r.scored[key] = true
	r.stats.PairJobs++
	r.stats.ScoreOnly++
	r.waiting = append(r.waiting, j.Encode())
}

// queue adds the job of a pair with the model part unless this run sent it already: while the
// night's plan has room, a pair job; beyond it, a deferring one (the pair waits for a later night if
// its match is stale). A pair sent for the deterministic match only and then found in someone's top
// ModelTop is sent again.
func (r *run) queue(a, b string) {
	j := PairJob(a, b)
	key := [2]string{j.A, j.B}
	if r.seen[key] {
		return
	}
	r.seen[key] = true
	r.stats.PairJobs++
	if r.planned < r.capacity {
		r.planned++
	} else {
		j.Defer = true
		r.stats.OverBudget++
	}
	r.waiting = append(r.waiting, j.Encode())
}

// flush sends the waiting jobs in batches of 10.
func (r *run) flush(ctx context.Context) error {
	if err := sendBatches(ctx, r.n.sender, r.waiting); err != nil {
		return fmt.Errorf("send %d jobs: %w", len(r.waiting), err)
	}
	r.waiting = nil // the queue may keep the slice it was given
	return nil
}
