package avatar

import (
	"encoding/json"
	"fmt"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/queue"
)

// ErrBadJob means a message body is not an avatar job (queue.ErrBadJob). Retrying it cannot help.
var ErrBadJob = fmt.Errorf("bad avatar job: %w", queue.ErrBadJob)

// maxJobBytes bounds a job body; real ones are about 120 bytes.
const maxJobBytes = 512

// Job is one avatar job on the queue.
type Job struct {
	Kind  string `json:"kind"`
	User  string `json:"user"`
	Job   string `json:"job"`
	Style string `json:"style"`
}

// Encode returns the job as a message body.
func (j Job) Encode() []byte {
	b, _ := json.Marshal(j) // a struct of strings always marshals
	return b
}

// IsJob reports whether a queue message is meant for the avatar service (its kind is KindAvatar),
// without checking the rest: DecodeJob does.
func IsJob(body []byte) bool {
	return queue.Kind(body, maxJobBytes) == KindAvatar
}

// DecodeJob reads a message body strictly: one JSON object of kind avatar with exactly its fields,
// ids in our format and a known style. Any other body is ErrBadJob.
func DecodeJob(body []byte) (Job, error) {
	var j Job
	if err := queue.Decode(body, maxJobBytes, &j); err != nil {
		return Job{}, fmt.Errorf("%w: %v", ErrBadJob, err)
	}
	if j.Kind != KindAvatar || !id.Valid(j.User) || !id.Valid(j.Job) {
		return Job{}, fmt.Errorf("%w: want kind avatar and the ids user and job", ErrBadJob)
	}
	if _, ok := styles[j.Style]; !ok {
		return Job{}, fmt.Errorf("%w: unknown style %q", ErrBadJob, j.Style)
	}
	return j, nil
}
