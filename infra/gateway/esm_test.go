package main

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/secondme/twin/pkg/awstest"
)

// esmQueue serves an SQS fake with the queues and returns a client of it and its endpoint.
func esmQueue(t *testing.T, queues ...awstest.QueueConfig) (*awstest.SQS, *sqs.Client, string) {
	t.Helper()
	f := awstest.NewSQS(queues...)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("gateway", "gateway", "")})
	return f, c, srv.URL
}

func send(t *testing.T, c *sqs.Client, url string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
}

// runPoll runs m.poll until stop is called, which waits until poll has returned.
func runPoll(m sqsMapping, c *sqs.Client, invoke func(ctx context.Context, event []byte) ([]byte, error)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.poll(ctx, c, invoke); close(done) }()
	return func() { cancel(); <-done }
}

// eventually waits up to 5 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func decodeEvent(t *testing.T, event []byte) events.SQSEvent {
	t.Helper()
	var e events.SQSEvent
	if err := json.Unmarshal(event, &e); err != nil {
		t.Fatalf("event %s: %v", event, err)
	}
	return e
}

func TestESMEventIsLambdas(t *testing.T) {
	_, c, ep := esmQueue(t, awstest.QueueConfig{Name: "jobs"})
	url := awstest.QueueURL(ep, "jobs")
	before := time.Now().UnixMilli()
	send(t, c, url, `{"job":1}`)
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("tagged"),
		MessageAttributes: map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("pair")}}}); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	stop := runPoll(sqsMapping{QueueURL: url, BatchSize: 10, QueueARN: awstest.QueueARN("jobs")}, c, func(_ context.Context, event []byte) ([]byte, error) {
		got <- event
		return nil, nil
	})
	defer stop()
	raw := <-got

	e := decodeEvent(t, raw)
	if len(e.Records) != 2 {
		t.Fatalf("%d records, want 2: %s", len(e.Records), raw)
	}
	r := e.Records[0]
	if r.Body != `{"job":1}` || r.EventSource != "aws:sqs" || r.EventSourceARN != awstest.QueueARN("jobs") || r.AWSRegion != "us-east-1" ||
		r.MessageId == "" || r.ReceiptHandle == "" || r.Md5OfBody != fmt.Sprintf("%x", md5.Sum([]byte(r.Body))) {
		t.Errorf("record %+v", r)
	}
	if r.Attributes["ApproximateReceiveCount"] != "1" || r.Attributes["SenderId"] != "gateway" {
		t.Errorf("attributes %v", r.Attributes)
	}
	for _, k := range []string{"SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
		var ms int64
		if _, err := fmt.Sscan(r.Attributes[k], &ms); err != nil || ms < before {
			t.Errorf("%s = %q, want epoch milliseconds", k, r.Attributes[k])
		}
	}
	tagged := e.Records[1]
	if a := tagged.MessageAttributes["kind"]; aws.ToString(a.StringValue) != "pair" || a.DataType != "String" || tagged.Md5OfMessageAttributes == "" {
		t.Errorf("message attributes %+v (md5 %q)", tagged.MessageAttributes, tagged.Md5OfMessageAttributes)
	}
	// As Lambda writes it: messageAttributes always an object, list values as empty lists, and no
	// md5OfMessageAttributes for a message without attributes.
	var rawRecords struct{ Records []map[string]json.RawMessage }
	if err := json.Unmarshal(raw, &rawRecords); err != nil {
		t.Fatal(err)
	}
	if first := rawRecords.Records[0]; string(first["messageAttributes"]) != "{}" || first["md5OfMessageAttributes"] != nil {
		t.Errorf("record without attributes: messageAttributes %s, md5OfMessageAttributes %s", first["messageAttributes"], first["md5OfMessageAttributes"])
	}
	if !strings.Contains(string(rawRecords.Records[1]["messageAttributes"]), `"stringListValues":[],"binaryListValues":[],"dataType":"String"`) {
		t.Errorf("message attribute as written: %s", rawRecords.Records[1]["messageAttributes"])
	}
}

func TestESMDeletesWhatTheFunctionHandled(t *testing.T) {
	const bad = "bad" // the body of the message a function reports as failed
	failedOf := func(e events.SQSEvent) string {
		for _, r := range e.Records {
			if r.Body == bad {
				return r.MessageId
			}
		}
		return ""
	}
	tests := []struct {
		name         string
		report       bool
		answer       func(e events.SQSEvent) string
		err          error
		wantInFlight int // of 3 messages
	}{
		{"success deletes the batch", false, func(events.SQSEvent) string { return "" }, nil, 0},
		{"without ReportBatchItemFailures the answer is ignored", false, func(e events.SQSEvent) string {
			return `{"batchItemFailures":[{"itemIdentifier":"` + failedOf(e) + `"}]}`
		}, nil, 0},
		{"an invocation error deletes nothing", true, func(events.SQSEvent) string { return "" }, errors.New("function error"), 3},
		{"a reported failure keeps just that message", true, func(e events.SQSEvent) string {
			return `{"batchItemFailures":[{"itemIdentifier":"` + failedOf(e) + `"}]}`
		}, nil, 1},
		{"an empty list of failures deletes the batch", true, func(events.SQSEvent) string { return `{"batchItemFailures":[]}` }, nil, 0},
		{"a null list of failures deletes the batch", true, func(events.SQSEvent) string { return `{"batchItemFailures":null}` }, nil, 0},
		{"a null answer deletes the batch", true, func(events.SQSEvent) string { return `null` }, nil, 0},
		{"an empty object deletes the batch", true, func(events.SQSEvent) string { return `{}` }, nil, 0},
		{"an unknown message id fails the batch", true, func(events.SQSEvent) string {
			return `{"batchItemFailures":[{"itemIdentifier":"not-in-the-batch"}]}`
		}, nil, 3},
		{"an empty itemIdentifier fails the batch", true, func(events.SQSEvent) string { return `{"batchItemFailures":[{"itemIdentifier":""}]}` }, nil, 3},
		{"a null itemIdentifier fails the batch", true, func(events.SQSEvent) string { return `{"batchItemFailures":[{"itemIdentifier":null}]}` }, nil, 3},
		{"a misspelt key fails the batch", true, func(e events.SQSEvent) string {
			return `{"batchItemFailures":[{"itemId":"` + failedOf(e) + `"}]}`
		}, nil, 3},
		{"an answer that is not JSON fails the batch", true, func(events.SQSEvent) string { return `ok` }, nil, 3},
		{"a list of failures that is not a list fails the batch", true, func(events.SQSEvent) string { return `{"batchItemFailures":{}}` }, nil, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c, ep := esmQueue(t, awstest.QueueConfig{Name: "jobs"}) // 30 s visibility: nothing comes back during the test
			url := awstest.QueueURL(ep, "jobs")
			send(t, c, url, "one", bad, "three")
			var calls atomic.Int32
			stop := runPoll(sqsMapping{QueueURL: url, BatchSize: 10, ReportBatchItemFailures: tt.report, QueueARN: awstest.QueueARN("jobs")}, c,
				func(_ context.Context, event []byte) ([]byte, error) {
					calls.Add(1)
					e := decodeEvent(t, event)
					if len(e.Records) != 3 {
						t.Errorf("batch of %d, want the 3 messages", len(e.Records))
					}
					return []byte(tt.answer(e)), tt.err
				})
			eventually(t, "the invocation", func() bool { return calls.Load() == 1 })
			stop() // waits for the batch to be done with
			if v, n := f.Len("jobs"); v != 0 || n != tt.wantInFlight {
				t.Errorf("after the batch: %d visible, %d in flight; want 0, %d", v, n, tt.wantInFlight)
			}
		})
	}
}

func TestESMRedrivesToTheDLQ(t *testing.T) {
	f, c, ep := esmQueue(t,
		awstest.QueueConfig{Name: "jobs", VisibilityTimeout: 50 * time.Millisecond, MaxReceiveCount: 3, DeadLetterQueue: "jobs-dlq"},
		awstest.QueueConfig{Name: "jobs-dlq"})
	url := awstest.QueueURL(ep, "jobs")
	send(t, c, url, "poison")
	var mu sync.Mutex
	var counts []string
	stop := runPoll(sqsMapping{QueueURL: url, BatchSize: 10, ReportBatchItemFailures: true, QueueARN: awstest.QueueARN("jobs")}, c,
		func(_ context.Context, event []byte) ([]byte, error) {
			e := decodeEvent(t, event)
			mu.Lock()
			defer mu.Unlock()
			for _, r := range e.Records {
				counts = append(counts, r.Attributes["ApproximateReceiveCount"])
			}
			return nil, errors.New("always fails")
		})
	eventually(t, "the message in the DLQ", func() bool { v, _ := f.Len("jobs-dlq"); return v == 1 })
	stop()
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(counts, ","); got != "1,2,3" {
		t.Errorf("deliveries with receive counts %s, want 1,2,3 then the DLQ", got)
	}
	if v, n := f.Len("jobs"); v+n != 0 {
		t.Errorf("the queue still holds %d visible, %d in flight", v, n)
	}
}

func TestESMConcurrencyIsBounded(t *testing.T) {
	f, c, ep := esmQueue(t, awstest.QueueConfig{Name: "jobs"})
	url := awstest.QueueURL(ep, "jobs")
	send(t, c, url, "1", "2", "3", "4", "5", "6")
	release := make(chan struct{})
	var inFlight, most, calls atomic.Int32
	stop := runPoll(sqsMapping{QueueURL: url, BatchSize: 1, MaxConcurrency: 2, QueueARN: awstest.QueueARN("jobs")}, c,
		func(context.Context, []byte) ([]byte, error) {
			n := inFlight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			calls.Add(1)
			<-release
			inFlight.Add(-1)
			return nil, nil
		})
	eventually(t, "two invocations", func() bool { return calls.Load() == 2 })
	time.Sleep(200 * time.Millisecond) // room for a third, which must not come
	if got := calls.Load(); got != 2 {
		t.Errorf("%d invocations while two were running, want 2 (MaxConcurrency)", got)
	}
	if v, n := f.Len("jobs"); v != 4 || n != 2 {
		t.Errorf("%d visible, %d in flight; want 4, 2: no message received before a slot is free", v, n)
	}
	close(release)
	eventually(t, "every message handled", func() bool { v, n := f.Len("jobs"); return v+n == 0 })
	stop()
	if most.Load() != 2 || calls.Load() != 6 {
		t.Errorf("at most %d in flight over %d invocations, want 2 and 6", most.Load(), calls.Load())
	}
}

func TestESMBatchingWindow(t *testing.T) {
	tests := []struct {
		name       string
		window     time.Duration
		wantSizes  string
		minElapsed time.Duration
	}{
		{"without a window the first receive is the batch", 0, "1,2", 0},
		{"a window gathers what comes within it", time.Second, "3", 900 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c, ep := esmQueue(t, awstest.QueueConfig{Name: "jobs"})
			url := awstest.QueueURL(ep, "jobs")
			var mu sync.Mutex
			var sizes []string
			var firstAt, lastAt time.Time
			send(t, c, url, "first")
			stop := runPoll(sqsMapping{QueueURL: url, BatchSize: 5, Window: tt.window, QueueARN: awstest.QueueARN("jobs")}, c,
				func(_ context.Context, event []byte) ([]byte, error) {
					mu.Lock()
					defer mu.Unlock()
					sizes = append(sizes, fmt.Sprint(len(decodeEvent(t, event).Records)))
					lastAt = time.Now()
					return nil, nil
				})
			firstAt = time.Now()
			time.Sleep(300 * time.Millisecond)
			if _, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: []types.SendMessageBatchRequestEntry{
				{Id: aws.String("2"), MessageBody: aws.String("second")}, {Id: aws.String("3"), MessageBody: aws.String("third")},
			}}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "all three messages", func() bool {
				mu.Lock()
				defer mu.Unlock()
				n := 0
				for _, s := range sizes {
					var k int
					fmt.Sscan(s, &k)
					n += k
				}
				return n == 3
			})
			stop()
			mu.Lock()
			defer mu.Unlock()
			if got := strings.Join(sizes, ","); got != tt.wantSizes {
				t.Errorf("batch sizes %s, want %s", got, tt.wantSizes)
			}
			if elapsed := lastAt.Sub(firstAt); elapsed < tt.minElapsed {
				t.Errorf("the batch came after %s, want at least %s", elapsed, tt.minElapsed)
			}
		})
	}
}
