package awstest

import (
	"context"
	"errors"
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
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// sqsClient serves f on a test server and returns a real SQS client of it and the server's URL.
func sqsClient(t *testing.T, f *SQS) (*sqs.Client, string) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return sqs.New(sqs.Options{
		Region:       Region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	}), srv.URL
}

// errorCode returns the error code the SDK reports for err, "" for nil.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "not an API error: " + err.Error()
	}
	return ""
}

func TestSQSRefusesWhatSQSRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := NewSQS(QueueConfig{Name: "jobs"})
	c, ep := sqsClient(t, f)
	url := QueueURL(ep, "jobs")
	entries := func(n int, size int) []types.SendMessageBatchRequestEntry {
		out := make([]types.SendMessageBatchRequestEntry, n)
		for i := range out {
			out[i] = types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("e", i)), MessageBody: aws.String(strings.Repeat("x", size))}
		}
		return out
	}
	tests := []struct {
		name     string
		call     func() error
		wantCode string
	}{
		{"a queue that does not exist", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(QueueURL(ep, "nope")), MessageBody: aws.String("x")})
			var missing *types.QueueDoesNotExist
			if err != nil && !errors.As(err, &missing) {
				return fmt.Errorf("%w (not a QueueDoesNotExist)", err)
			}
			return err
		}, "AWS.SimpleQueueService.NonExistentQueue"},
		{"a queue of another account", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(ep + "/123456789012/jobs"), MessageBody: aws.String("x")})
			return err
		}, "AWS.SimpleQueueService.NonExistentQueue"},
		{"an empty body", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("")})
			return err
		}, "MissingParameter"},
		{"a body over 256 KiB", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(strings.Repeat("x", maxMessageSize+1))})
			return err
		}, "InvalidParameterValue"},
		{"a control character in the body", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("a\x00b")})
			return err
		}, "InvalidMessageContents"},
		{"a delay over 15 minutes", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"), DelaySeconds: 901})
			return err
		}, "InvalidParameterValue"},
		{"a message attribute of no known type", func() error {
			_, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("x"),
				MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("Date"), StringValue: aws.String("x")}}})
			return err
		}, "InvalidParameterValue"},
		{"an empty batch", func() error {
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{}})
			return err
		}, "AWS.SimpleQueueService.EmptyBatchRequest"},
		{"a batch of 11", func() error {
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries(11, 1)})
			return err
		}, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"},
		{"a batch id twice", func() error {
			e := entries(2, 1)
			e[1].Id = e[0].Id
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: e})
			return err
		}, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"},
		{"a batch id with a space", func() error {
			e := entries(1, 1)
			e[0].Id = aws.String("a b")
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: e})
			return err
		}, "AWS.SimpleQueueService.InvalidBatchEntryId"},
		{"a batch over 256 KiB in all", func() error {
			_, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries(3, 100_000)})
			return err
		}, "AWS.SimpleQueueService.BatchRequestTooLong"},
		{"receiving 11", func() error {
			_, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 11})
			return err
		}, "InvalidParameterValue"},
		{"waiting 21 s", func() error {
			_, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 21})
			return err
		}, "InvalidParameterValue"},
		{"an unknown message system attribute", func() error {
			_, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"Colour"}})
			return err
		}, "InvalidAttributeName"},
		{"a receipt handle never issued", func() error {
			_, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: aws.String("made-up")})
			var invalid *types.ReceiptHandleIsInvalid
			if err != nil && !errors.As(err, &invalid) {
				return fmt.Errorf("%w (not a ReceiptHandleIsInvalid)", err)
			}
			return err
		}, "ReceiptHandleIsInvalid"},
		{"an unknown queue attribute", func() error {
			_, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{"Colour"}})
			return err
		}, "InvalidAttributeName"},
		{"an operation the fake does not serve", func() error {
			_, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("more")})
			return err
		}, "AWS.SimpleQueueService.UnsupportedOperation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errorCode(tt.call()); got != tt.wantCode {
				t.Errorf("error code %q, want %q", got, tt.wantCode)
			}
		})
	}
	if v, n := f.Len("jobs"); v+n != 0 {
		t.Errorf("refused requests left %d visible and %d in-flight messages", v, n)
	}
}

func TestSQSUnsignedRequestIsRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(NewSQS(QueueConfig{Name: "jobs"}))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"QueueUrl":"`+QueueURL(srv.URL, "jobs")+`","MessageBody":"x"}`))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "AmazonSQS.SendMessage")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "MissingAuthenticationToken") {
		t.Errorf("unsigned SendMessage: %d %s, want 403 MissingAuthenticationToken", resp.StatusCode, body)
	}
}

func TestSQSMessageLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	before := time.Now()
	clk := &clock{t: before}
	f := NewSQS(QueueConfig{Name: "jobs", VisibilityTimeout: 200 * time.Millisecond})
	f.Now = clk.Now
	c, ep := sqsClient(t, f)
	url := aws.String(QueueURL(ep, "jobs"))

	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String(`{"job":1}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"SellerName": {DataType: aws.String("String"), StringValue: aws.String("Example Store")},
		}})
	if err != nil {
		t.Fatal(err)
	}
	// The SDK checks MD5OfMessageBody itself; the attributes' MD5 is SQS's for this example.
	if got, want := aws.ToString(sent.MD5OfMessageAttributes), "cd28f3b68aeee4b2eac9c66f2f694b58"; got != want {
		t.Errorf("MD5OfMessageAttributes = %s, want %s", got, want)
	}
	receive := func() []types.Message {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}, MessageAttributeNames: []string{"Seller.*"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	first := receive()
	if len(first) != 1 {
		t.Fatalf("received %d messages, want 1", len(first))
	}
	m := first[0]
	a := m.Attributes
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != `{"job":1}` || a["ApproximateReceiveCount"] != "1" || a["SenderId"] != "test" {
		t.Errorf("received %+v with attributes %v", m, a)
	}
	for _, k := range []string{"SentTimestamp", "ApproximateFirstReceiveTimestamp"} {
		var ms int64
		if _, err := fmt.Sscan(a[k], &ms); err != nil || ms < before.UnixMilli() || ms > time.Now().UnixMilli() {
			t.Errorf("%s = %q, want epoch milliseconds of now", k, a[k])
		}
	}
	if got := m.MessageAttributes["SellerName"]; aws.ToString(got.StringValue) != "Example Store" || aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) {
		t.Errorf("message attributes %+v (MD5 %s)", m.MessageAttributes, aws.ToString(m.MD5OfMessageAttributes))
	}
	if again := receive(); len(again) != 0 {
		t.Errorf("an in-flight message was received again: %+v", again)
	}
	if v, n := f.Len("jobs"); v != 0 || n != 1 {
		t.Errorf("Len = %d visible, %d in flight; want 0, 1", v, n)
	}

	clk.advance(250 * time.Millisecond) // past the visibility timeout
	second := receive()
	if len(second) != 1 || second[0].Attributes["ApproximateReceiveCount"] != "2" || second[0].Attributes["ApproximateFirstReceiveTimestamp"] != a["ApproximateFirstReceiveTimestamp"] {
		t.Fatalf("redelivery = %+v, want the message with receive count 2 and its first receive time", second)
	}
	if aws.ToString(second[0].ReceiptHandle) == aws.ToString(m.ReceiptHandle) {
		t.Error("a redelivery kept the receipt handle")
	}
	// As on SQS, deleting with the handle of an earlier receive succeeds and deletes nothing.
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("delete with a stale handle: %v", err)
	}
	if v, n := f.Len("jobs"); v+n != 1 {
		t.Fatalf("a stale handle deleted the message (Len %d, %d)", v, n)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: second[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if v, n := f.Len("jobs"); v+n != 0 {
		t.Errorf("after delete: Len %d, %d; want an empty queue", v, n)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: url, ReceiptHandle: second[0].ReceiptHandle}); err != nil {
		t.Errorf("deleting twice: %v, want success as on SQS", err)
	}

	// A receive's VisibilityTimeout overrides the queue's 200 ms.
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("slow")}); err != nil {
		t.Fatal(err)
	}
	if out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, VisibilityTimeout: 5}); err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %v", err)
	}
	clk.advance(250 * time.Millisecond)
	if v, n := f.Len("jobs"); v != 0 || n != 1 {
		t.Errorf("250 ms into a 5 s visibility timeout: Len %d, %d; want the message in flight", v, n)
	}
}

func TestSQSChangeMessageVisibility(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, ep := sqsClient(t, NewSQS(QueueConfig{Name: "jobs"}))
	url := aws.String(QueueURL(ep, "jobs"))
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	receive := func() *types.Message {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url})
		if err != nil || len(out.Messages) > 1 {
			t.Fatalf("receive: %v, %+v", err, out)
		}
		if len(out.Messages) == 0 {
			return nil
		}
		return &out.Messages[0]
	}
	change := func(handle *string, seconds int32) error {
		_, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: seconds})
		return err
	}
	m := receive()
	if m == nil || receive() != nil {
		t.Fatal("want the message once, then nothing for the default 30 s")
	}
	if err := change(m.ReceiptHandle, 0); err != nil {
		t.Fatal(err)
	}
	if got := errorCode(change(m.ReceiptHandle, 10)); got != "AWS.SimpleQueueService.MessageNotInflight" {
		t.Errorf("changing a visible message: %q, want MessageNotInflight", got)
	}
	m2 := receive()
	if m2 == nil {
		t.Fatal("a message made visible was not received")
	}
	if got := errorCode(change(m.ReceiptHandle, 10)); got != "ReceiptHandleIsInvalid" {
		t.Errorf("changing with a stale handle: %q, want ReceiptHandleIsInvalid", got)
	}
	out, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: url, Entries: []types.ChangeMessageVisibilityBatchRequestEntry{
		{Id: aws.String("new"), ReceiptHandle: m2.ReceiptHandle, VisibilityTimeout: 0},
		{Id: aws.String("old"), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0},
	}})
	if err != nil || len(out.Successful) != 1 || aws.ToString(out.Successful[0].Id) != "new" ||
		len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "old" || aws.ToString(out.Failed[0].Code) != "ReceiptHandleIsInvalid" || !out.Failed[0].SenderFault {
		t.Errorf("ChangeMessageVisibilityBatch = %+v, %v; want new changed, old refused", out, err)
	}
	if receive() == nil {
		t.Error("the batch did not make the message visible")
	}
}

func TestSQSRedrivesToTheDeadLetterQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := NewSQS(QueueConfig{Name: "jobs", VisibilityTimeout: 20 * time.Millisecond, MaxReceiveCount: 3, DeadLetterQueue: QueueARN("jobs-dlq")},
		QueueConfig{Name: "jobs-dlq"})
	clk := &clock{t: time.Now()}
	f.Now = clk.Now
	c, ep := sqsClient(t, f)
	url, dlq := aws.String(QueueURL(ep, "jobs")), aws.String(QueueURL(ep, "jobs-dlq"))
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("poison")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		receive   int
		wantCount string // "" for no delivery
		wantDLQ   int
	}{
		{1, "1", 0}, {2, "2", 0}, {3, "3", 0}, {4, "", 1}, {5, "", 1},
	}
	for _, tt := range tests {
		clk.advance(30 * time.Millisecond) // past the visibility timeout of the receive before
		//lint:ignore SA1019 the deprecated AttributeNames, which older SDKs send, is served too
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, AttributeNames: []types.QueueAttributeName{"ApproximateReceiveCount"}})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if len(out.Messages) == 1 {
			got = out.Messages[0].Attributes["ApproximateReceiveCount"]
		}
		if got != tt.wantCount {
			t.Errorf("receive %d: receive count %q, want %q", tt.receive, got, tt.wantCount)
		}
		if v, _ := f.Len("jobs-dlq"); v != tt.wantDLQ {
			t.Errorf("after receive %d: %d messages in the DLQ, want %d", tt.receive, v, tt.wantDLQ)
		}
	}
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq, MessageSystemAttributeNames: []types.MessageSystemAttributeName{"All"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("DLQ receive: %v, %+v", err, out)
	}
	m := out.Messages[0]
	if aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) || aws.ToString(m.Body) != "poison" || m.Attributes["DeadLetterQueueSourceArn"] != QueueARN("jobs") {
		t.Errorf("DLQ message %+v, want the same message with its source queue", m)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: url, AttributeNames: []types.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"RedrivePolicy":                         `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:jobs-dlq","maxReceiveCount":3}`,
		"QueueArn":                              "arn:aws:sqs:us-east-1:000000000000:jobs",
		"VisibilityTimeout":                     "1", // 20 ms, rounded up to whole seconds
		"ApproximateNumberOfMessages":           "0",
		"ApproximateNumberOfMessagesNotVisible": "0",
	}
	for k, v := range want {
		if attrs.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, attrs.Attributes[k], v)
		}
	}
}

func TestSQSLongPolling(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := NewSQS(QueueConfig{Name: "jobs", VisibilityTimeout: 300 * time.Millisecond})
	c, ep := sqsClient(t, f)
	url := aws.String(QueueURL(ep, "jobs"))
	type result struct {
		msgs []types.Message
		took time.Duration
		err  error
	}
	poll := func(wait int32) chan result {
		ch := make(chan result, 1)
		go func() {
			t0 := time.Now()
			out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, WaitTimeSeconds: wait, MaxNumberOfMessages: 10})
			r := result{took: time.Since(t0), err: err}
			if out != nil {
				r.msgs = out.Messages
			}
			ch <- r
		}()
		return ch
	}
	tests := []struct {
		name     string
		wait     int32
		meantime func()
		wantMsgs int
		min, max time.Duration
	}{
		{"an empty queue answers after the wait", 1, func() {}, 0, time.Second, 3 * time.Second},
		{"a message sent during the wait ends it at once", 20, func() {
			time.Sleep(100 * time.Millisecond)
			if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: url, MessageBody: aws.String("now")}); err != nil {
				t.Error(err)
			}
		}, 1, 100 * time.Millisecond, 2 * time.Second},
		// The message of the case before is in flight for 300 ms from its receive.
		{"a visibility timeout ending during the wait ends it", 20, func() {}, 1, 100 * time.Millisecond, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := poll(tt.wait)
			tt.meantime()
			r := <-ch
			if r.err != nil || len(r.msgs) != tt.wantMsgs || r.took < tt.min || r.took > tt.max {
				t.Errorf("receive: %d messages after %s (%v); want %d within %s to %s", len(r.msgs), r.took, r.err, tt.wantMsgs, tt.min, tt.max)
			}
		})
	}
}

func TestSQSBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := NewSQS(QueueConfig{Name: "jobs"})
	f.FailSend = func(body string, nth int) (string, bool) {
		if body == "busy" && nth == 1 {
			return "InternalError", false
		}
		return "", false
	}
	c, ep := sqsClient(t, f)
	url := aws.String(QueueURL(ep, "jobs"))
	sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: url, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("one")},
		{Id: aws.String("b"), MessageBody: aws.String("bad\x01")},
		{Id: aws.String("c"), MessageBody: aws.String("busy")},
		{Id: aws.String("d"), MessageBody: aws.String("two")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	failed := map[string]string{}
	for _, e := range sent.Failed {
		failed[aws.ToString(e.Id)] = fmt.Sprint(aws.ToString(e.Code), " sender:", e.SenderFault)
	}
	if len(sent.Successful) != 2 || failed["b"] != "InvalidMessageContents sender:true" || failed["c"] != "InternalError sender:false" {
		t.Fatalf("SendMessageBatch: %d successful, failed %v", len(sent.Successful), failed)
	}
	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: url, MaxNumberOfMessages: 10})
	if err != nil || len(got.Messages) != 2 || aws.ToString(got.Messages[0].Body) != "one" || aws.ToString(got.Messages[1].Body) != "two" {
		t.Fatalf("receive: %v, %+v; want one and two, in order", err, got)
	}
	del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: url, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("one"), ReceiptHandle: got.Messages[0].ReceiptHandle},
		{Id: aws.String("junk"), ReceiptHandle: aws.String("junk")},
	}})
	if err != nil || len(del.Successful) != 1 || len(del.Failed) != 1 || aws.ToString(del.Failed[0].Code) != "ReceiptHandleIsInvalid" {
		t.Fatalf("DeleteMessageBatch: %v, %+v", err, del)
	}
	if v, n := f.Len("jobs"); v != 0 || n != 1 {
		t.Errorf("Len = %d, %d; want the undeleted message in flight", v, n)
	}
	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: url}); err != nil {
		t.Fatal(err)
	}
	if v, n := f.Len("jobs"); v+n != 0 {
		t.Errorf("after purge: Len = %d, %d", v, n)
	}
	if _, err := c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: url}); errorCode(err) != "AWS.SimpleQueueService.PurgeQueueInProgress" {
		t.Errorf("a second purge within 60 s: %v, want PurgeQueueInProgress", err)
	}
}

func TestSQSGetQueueURL(t *testing.T) {
	t.Parallel()
	c, ep := sqsClient(t, NewSQS(QueueConfig{Name: "jobs"}))
	out, err := c.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("jobs")})
	if err != nil || aws.ToString(out.QueueUrl) != QueueURL(ep, "jobs") {
		t.Errorf("GetQueueUrl = %v, %v; want %s", out, err, QueueURL(ep, "jobs"))
	}
	if _, err := c.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("nope")}); errorCode(err) != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Errorf("GetQueueUrl of an unknown queue: %v", err)
	}
}

func TestNewSQSRefusesABadConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		queues []QueueConfig
	}{
		{"a name twice", []QueueConfig{{Name: "a"}, {Name: "a"}}},
		{"a name with a dot", []QueueConfig{{Name: "a.b"}}},
		{"a dead-letter queue not among the queues", []QueueConfig{{Name: "a", MaxReceiveCount: 2, DeadLetterQueue: "b"}}},
		{"a redrive without a count", []QueueConfig{{Name: "a", DeadLetterQueue: "b"}, {Name: "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewSQS accepted it")
				}
			}()
			NewSQS(tt.queues...)
		})
	}
}

// clock is a settable clock for the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// advance moves the clock d forward.
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
