// Package rematchtest holds test helpers for the functions that send compat jobs: an SQS fake
// (pkg/awstest) holding the compat queue, which also decodes every message sent as a job or a nightly
// shard task.
package rematchtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/secondme/twin/pkg/awstest"
	"github.com/secondme/twin/pkg/rematch"
)

// SQS is an SQS fake on 127.0.0.1 holding the compat queue.
type SQS struct {
	// URL is the endpoint (SQS_ENDPOINT); QueueURL is the queue's URL on it (COMPAT_QUEUE_URL).
	URL, QueueURL string

	fake    *awstest.SQS
	tb      testing.TB
	mu      sync.Mutex
	batches [][]rematch.Job
	tasks   []rematch.ShardTask
}

// NewSQS starts an SQS fake that stops when the test ends.
func NewSQS(tb testing.TB) *SQS {
	tb.Helper()
	f := &SQS{tb: tb, fake: awstest.NewSQS(awstest.QueueConfig{Name: "compat"})}
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	f.URL, f.QueueURL = srv.URL, awstest.QueueURL(srv.URL, "compat")
	return f
}

// Env returns the environment that points a function's boot.Queue at the fake.
func (f *SQS) Env() []string {
	return []string{"COMPAT_QUEUE_URL=" + f.QueueURL, "SQS_ENDPOINT=" + f.URL}
}

// ServeHTTP records the jobs and nightly shard tasks of every SendMessageBatch call to the compat
// queue, failing the test on a body that is neither, and hands the call to the fake. The functions
// send nothing else.
func (f *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if t := r.Header.Get("X-Amz-Target"); t != "AmazonSQS.SendMessageBatch" {
		f.tb.Errorf("fake SQS: unexpected call %s", t)
	}
	var in struct {
		QueueUrl string
		Entries  []struct{ MessageBody string }
	}
	if err := json.Unmarshal(body, &in); err == nil && in.QueueUrl == f.QueueURL {
		var batch []rematch.Job
		for _, e := range in.Entries {
			if rematch.IsShardTask([]byte(e.MessageBody)) {
				t, err := rematch.DecodeShardTask([]byte(e.MessageBody))
				if err != nil {
					f.tb.Errorf("fake SQS: sent a bad shard task %q: %v", e.MessageBody, err)
				}
				f.mu.Lock()
				f.tasks = append(f.tasks, t)
				f.mu.Unlock()
				continue
			}
			j, err := rematch.DecodeJob([]byte(e.MessageBody))
			if err != nil {
				f.tb.Errorf("fake SQS: sent a bad job %q: %v", e.MessageBody, err)
			}
			batch = append(batch, j)
		}
		if len(batch) > 0 {
			f.mu.Lock()
			f.batches = append(f.batches, batch)
			f.mu.Unlock()
		}
	}
	f.fake.ServeHTTP(w, r)
}

// Jobs returns every job sent so far, in order.
func (f *SQS) Jobs() []rematch.Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rematch.Job
	for _, b := range f.batches {
		out = append(out, b...)
	}
	return out
}

// Tasks returns every nightly shard task sent so far, in order.
func (f *SQS) Tasks() []rematch.ShardTask {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rematch.ShardTask(nil), f.tasks...)
}

// Batches returns the number of SendMessageBatch calls so far.
func (f *SQS) Batches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}
