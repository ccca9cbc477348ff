package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ESM defaults, as Lambda sets them for an SQS event source.
const (
	// defaultBatchSize is BatchSize when the template gives none.
	defaultBatchSize = 10
	// defaultPollers is how many batches may be in flight when MaximumConcurrency is not set: Lambda
	// starts with five pollers (and scales up from there, which the gateway does not).
	defaultPollers = 5
	// receiveBackoff is the pause after a failed receive.
	receiveBackoff = time.Second
)

// sqsMapping is an SQS event source mapping: it polls a queue and invokes a function with batches of
// messages, as Lambda does.
type sqsMapping struct {
	QueueURL string
	// BatchSize is the most messages in one invocation (default 10).
	BatchSize int
	// Window is MaximumBatchingWindowInSeconds: with fewer than BatchSize messages, how long to keep
	// gathering after the first one before invoking. 0 invokes with what the first receive returns.
	Window time.Duration
	// ReportBatchItemFailures makes the function's batchItemFailures answer keep just those messages.
	ReportBatchItemFailures bool
	// MaxConcurrency is ScalingConfig.MaximumConcurrency: the most batches in flight (default 5).
	MaxConcurrency int
	// QueueARN is the queue's ARN, the records' eventSourceARN; its region is their awsRegion.
	QueueARN string
}

// poll runs the mapping until ctx ends: it long-polls the queue for batches, invokes the function
// with each batch's event, up to MaxConcurrency batches at a time, and then deletes the messages the
// function handled. After a failed invocation nothing is deleted: the messages come back when their
// visibility timeout ends, and the queue's redrive policy moves them to its dead-letter queue after
// maxReceiveCount receives. poll returns once the batches in flight are done.
func (m sqsMapping) poll(ctx context.Context, client *sqs.Client, invoke func(ctx context.Context, event []byte) ([]byte, error)) {
	if m.BatchSize <= 0 {
		m.BatchSize = defaultBatchSize
	}
	if m.MaxConcurrency <= 0 {
		m.MaxConcurrency = defaultPollers
	}
	log := slog.With("queue", m.QueueARN)
	slots := make(chan struct{}, m.MaxConcurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		// Take a slot before receiving, so that no message waits hidden for a free slot.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		batch, err := m.gather(ctx, client)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Warn("receive from the queue failed", "err", err)
		}
		if len(batch) == 0 {
			<-slots
			if err != nil {
				select {
				case <-ctx.Done():
					return
				case <-time.After(receiveBackoff):
				}
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			m.handle(ctx, client, batch, invoke, log)
		}()
	}
}

// gather receives one batch: a long poll, then, with a Window, further receives until the batch is
// full or the window after the first message has passed. The window ends on a whole second of SQS's
// wait time, so it may run up to a second long.
func (m sqsMapping) gather(ctx context.Context, client *sqs.Client) ([]types.Message, error) {
	var batch []types.Message
	var windowEnd time.Time
	for len(batch) < m.BatchSize {
		wait := int32(20)
		if len(batch) > 0 {
			remaining := time.Until(windowEnd)
			if remaining <= 0 {
				break
			}
			wait = int32(min(20, math.Ceil(remaining.Seconds())))
		}
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(m.QueueURL),
			MaxNumberOfMessages:         int32(min(10, m.BatchSize-len(batch))),
			WaitTimeSeconds:             wait,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		if err != nil {
			return batch, err
		}
		if len(batch) == 0 && len(out.Messages) > 0 {
			windowEnd = time.Now().Add(m.Window)
		}
		batch = append(batch, out.Messages...)
	}
	return batch, nil
}

// handle invokes the function with one batch and deletes the messages it handled.
func (m sqsMapping) handle(ctx context.Context, client *sqs.Client, batch []types.Message, invoke func(ctx context.Context, event []byte) ([]byte, error), log *slog.Logger) {
	event, err := m.event(batch)
	if err != nil {
		log.Error("build the SQS event", "err", err)
		return
	}
	out, err := invoke(ctx, event)
	if err != nil {
		log.Warn("the function failed; the batch returns to the queue after its visibility timeout", "messages", len(batch), "err", err)
		return
	}
	var failed map[string]bool
	if m.ReportBatchItemFailures {
		ids := make(map[string]bool, len(batch))
		for _, msg := range batch {
			ids[aws.ToString(msg.MessageId)] = true
		}
		if failed, err = batchItemFailures(out, ids); err != nil {
			log.Warn("the function's batch response is not valid, so the whole batch failed", "messages", len(batch), "err", err)
			return
		}
		if len(failed) > 0 {
			log.Info("the function reported failed messages; they return to the queue after their visibility timeout", "failed", len(failed), "messages", len(batch))
		}
	}
	var entries []types.DeleteMessageBatchRequestEntry
	for i, msg := range batch {
		if !failed[aws.ToString(msg.MessageId)] {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: msg.ReceiptHandle})
		}
	}
	// A handled batch is deleted even when the gateway is stopping.
	dctx := context.WithoutCancel(ctx)
	for start := 0; start < len(entries); start += 10 {
		chunk := entries[start:min(start+10, len(entries))]
		out, err := client.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.QueueURL), Entries: chunk})
		if err != nil {
			log.Error("delete handled messages", "messages", len(chunk), "err", err)
			continue
		}
		for _, f := range out.Failed {
			log.Error("delete a handled message", "code", aws.ToString(f.Code), "err", aws.ToString(f.Message))
		}
	}
}

// sqsRecord is one record of the event Lambda sends for SQS (events.SQSMessage), its fields in the
// order Lambda writes them. md5OfMessageAttributes is there only for a message with attributes.
type sqsRecord struct {
	MessageID              string                   `json:"messageId"`
	ReceiptHandle          string                   `json:"receiptHandle"`
	Body                   string                   `json:"body"`
	Attributes             map[string]string        `json:"attributes"`
	MessageAttributes      map[string]sqsRecordAttr `json:"messageAttributes"`
	MD5OfMessageAttributes string                   `json:"md5OfMessageAttributes,omitempty"`
	MD5OfBody              string                   `json:"md5OfBody"`
	EventSource            string                   `json:"eventSource"`
	EventSourceARN         string                   `json:"eventSourceARN"`
	AWSRegion              string                   `json:"awsRegion"`
}

// sqsRecordAttr is a message attribute in an SQS event.
type sqsRecordAttr struct {
	StringValue      *string  `json:"stringValue,omitempty"`
	BinaryValue      []byte   `json:"binaryValue,omitempty"`
	StringListValues []string `json:"stringListValues"`
	BinaryListValues [][]byte `json:"binaryListValues"`
	DataType         string   `json:"dataType"`
}

// event returns the SQS event of a batch, {"Records": [...]}.
func (m sqsMapping) event(batch []types.Message) ([]byte, error) {
	awsRegion := region
	if parts := strings.Split(m.QueueARN, ":"); len(parts) == 6 {
		awsRegion = parts[3]
	}
	records := make([]sqsRecord, len(batch))
	for i, msg := range batch {
		r := sqsRecord{
			MessageID: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle), Body: aws.ToString(msg.Body),
			Attributes: msg.Attributes, MessageAttributes: map[string]sqsRecordAttr{}, MD5OfMessageAttributes: aws.ToString(msg.MD5OfMessageAttributes),
			MD5OfBody: aws.ToString(msg.MD5OfBody), EventSource: "aws:sqs", EventSourceARN: m.QueueARN, AWSRegion: awsRegion,
		}
		if r.Attributes == nil {
			r.Attributes = map[string]string{}
		}
		for name, a := range msg.MessageAttributes {
			r.MessageAttributes[name] = sqsRecordAttr{StringValue: a.StringValue, BinaryValue: a.BinaryValue,
				StringListValues: append([]string{}, a.StringListValues...), BinaryListValues: append([][]byte{}, a.BinaryListValues...),
				DataType: aws.ToString(a.DataType)}
		}
		records[i] = r
	}
	return json.Marshal(struct {
		Records []sqsRecord `json:"Records"`
	}{records})
}

// batchItemFailures reads a function's answer to a batch as Lambda does with ReportBatchItemFailures:
// the ids of the failed messages. No answer, null, an object without batchItemFailures, or an empty
// or null list of them mean every message succeeded. An answer that is not such an object, an item
// without an itemIdentifier, or an itemIdentifier that is empty or not a message of the batch is an
// error: the whole batch failed.
func batchItemFailures(answer []byte, ids map[string]bool) (map[string]bool, error) {
	answer = bytes.TrimSpace(answer)
	if len(answer) == 0 || string(answer) == "null" {
		return nil, nil
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(answer, &resp); err != nil {
		return nil, fmt.Errorf("the answer is not a JSON object: %w", err)
	}
	var items []map[string]json.RawMessage
	if raw, ok := resp["batchItemFailures"]; ok {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("batchItemFailures: %w", err)
		}
	}
	failed := map[string]bool{}
	for i, item := range items {
		raw, ok := item["itemIdentifier"]
		if !ok {
			return nil, fmt.Errorf("batchItemFailures[%d] has no itemIdentifier", i)
		}
		var id *string
		if err := json.Unmarshal(raw, &id); err != nil || id == nil || *id == "" {
			return nil, fmt.Errorf("batchItemFailures[%d].itemIdentifier %s is not a message id", i, raw)
		}
		if !ids[*id] {
			return nil, errors.New("batchItemFailures names " + *id + ", which is not a message of the batch")
		}
		failed[*id] = true
	}
	return failed, nil
}
