package rematch

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/secondme/twin/pkg/queue"
)

// KindShard is the kind of a nightly fan-out task (Fanout).
const KindShard = "shard"

// Phases of a nightly run.
const (
	// PhaseChanged rematches the people whose profile changed since the last run.
	PhaseChanged = "changed"
	// PhaseSlice rematches the rolling slice of everyone else.
	PhaseSlice = "slice"
)

// ShardTask is one message of the nightly fan-out: where the run is, and what it planned so far.
type ShardTask struct {
	Kind string `json:"kind"`
	// Run is when the run started (its name); Since is the last finished run's start.
	Run   time.Time `json:"run"`
	Since time.Time `json:"since"`
	Phase string    `json:"phase"`
	// Cursor is where the phase's listing continues ("" at its start).
	Cursor string `json:"cursor,omitempty"`
	// Seq numbers the tasks of a run; Done counts the people of the slice done; Planned counts the
	// pair jobs with the model part sent so far, against the nightly budget.
	Seq     int `json:"seq"`
	Done    int `json:"done"`
	Planned int `json:"planned"`
}

// Encode returns the task as a message body.
func (t ShardTask) Encode() []byte {
	b, _ := json.Marshal(t) // strings, ints and times always marshal
	return b
}

// IsShardTask reports whether a message body claims to be a shard task (its kind is "shard"); the
// job queue's handler routes it to the fan-out, whose DecodeShardTask then checks it.
func IsShardTask(body []byte) bool {
	return queue.Kind(body, maxTaskBytes) == KindShard
}

// maxTaskBytes bounds a task body; real ones are under 400 bytes.
const maxTaskBytes = 2048

// maxCursor bounds a task's cursor (the stores' cursors are under 300 bytes).
const maxCursor = 1024

// DecodeShardTask reads a message body strictly: one JSON object of kind "shard" with exactly the
// task's fields, a run after its since, a known phase, a printable cursor, counts that are not
// negative and a slice cursor only in the slice phase. Any other body is ErrBadJob.
func DecodeShardTask(body []byte) (ShardTask, error) {
	var t ShardTask
	if err := queue.Decode(body, maxTaskBytes, &t); err != nil {
		return ShardTask{}, fmt.Errorf("%w: %v", ErrBadJob, err)
	}
	// Times are kept in UTC, so that a task encodes back to what was decoded.
	t.Run, t.Since = t.Run.UTC(), t.Since.UTC()
	switch {
	case t.Kind != KindShard:
		return ShardTask{}, fmt.Errorf("%w: kind %q is not %q", ErrBadJob, t.Kind, KindShard)
	case t.Run.IsZero() || t.Since.After(t.Run) || t.Run.Year() > 9999 || t.Since.Year() < 1:
		return ShardTask{}, fmt.Errorf("%w: run must be a time after since", ErrBadJob)
	case t.Phase != PhaseChanged && t.Phase != PhaseSlice:
		return ShardTask{}, fmt.Errorf("%w: unknown phase %q", ErrBadJob, t.Phase)
	case t.Seq < 0 || t.Done < 0 || t.Planned < 0:
		return ShardTask{}, fmt.Errorf("%w: seq, done and planned must not be negative", ErrBadJob)
	case t.Phase == PhaseChanged && t.Done != 0:
		return ShardTask{}, fmt.Errorf("%w: done counts the slice only", ErrBadJob)
	case len(t.Cursor) > maxCursor || !printable(t.Cursor):
		return ShardTask{}, fmt.Errorf("%w: cursor must be printable ASCII, at most %d bytes", ErrBadJob, maxCursor)
	}
	return t, nil
}

// printable reports whether s is printable ASCII.
func printable(s string) bool {
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
