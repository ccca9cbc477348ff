package sqsqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/secondme/twin/pkg/awstest"
)

// recorder counts the entries of every SendMessageBatch call on its way to the SQS fake.
type recorder struct {
	next http.Handler

	mu    sync.Mutex
	calls []int // entries per call
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in struct{ Entries []json.RawMessage }
	if r.Header.Get("X-Amz-Target") == "AmazonSQS.SendMessageBatch" && json.Unmarshal(body, &in) == nil {
		rec.mu.Lock()
		rec.calls = append(rec.calls, len(in.Entries))
		rec.mu.Unlock()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec.next.ServeHTTP(w, r)
}

// newQueue serves the SQS fake f and returns a Queue sending to its queue named queue
// with a real SQS client, and the recorder of its calls.
func newQueue(tb testing.TB, f *awstest.SQS, queue string) (*Queue, *recorder) {
	tb.Helper()
	rec := &recorder{next: f}
	srv := httptest.NewServer(rec)
	tb.Cleanup(srv.Close)
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	q := New(client, awstest.QueueURL(srv.URL, queue))
	q.backoff = time.Millisecond
	return q, rec
}

// drain receives every message of the queue q sends to and returns their bodies.
func drain(tb testing.TB, q *Queue) []string {
	tb.Helper()
	client := q.api.(*sqs.Client)
	var out []string
	for {
		got, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.url), MaxNumberOfMessages: 10})
		if err != nil {
			tb.Fatal(err)
		}
		if len(got.Messages) == 0 {
			return out
		}
		for _, m := range got.Messages {
			out = append(out, aws.ToString(m.Body))
		}
	}
}

func bodies(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"job":%d}`, i)
	}
	return out
}

func TestSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		jobs         int
		fail         func(body string, nth int) (string, bool)
		queue        string // "" for the fake's queue
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
			name:      "a missing queue fails the call",
			jobs:      3,
			queue:     "missing",
			wantCalls: []int{3},
			wantErr:   "The specified queue does not exist",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := awstest.NewSQS(awstest.QueueConfig{Name: "compat"})
			f.FailSend = tt.fail
			if tt.queue == "" {
				tt.queue = "compat"
			}
			q, rec := newQueue(t, f, tt.queue)
			err := q.Send(context.Background(), bodies(tt.jobs)...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Send = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Send = %v, want an error containing %q", err, tt.wantErr)
			}
			rec.mu.Lock()
			if got, want := fmt.Sprint(rec.calls), fmt.Sprint(tt.wantCalls); (len(rec.calls) > 0 || len(tt.wantCalls) > 0) && got != want {
				t.Errorf("entries per call = %s, want %s", got, want)
			}
			rec.mu.Unlock()
			if tt.queue != "compat" {
				return
			}
			accepted := drain(t, q)
			if got := len(accepted); got != tt.wantAccepted {
				t.Errorf("accepted %d jobs, want %d", got, tt.wantAccepted)
			}
			once := map[string]bool{}
			for _, b := range accepted {
				if once[b] {
					t.Errorf("job %s accepted twice", b)
				}
				once[b] = true
			}
		})
	}
}

func TestSendStopsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := awstest.NewSQS(awstest.QueueConfig{Name: "compat"})
	f.FailSend = func(string, int) (string, bool) { // the context ends while the first batch fails
		cancel()
		return "InternalError", false
	}
	q, rec := newQueue(t, f, "compat")
	q.backoff = time.Hour
	err := q.Send(ctx, bodies(25)...)
	if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Fatalf("Send = %v, want the context's end", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.calls) != 1 {
		t.Errorf("calls = %v, want 1: no further batch once the context ended", rec.calls)
	}
}
