// Package rematchtest holds test helpers for the functions that send compat jobs: a fake SQS endpoint
// that accepts SendMessageBatch (the SQS JSON protocol) and decodes what it receives as jobs.
package rematchtest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/secondme/twin/pkg/rematch"
)

// SQS is a fake SQS endpoint on 127.0.0.1 for the compat queue.
type SQS struct {
	// URL is the endpoint (SQS_ENDPOINT); QueueURL is the queue's URL on it (COMPAT_QUEUE_URL).
	URL, QueueURL string

	tb      testing.TB
	mu      sync.Mutex
	batches [][]rematch.Job
}

// NewSQS starts a fake SQS that stops when the test ends.
func NewSQS(tb testing.TB) *SQS {
	tb.Helper()
	f := &SQS{tb: tb}
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	f.URL, f.QueueURL = srv.URL, srv.URL+"/000000000000/compat"
	return f
}

// Env returns the environment that points a function's boot.Queue at the fake.
func (f *SQS) Env() []string {
	return []string{"COMPAT_QUEUE_URL=" + f.QueueURL, "SQS_ENDPOINT=" + f.URL}
}

// ServeHTTP accepts SendMessageBatch calls of 1 to 10 entries whose bodies are valid jobs.
func (f *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if t := r.Header.Get("X-Amz-Target"); r.Method != http.MethodPost || t != "AmazonSQS.SendMessageBatch" {
		f.tb.Errorf("fake SQS: unexpected %s %s (X-Amz-Target %q)", r.Method, r.URL.Path, t)
		http.Error(w, "unexpected call", http.StatusBadRequest)
		return
	}
	var in struct {
		QueueUrl string
		Entries  []struct{ Id, MessageBody string }
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.QueueUrl != f.QueueURL || len(in.Entries) < 1 || len(in.Entries) > 10 {
		f.tb.Errorf("fake SQS: bad SendMessageBatch (%v): queue %q, %d entries", err, in.QueueUrl, len(in.Entries))
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	type ok struct{ Id, MessageId, MD5OfMessageBody string }
	out := struct {
		Successful []ok  `json:"Successful"`
		Failed     []any `json:"Failed"`
	}{Successful: []ok{}, Failed: []any{}}
	var batch []rematch.Job
	for i, e := range in.Entries {
		j, err := rematch.DecodeJob([]byte(e.MessageBody))
		if err != nil {
			f.tb.Errorf("fake SQS: sent a bad job %q: %v", e.MessageBody, err)
		}
		batch = append(batch, j)
		sum := md5.Sum([]byte(e.MessageBody))
		out.Successful = append(out.Successful, ok{Id: e.Id, MessageId: fmt.Sprint("m-", i), MD5OfMessageBody: hex.EncodeToString(sum[:])})
	}
	f.mu.Lock()
	f.batches = append(f.batches, batch)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

// Jobs returns every job received so far, in order.
func (f *SQS) Jobs() []rematch.Job {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []rematch.Job
	for _, b := range f.batches {
		out = append(out, b...)
	}
	return out
}

// Batches returns the number of SendMessageBatch calls so far.
func (f *SQS) Batches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}
