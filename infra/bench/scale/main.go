// Command scale prints the "Scale simulation" section of docs/benchmarks.md: the nightly fan-out
// (pkg/rematch Fanout, the real code) over a synthetic population of 1,000,000 people against a
// store that adds a DynamoDB call's latency to a simulated clock and counts the capacity units each
// call would be billed, per key; and a partition-heat simulation that replays the access-pattern mix
// at the peak rates of scenarios A (1 M people) and B (10 M people) and reports the hottest key's
// units per second against DynamoDB's per-partition limits. Time is simulated, not slept: the run
// takes minutes on a laptop. See docs/scale.md for the scenarios.
//
// Run it from the repository root: go run ./infra/bench/scale [-people 1000000].
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secondme/twin/pkg/rematch"
)

func main() {
	people := flag.Int("people", 1_000_000, "synthetic people in the store")
	shard := flag.Int("shard", rematch.DefaultShardPeople, "people per shard task")
	flag.Parse()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := run(os.Stdout, *people, *shard); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, people, shard int) error {
	fmt.Fprintln(w, "## Scale simulation")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Written by infra/bench/scale (docs/scale.md reads these figures). Simulated time: each DynamoDB call")
	fmt.Fprintf(w, "adds %v and each SQS SendMessageBatch %v to the task's clock; CPU time is measured. Units are what\n", dynamoLatency, sqsLatency)
	fmt.Fprintln(w, "DynamoDB on-demand would bill (4 KB a read unit, halved when eventually consistent; 1 KB a write unit).")
	fmt.Fprintf(w, "Run on %s: %s, %d cores, %s.\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), cpuName(), runtime.NumCPU(), runtime.Version())
	fmt.Fprintln(w)
	if err := fanout(w, people, shard); err != nil {
		return err
	}
	heat(w)
	return nil
}

// simQueue is the nightly queue: it keeps the shard tasks to run and counts the jobs and the
// SendMessageBatch requests, adding sqsLatency per request to the simulated clock.
type simQueue struct {
	mu       sync.Mutex
	tasks    [][]byte
	jobs     int
	model    int
	deferred int
	requests int
	clock    time.Duration
}

func (q *simQueue) Send(ctx context.Context, bodies ...[]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.requests++
	q.clock += sqsLatency
	for _, b := range bodies {
		if rematch.IsShardTask(b) {
			q.tasks = append(q.tasks, b)
			continue
		}
		j, err := rematch.DecodeJob(b)
		if err != nil {
			return err
		}
		q.jobs++
		switch {
		case j.Kind != rematch.KindPair || j.ScoreOnly:
		case j.Defer:
			q.deferred++
		default:
			q.model++
		}
	}
	return nil
}

func (q *simQueue) next() ([]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.tasks) == 0 {
		return nil, false
	}
	t := q.tasks[0]
	q.tasks = q.tasks[1:]
	return t, true
}

func (q *simQueue) take() time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.clock
	q.clock = 0
	return c
}

// taskFigures is what one shard task took.
type taskFigures struct {
	phase  string
	people int
	cpu    time.Duration
	io     time.Duration
	calls  int
	peak   uint64 // bytes of heap above the baseline, at the highest sample
}

// fanout runs one night of the fan-out over the population: 5% changed, and a rolling slice that
// reaches everyone in 30 nights.
func fanout(w io.Writer, people, shard int) error {
	ctx := context.Background()
	runAt := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	pop := &population{n: people, changeEvery: 20, changedAt: runAt.Add(-time.Hour), vocab: 50_000}
	st := newSimStore(pop)
	q := &simQueue{}
	cfg := rematch.NightlyConfig{Slice: (people + 29) / 30, Now: func() time.Time { return runAt }}
	f := rematch.NewFanout(st, q, cfg, shard)
	if _, err := f.Plan(ctx); err != nil {
		return err
	}
	st.take()
	q.take()
	var tasks []taskFigures
	start := time.Now()
	for {
		body, ok := q.next()
		if !ok {
			break
		}
		task, err := rematch.DecodeShardTask(body)
		if err != nil {
			return err
		}
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peak atomic.Uint64
		done := make(chan struct{})
		go sample(base.HeapAlloc, &peak, done)
		t0 := time.Now()
		stats, err := f.Shard(ctx, task)
		cpu := time.Since(t0)
		close(done)
		if err != nil {
			return fmt.Errorf("task %d: %w", task.Seq, err)
		}
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if after.HeapAlloc > base.HeapAlloc && after.HeapAlloc-base.HeapAlloc > peak.Load() {
			peak.Store(after.HeapAlloc - base.HeapAlloc)
		}
		sio, calls := st.take()
		tasks = append(tasks, taskFigures{phase: task.Phase, people: stats.Changed + stats.Slice, cpu: cpu, io: sio + q.take(), calls: calls, peak: peak.Load()})
	}
	elapsed := time.Since(start)

	fmt.Fprintf(w, "### Nightly fan-out over %d people\n\n", people)
	fmt.Fprintf(w, "One night: %d changed people (5%%) and a rolling slice of %d (everyone in 30 nights), in shard tasks of\n", people/20, cfg.Slice)
	fmt.Fprintf(w, "at most %d people, run one after another as the chain runs them; K = %d candidates from the store's term\n", shard, rematch.DefaultK)
	fmt.Fprintf(w, "index (%d terms a person, lookups of %d). This run took %s of this machine's time.\n\n", rematch.DefaultIndexTerms, rematch.DefaultTermLookup, elapsed.Round(time.Second))
	fmt.Fprintln(w, "| phase | tasks | people a task | wall a task, max (CPU + calls) | store calls a task, max | peak heap a task, max |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	var night time.Duration
	for _, phase := range []string{rematch.PhaseChanged, rematch.PhaseSlice} {
		var n, most, calls int
		var wall time.Duration
		var peak uint64
		for _, t := range tasks {
			if t.phase != phase {
				continue
			}
			n++
			most = max(most, t.people)
			calls = max(calls, t.calls)
			wall = max(wall, t.cpu+t.io)
			peak = max(peak, t.peak)
			night += t.cpu + t.io
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.1f s | %d | %.1f MB |\n", phase, n, most, wall.Seconds(), calls, float64(peak)/1e6)
	}
	reads, writes := total(st.rcu), total(st.wcu)
	hr, hrUnits := hottest(st.rcu, userKey)
	hw, hwUnits := hottest(st.wcu, userKey)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- The night's chain: %d tasks, %.0f min of simulated wall time in all (each task alone is what must fit the compat worker's 60 s timeout).\n", len(tasks), night.Minutes())
	fmt.Fprintf(w, "- Units: %.0f read and %.0f write units (on-demand: $%.2f), %d SQS requests for %d pair jobs ($%.2f);\n",
		reads, writes, reads*readPrice+writes*writePrice, q.requests, q.jobs, float64(q.requests)*sqsPrice)
	fmt.Fprintf(w, "  %d with the model part (the nightly budget's %d pairs), %d deferring.\n", q.model, rematch.DefaultNightlyCalls/rematch.DefaultCallsPerPair, q.deferred)
	fmt.Fprintf(w, "- Hottest keys of the night: reads %s %.0f units (%.1f a second over the night), writes %s %.0f units.\n\n",
		hr, hrUnits, hrUnits/night.Seconds(), hw, hwUnits)
	return nil
}

// sample records the highest heap above base until done is closed.
func sample(base uint64, peak *atomic.Uint64, done chan struct{}) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	var m runtime.MemStats
	for {
		select {
		case <-done:
			return
		case <-t.C:
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
		}
	}
}

// On-demand prices (us-east-1, per unit and per request).
const (
	readPrice  = 0.125 / 1e6
	writePrice = 0.625 / 1e6
	sqsPrice   = 0.40 / 1e6
)

// cpuName is the processor's model name (Linux), else the architecture.
func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
			}
		}
	}
	return runtime.GOARCH
}
