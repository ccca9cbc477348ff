// Package rematch keeps matches fresh: the jobs of the compat queue (one pair, or one person's
// rematch), the CompatWorker that runs them, candidate generation from an index over shade topics, and the
// nightly run that fans jobs out.
package rematch

import (
	"encoding/json"
	"fmt"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/queue"
)

// Kinds of job.
const (
	// KindPair computes (or removes) the match of two people.
	KindPair = "pair"
	// KindUser rematches one person: indexes their terms and fans out pair jobs for their candidates.
	KindUser = "user"
)

// ErrBadJob means a job body is not a compat job (queue.ErrBadJob): not JSON, an unknown kind or
// field, bad ids.
var ErrBadJob = queue.ErrBadJob

// Job is one message of the compat queue.
type Job struct {
	Kind string `json:"kind"`
	// A and B are the pair of a pair job, A < B.
	A string `json:"a,omitempty"`
	B string `json:"b,omitempty"`
	// User is the person of a user job.
	User string `json:"user,omitempty"`
	// By is, on a pair job, the person (A or B) whose edit or refresh asked for it: its model calls
	// count against their daily matching budget. Empty on the nightly's jobs, which the nightly
	// budget pays for.
	By string `json:"by,omitempty"`
	// Dirty marks, on a user job, the rematch sent for the end of a coalescing window (edits came in
	// while it was open); it opens the next window.
	Dirty bool `json:"dirty,omitempty"`
	// ScoreOnly marks, on a pair job, a pair outside the top M of the person whose candidates sent it:
	// it gets the deterministic match only (a current model match is kept), so the model part runs
	// where it changes the top of a list. On a user job, every pair it sends is score-only: the
	// first edit in a coalescing window, whose model part waits for the window's end.
	ScoreOnly bool `json:"scoreOnly,omitempty"`
	// Defer marks, on a nightly pair job, a pair of someone's top M that the night's plan had no
	// nightly budget left for: if its match is stale, the deterministic match is stored and the pair
	// deferred, for a later night. The changed people's pairs are planned first, so the slice's never
	// spend what theirs need, whatever order the queue delivers them in.
	Defer bool `json:"defer,omitempty"`
}

// PairJob returns the job of the pair of a and b, in canonical order (A < B).
func PairJob(a, b string) Job {
	if a > b {
		a, b = b, a
	}
	return Job{Kind: KindPair, A: a, B: b}
}

// ScoreOnlyJob returns the job of the pair of a and b that stores the deterministic match only.
func ScoreOnlyJob(a, b string) Job {
	j := PairJob(a, b)
	j.ScoreOnly = true
	return j
}

// PairJobBy returns the job of the pair of a and b asked for by by (a or b), whose matching budget
// pays for it.
func PairJobBy(a, b, by string) Job {
	j := PairJob(a, b)
	j.By = by
	return j
}

// ScoreOnlyUserJob returns the user job sent at a person's first edit in a coalescing window: their
// candidates and matches get the deterministic score at once, and the model part waits for the
// window's end (DirtyUserJob).
func ScoreOnlyUserJob(userID string) Job { return Job{Kind: KindUser, User: userID, ScoreOnly: true} }

// DirtyUserJob returns the user job sent for the end of a person's coalescing window.
func DirtyUserJob(userID string) Job { return Job{Kind: KindUser, User: userID, Dirty: true} }

// UserJob returns the job that rematches one person.
func UserJob(userID string) Job { return Job{Kind: KindUser, User: userID} }

// Encode returns the job as a message body.
func (j Job) Encode() []byte {
	b, _ := json.Marshal(j) // a struct of strings always marshals
	return b
}

// maxJobBytes bounds a job body; real ones are under 100 bytes.
const maxJobBytes = 1024

// DecodeJob reads a message body strictly: one JSON object with a known kind, exactly the fields of
// that kind, ids in our own format, and a pair of two different people. A pair given as B, A is put in
// canonical order. Any other body is ErrBadJob.
func DecodeJob(body []byte) (Job, error) {
	var j Job
	if err := queue.Decode(body, maxJobBytes, &j); err != nil {
		return Job{}, fmt.Errorf("%w: %v", ErrBadJob, err)
	}
	switch j.Kind {
	case KindPair:
		if !id.Valid(j.A) || !id.Valid(j.B) || j.User != "" || j.Dirty || j.Defer && (j.By != "" || j.ScoreOnly) {
			return Job{}, fmt.Errorf("%w: a pair job needs ids a and b, maybe by, scoreOnly or defer, and nothing else", ErrBadJob)
		}
		if j.A == j.B {
			return Job{}, fmt.Errorf("%w: a pair of one person", ErrBadJob)
		}
		if j.By != "" && j.By != j.A && j.By != j.B {
			return Job{}, fmt.Errorf("%w: by must be a or b", ErrBadJob)
		}
		p := PairJobBy(j.A, j.B, j.By)
		p.ScoreOnly, p.Defer = j.ScoreOnly, j.Defer
		return p, nil
	case KindUser:
		if !id.Valid(j.User) || j.A != "" || j.B != "" || j.By != "" || j.Defer || j.Dirty && j.ScoreOnly {
			return Job{}, fmt.Errorf("%w: a user job needs the id user, maybe dirty or scoreOnly, and nothing else", ErrBadJob)
		}
		return j, nil
	}
	return Job{}, fmt.Errorf("%w: unknown kind %q", ErrBadJob, j.Kind)
}
