package sqsqueue

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

const queueURL = "http://sqs.us-east-1.localhost/000000000000/compat"

// fakeSQS is an httptest server speaking the SQS JSON protocol for SendMessageBatch. It checks each
// request as SQS would, records the bodies of accepted entries, and fails entries as fail says.
type fakeSQS struct {
	tb testing.TB
	// fail decides the fate of an entry on its nth delivery (from 1): "" accepts it, otherwise the
	// error code; senderFault marks it the sender's fault.
	fail func(body string, nth int) (code string, senderFault bool)
	// missingQueue answers every call with QueueDoesNotExist.
	missingQueue bool

	mu       sync.Mutex
	calls    []int // entries per call
	accepted []string
	seen     map[string]int
}

func (f *fakeSQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if msg := f.check(r); msg != "" {
		f.tb.Errorf("bad SQS request: %s", msg)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#InvalidParameterValue","message":%q}`, msg)
		return
	}
	var in struct {
		QueueUrl string
		Entries  []struct{ Id, MessageBody string }
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		f.tb.Errorf("request body is not JSON: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if in.QueueUrl != queueURL {
		f.tb.Errorf("QueueUrl = %q, want %q", in.QueueUrl, queueURL)
	}
	if n := len(in.Entries); n < 1 || n > 10 {
		f.tb.Errorf("a batch of %d entries; SQS takes 1 to 10", n)
	}
	f.calls = append(f.calls, len(in.Entries))
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if f.missingQueue {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."}`)
		return
	}
	type ok struct{ Id, MessageId, MD5OfMessageBody string }
	type failed struct {
		Id, Code, Message string
		SenderFault       bool
	}
	out := struct {
		Successful []ok     `json:"Successful"`
		Failed     []failed `json:"Failed"`
	}{Successful: []ok{}, Failed: []failed{}}
	ids := map[string]bool{}
	for _, e := range in.Entries {
		if ids[e.Id] {
			f.tb.Errorf("entry id %q twice in one batch", e.Id)
		}
		ids[e.Id] = true
		f.seen[e.MessageBody]++
		if f.fail != nil {
			if code, sender := f.fail(e.MessageBody, f.seen[e.MessageBody]); code != "" {
				out.Failed = append(out.Failed, failed{Id: e.Id, Code: code, Message: "refused by the fake", SenderFault: sender})
				continue
			}
		}
		f.accepted = append(f.accepted, e.MessageBody)
		sum := md5.Sum([]byte(e.MessageBody))
		out.Successful = append(out.Successful, ok{Id: e.Id, MessageId: fmt.Sprintf("m-%d", len(f.accepted)), MD5OfMessageBody: hex.EncodeToString(sum[:])})
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		f.tb.Errorf("encode response: %v", err)
	}
}

// check returns what is wrong with the framing of a request, "" if nothing.
func (f *fakeSQS) check(r *http.Request) string {
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		return "want POST /, got " + r.Method + " " + r.URL.Path
	case r.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessageBatch":
		return "X-Amz-Target = " + r.Header.Get("X-Amz-Target")
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.0":
		return "Content-Type = " + r.Header.Get("Content-Type")
	case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=test/"):
		return "not signed with SigV4: " + r.Header.Get("Authorization")
	}
	return ""
}

// newQueue starts a fake SQS and returns a Queue sending to it with a real SQS client.
func newQueue(tb testing.TB, f *fakeSQS) *Queue {
	tb.Helper()
	f.tb = tb
	f.seen = map[string]int{}
	srv := httptest.NewServer(f)
	tb.Cleanup(srv.Close)
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	q := New(client, queueURL)
	q.backoff = time.Millisecond
	return q
}

func bodies(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"job":%d}`, i)
	}
	return out
}

func TestSend(t *testing.T) {
	tests := []struct {
		name         string
		jobs         int
		fail         func(body string, nth int) (string, bool)
		missingQueue bool
		wantCalls    []int
		wantAccepted int
		wantErr      string // substring; "" for success
	}{
		{name: "no jobs, no call", jobs: 0},
		{name: "one job", jobs: 1, wantCalls: []int{1}, wantAccepted: 1},
		{name: "ten jobs fill one batch", jobs: 10, wantCalls: []int{10}, wantAccepted: 10},
		{name: "25 jobs go in batches of 10, 10 and 5", jobs: 25, wantCalls: []int{10, 10, 5}, wantAccepted: 25},
		{
			name: "a retryable failure is resent alone and succeeds",
			jobs: 12,
			fail: func(body string, nth int) (string, bool) {
				if body == `{"job":3}` && nth == 1 {
					return "InternalError", false
				}
				return "", false
			},
			wantCalls:    []int{10, 1, 2},
			wantAccepted: 12,
		},
		{
			name: "a failure on every try is reported after 3 tries",
			jobs: 4,
			fail: func(body string, nth int) (string, bool) {
				if body == `{"job":2}` {
					return "ServiceUnavailable", false
				}
				return "", false
			},
			wantCalls:    []int{4, 1, 1},
			wantAccepted: 3,
			wantErr:      "job 2: ServiceUnavailable",
		},
		{
			name: "a sender fault is not resent, the retryable rest is",
			jobs: 5,
			fail: func(body string, nth int) (string, bool) {
				switch {
				case body == `{"job":1}`:
					return "InvalidMessageContents", true
				case body == `{"job":4}` && nth == 1:
					return "InternalError", false
				}
				return "", false
			},
			wantCalls:    []int{5, 1},
			wantAccepted: 4,
			wantErr:      "job 1: InvalidMessageContents",
		},
		{
			name:         "a missing queue fails the call",
			jobs:         3,
			missingQueue: true,
			wantCalls:    []int{3},
			wantErr:      "QueueDoesNotExist",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSQS{fail: tt.fail, missingQueue: tt.missingQueue}
			q := newQueue(t, f)
			err := q.Send(context.Background(), bodies(tt.jobs)...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Send = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Send = %v, want an error containing %q", err, tt.wantErr)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if got, want := fmt.Sprint(f.calls), fmt.Sprint(tt.wantCalls); (len(f.calls) > 0 || len(tt.wantCalls) > 0) && got != want {
				t.Errorf("entries per call = %s, want %s", got, want)
			}
			if got := len(f.accepted); got != tt.wantAccepted {
				t.Errorf("accepted %d jobs, want %d", got, tt.wantAccepted)
			}
			once := map[string]bool{}
			for _, b := range f.accepted {
				if once[b] {
					t.Errorf("job %s accepted twice", b)
				}
				once[b] = true
			}
		})
	}
}

func TestSendStopsWhenTheContextEnds(t *testing.T) {
	f := &fakeSQS{fail: func(string, int) (string, bool) { return "InternalError", false }}
	q := newQueue(t, f)
	q.backoff = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := q.Send(ctx, bodies(25)...)
	if err == nil || !strings.Contains(err.Error(), context.DeadlineExceeded.Error()) {
		t.Fatalf("Send = %v, want the context's deadline", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) != 1 {
		t.Errorf("calls = %v, want 1: no further batch once the context ended", f.calls)
	}
}
