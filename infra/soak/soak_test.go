package main

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"
)

// TestShortSoak is the short soak that make test runs: 1,000 turns from 64 clients over 16 people, 10
// retries after the answer, one retry while the first try runs, one kill -9 with a restart on the same
// data, and one SIGTERM under load. Nothing acknowledged may be lost or duplicated, no answer may be a
// 5xx, and the drain must answer every request in flight at SIGTERM.
func TestShortSoak(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{People: 16, Clients: 64, Turns: 1000, RetryAfter: 10, RetryInFlight: 1,
		KillAfter: 100, TermAfter: 100, Pace: 5 * time.Millisecond, Dir: t.TempDir(), Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	var sec bytes.Buffer
	section(&sec, res)
	t.Log("\n" + sec.String())
	for _, f := range res.Failures() {
		t.Error(f)
	}
	if got := res.last().Acked; got < 1000 {
		t.Errorf("%d turns acknowledged, want at least the 1,000 of the load", got)
	}
	if res.Races != 1 || res.KillInterrupted == 0 {
		t.Errorf("races %d, turns interrupted by the kill %d: a phase did not run as planned", res.Races, res.KillInterrupted)
	}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// TestFailures checks that each missed target is reported, and that a clean run reports none.
func TestFailures(t *testing.T) {
	clean := func() *Result {
		return &Result{Checks: []Check{{After: "load", Acked: 10, Messages: 20}}, Statuses: map[int]int{200: 10},
			RetryAfterSent: 2, RetryAfterReplayed: 2, raceRan: true, Races: 1, Overlapped: 1, RaceConflicts: 1,
			termRan: true, TermInFlight: 3, TermFinished: 3, TermExit: "exit 0", FinalExit: "exit 0", WALPeak: 1 << 20}
	}
	for _, tc := range []struct {
		name  string
		spoil func(r *Result)
	}{
		{"lost message", func(r *Result) { r.Checks[0].LostMessages = 1 }},
		{"lost reply", func(r *Result) { r.Checks[0].LostReplies = 1 }},
		{"duplicate reply", func(r *Result) { r.Checks[0].Duplicates = 1 }},
		{"a 5xx", func(r *Result) { r.Statuses[502] = 1 }},
		{"an answer the phase does not allow", func(r *Result) { r.Unexpected = []string{"load: 429"} }},
		{"a retry after the answer not replayed", func(r *Result) { r.RetryAfterReplayed = 1 }},
		{"a second reply in flight", func(r *Result) { r.RaceSecondReply = 1 }},
		{"a turn held after kill -9 and a restart", func(r *Result) { r.KillRetryHeld = 1 }},
		{"no retry overlapped", func(r *Result) { r.Overlapped = 0 }},
		{"a request cut by the drain", func(r *Result) { r.TermCut = 1 }},
		{"nothing in flight at SIGTERM", func(r *Result) { r.TermInFlight = 0 }},
		{"SIGTERM exit status", func(r *Result) { r.TermExit = "exit 1" }},
		{"final exit status", func(r *Result) { r.FinalExit = "signal: killed" }},
		{"write-ahead log over its bound", func(r *Result) { r.WALPeak = walLimit + 1 }},
	} {
		r := clean()
		tc.spoil(r)
		if f := r.Failures(); len(f) != 1 {
			t.Errorf("%s: failures %q, want one", tc.name, f)
		}
	}
	if f := clean().Failures(); len(f) != 0 {
		t.Errorf("a clean run: failures %q", f)
	}
}

// TestWriteSection checks that the Soak section is replaced in place, before the next section, or
// appended when there is none.
func TestWriteSection(t *testing.T) {
	path := t.TempDir() + "/b.md"
	for _, tc := range []struct{ before, want string }{
		{"# B\n\n## Chat\n\nx\n", "# B\n\n## Chat\n\nx\n\n## Soak\n\nnew\n"},
		{"# B\n\n## Soak\n\nold\n", "# B\n\n## Soak\n\nnew\n"},
		{"# B\n\n## Soak\n\nold\n\n## Lambda\n\ny\n", "# B\n\n## Soak\n\nnew\n\n## Lambda\n\ny\n"},
	} {
		if err := os.WriteFile(path, []byte(tc.before), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := writeSection(path, []byte("## Soak\n\nnew\n")); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != tc.want {
			t.Errorf("from %q: got %q, want %q", tc.before, got, tc.want)
		}
	}
}
