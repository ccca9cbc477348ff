package main

import (
	"testing"

	"github.com/secondme/twin/pkg/rematch"
)

// TestEditBurstCostsOneModelPass runs the burst of the figure on a smaller population: 20 edits in
// 20 seconds by one person cost one model pass over their top M, at most 2 calls a pair (the target:
// at most 3·M in all).
func TestEditBurstCostsOneModelPass(t *testing.T) {
	m := rematch.DefaultModelTop
	b, err := editBurst(300, 20, m)
	if err != nil {
		t.Fatal(err)
	}
	if b.calls == 0 || b.calls > int64(rematch.DefaultCallsPerPair*m) {
		t.Errorf("20 edits cost %d model calls (%s), want 1 to %d", b.calls, b, rematch.DefaultCallsPerPair*m)
	}
	if b.userJobs != 2 {
		t.Errorf("20 edits queued %d user jobs, want 2 (one score-only at once, one for the window's end)", b.userJobs)
	}
	t.Logf("20 edits: %d model calls (%s), %d user jobs, %d pair jobs", b.calls, b, b.userJobs, b.pairJobs)
}
