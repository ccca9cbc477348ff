package awstest

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sqsJSON is the content type of the SQS JSON protocol.
const sqsJSON = "application/x-amz-json-1.0"

// SQS limits, as documented in the SQS API reference.
const (
	// maxMessageSize is the largest message SQS takes, body and message attributes together; it is
	// also the most a SendMessageBatch request may carry.
	maxMessageSize = 256 << 10
	// maxBatch is the most entries of one batch request.
	maxBatch = 10
	// maxWait is the longest long poll (ReceiveMessage's WaitTimeSeconds).
	maxWait = 20 * time.Second
	// defaultVisibility is a queue's visibility timeout when its configuration gives none.
	defaultVisibility = 30 * time.Second
	// maxVisibility is the longest visibility timeout, 12 hours.
	maxVisibility = 12 * time.Hour
	// purgeInterval is how often a queue may be purged.
	purgeInterval = 60 * time.Second
)

// QueueURL returns the URL of the queue name on an SQS fake served at endpoint (scheme://host[:port]).
func QueueURL(endpoint, name string) string {
	return strings.TrimSuffix(endpoint, "/") + "/" + Account + "/" + name
}

// QueueARN returns the ARN of the queue name.
func QueueARN(name string) string { return "arn:aws:sqs:" + Region + ":" + Account + ":" + name }

// QueueConfig describes one queue of an SQS fake.
type QueueConfig struct {
	// Name is the queue's name, the last part of its URL and of its ARN.
	Name string
	// VisibilityTimeout is how long a received message stays hidden from other receivers; 0 means
	// SQS's default, 30 seconds. It may be shorter than a second (which the SQS API cannot express),
	// so that tests of redelivery are quick.
	VisibilityTimeout time.Duration
	// MaxReceiveCount is the redrive policy's maxReceiveCount: a message received that many times is
	// moved to DeadLetterQueue at the next receive instead of being delivered again. 0 means the queue
	// has no redrive policy.
	MaxReceiveCount int
	// DeadLetterQueue is the name (or ARN) of the queue that takes those messages, one of the queues
	// of the same fake.
	DeadLetterQueue string
}

// SQS is a fake of Amazon SQS for standard queues, speaking the JSON protocol the AWS SDK uses
// (X-Amz-Target AmazonSQS.<operation>). It serves SendMessage, SendMessageBatch, ReceiveMessage
// (with long polling), DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility,
// ChangeMessageVisibilityBatch, GetQueueUrl, GetQueueAttributes and PurgeQueue on the queues it was
// made with; a queue URL names its queue by its path, /000000000000/<name>. Messages are delivered in
// the order they were sent, are kept until deleted or purged (there is no retention period), and are
// answered in full by every receive (SQS may answer fewer from a short poll).
type SQS struct {
	// FailSend, when set, decides the fate of every message sent to any queue (by SendMessage or as a
	// SendMessageBatch entry) before it is stored; nth counts the sends of the same body to the same
	// queue, from 1. A code other than "" refuses the message with that error code: a failed batch
	// entry, or for SendMessage an error answer (400 when senderFault, else 500, which the SDK retries).
	// Set it before the fake serves requests.
	FailSend func(body string, nth int) (code string, senderFault bool)
	// Now is the fake's clock for delays, visibility timeouts and purges (time.Now when nil); a long
	// poll still waits in real time. Set it before the fake serves requests.
	Now func() time.Time

	queues map[string]*queue // by name; fixed at construction

	mu sync.Mutex
	// wake is closed and replaced whenever a message may have become receivable, ending the wait of
	// long polls, which then look again.
	wake chan struct{}
}

// queue is one queue of the fake. Its mutable fields are guarded by SQS.mu.
type queue struct {
	QueueConfig
	arn     string
	dlq     *queue
	created time.Time

	msgs     []*message // in the order they were sent
	byID     map[string]*message
	sends    map[string]int // sends per body, for FailSend
	lastPurg time.Time
}

// message is one message of a queue.
type message struct {
	id, body string
	attrs    map[string]messageAttribute
	senderID string
	sent     time.Time
	// visibleAt is when the message can be received: its delay or its visibility timeout ends.
	visibleAt     time.Time
	received      int
	firstReceived time.Time
	// handle is the receipt handle of the latest receive, "" before the first.
	handle string
	// dlqSource is the ARN of the queue a message was moved from by redrive.
	dlqSource string
}

// messageAttribute is a message attribute as the SQS JSON protocol carries it. StringListValues and
// BinaryListValues are reserved by SQS and refused.
type messageAttribute struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

// NewSQS returns an SQS fake holding the queues. It panics on a configuration SQS would refuse: a
// name used twice or not a valid queue name, a redrive policy without its dead-letter queue among the
// queues, or a maxReceiveCount outside 1 to 1000.
func NewSQS(queues ...QueueConfig) *SQS {
	s := &SQS{queues: map[string]*queue{}, wake: make(chan struct{})}
	now := time.Now()
	for _, c := range queues {
		if !validQueueName(c.Name) {
			panic(fmt.Sprintf("awstest: queue name %q: want 1 to 80 letters, digits, - or _", c.Name))
		}
		if s.queues[c.Name] != nil {
			panic("awstest: queue " + c.Name + " given twice")
		}
		if c.VisibilityTimeout == 0 {
			c.VisibilityTimeout = defaultVisibility
		}
		if c.VisibilityTimeout < 0 || c.VisibilityTimeout > maxVisibility {
			panic(fmt.Sprintf("awstest: queue %s: visibility timeout %s is outside 0 to 12h", c.Name, c.VisibilityTimeout))
		}
		s.queues[c.Name] = &queue{QueueConfig: c, arn: QueueARN(c.Name), created: now, byID: map[string]*message{}, sends: map[string]int{}}
	}
	for _, q := range s.queues {
		if q.DeadLetterQueue == "" && q.MaxReceiveCount == 0 {
			continue
		}
		name := q.DeadLetterQueue
		if strings.HasPrefix(name, "arn:") {
			name = name[strings.LastIndex(name, ":")+1:]
		}
		q.dlq = s.queues[name]
		switch {
		case q.dlq == nil:
			panic(fmt.Sprintf("awstest: queue %s: dead-letter queue %q is not among the queues", q.Name, q.DeadLetterQueue))
		case q.MaxReceiveCount < 1 || q.MaxReceiveCount > 1000:
			panic(fmt.Sprintf("awstest: queue %s: maxReceiveCount %d is outside 1 to 1000", q.Name, q.MaxReceiveCount))
		case q.dlq == q:
			panic("awstest: queue " + q.Name + " is its own dead-letter queue")
		}
	}
	return s
}

func validQueueName(name string) bool {
	if name == "" || len(name) > 80 {
		return false
	}
	for _, r := range name {
		if !isIDChar(r) {
			return false
		}
	}
	return true
}

// isIDChar reports whether r may appear in a queue name or a batch entry id.
func isIDChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// Len returns how many messages the queue name holds that can be received now (visible) and that
// were received and are hidden by their visibility timeout (in flight). Delayed messages are in
// neither count. An unknown queue holds nothing.
func (s *SQS) Len(name string) (visible, inFlight int) {
	q := s.queues[name]
	if q == nil {
		return 0, 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	visible, inFlight, _ = q.counts(s.now())
	return visible, inFlight
}

// counts returns the numbers of visible, in-flight and delayed messages.
func (q *queue) counts(now time.Time) (visible, inFlight, delayed int) {
	for _, m := range q.msgs {
		switch {
		case !m.visibleAt.After(now):
			visible++
		case m.received > 0:
			inFlight++
		default:
			delayed++
		}
	}
	return visible, inFlight, delayed
}

// ServeHTTP answers one SQS JSON-protocol request.
func (s *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, e := readCall(w, r, "AmazonSQS", sqsJSON)
	if e != nil {
		writeError(w, sqsJSON, e)
		return
	}
	var out any
	switch c.op {
	case "SendMessage":
		out, e = s.sendMessage(c)
	case "SendMessageBatch":
		out, e = s.sendMessageBatch(c)
	case "ReceiveMessage":
		out, e = s.receiveMessage(r.Context(), c)
		if r.Context().Err() != nil {
			return // the client has gone
		}
	case "DeleteMessage":
		out, e = s.deleteMessage(c)
	case "DeleteMessageBatch":
		out, e = s.deleteMessageBatch(c)
	case "ChangeMessageVisibility":
		out, e = s.changeVisibility(c)
	case "ChangeMessageVisibilityBatch":
		out, e = s.changeVisibilityBatch(c)
	case "GetQueueUrl":
		out, e = s.getQueueURL(r, c)
	case "GetQueueAttributes":
		out, e = s.getQueueAttributes(c)
	case "PurgeQueue":
		out, e = s.purgeQueue(c)
	default:
		e = sqsError("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "awstest.SQS does not serve %s", c.op)
	}
	if e != nil {
		writeError(w, sqsJSON, e)
		return
	}
	writeJSON(w, sqsJSON, out)
}

// sqsError is a client error of SQS with its JSON type name and its query-protocol code.
func sqsError(name, queryCode, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: "com.amazonaws.sqs#" + name, query: queryCode + ";Sender", message: fmt.Sprintf(format, args...)}
}

func invalidParameter(format string, args ...any) *apiError {
	return sqsError("InvalidParameterValue", "InvalidParameterValue", format, args...)
}

// code is the short error code of e, as a failed batch entry carries it.
func (e *apiError) code() string { return e.typ[strings.LastIndex(e.typ, "#")+1:] }

// queueOf returns the queue a QueueUrl names.
func (s *SQS) queueOf(rawURL string) (*queue, *apiError) {
	if rawURL == "" {
		return nil, sqsError("MissingParameter", "MissingParameter", "The request must contain the parameter QueueUrl.")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, sqsError("InvalidAddress", "InvalidAddress", "The address %s is not valid for this endpoint.", rawURL)
	}
	account, name, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if q := s.queues[name]; q != nil && account == Account {
		return q, nil
	}
	return nil, sqsError("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
}

// notify ends the wait of long polls. The caller holds s.mu.
func (s *SQS) notify() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// ---------------------------------------------------------------- sending

type sendEntry struct {
	Id                string
	MessageBody       *string
	DelaySeconds      *int
	MessageAttributes map[string]messageAttribute
}

type sendResult struct {
	Id                     string `json:",omitempty"`
	MessageId              string
	MD5OfMessageBody       string
	MD5OfMessageAttributes string `json:",omitempty"`
}

// batchFailure is a failed entry of a batch request.
type batchFailure struct {
	Id          string
	Code        string
	Message     string
	SenderFault bool
}

func (s *SQS) sendMessage(c call) (any, *apiError) {
	var in struct {
		QueueUrl string
		sendEntry
	}
	if e := decode(c.body, &in); e != nil {
		return nil, e
	}
	q, e := s.queueOf(in.QueueUrl)
	if e != nil {
		return nil, e
	}
	if _, e := checkMessage(in.sendEntry); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, e := s.sendLocked(q, in.sendEntry, c.accessKey)
	if e != nil {
		return nil, e
	}
	return res, nil
}

func (s *SQS) sendMessageBatch(c call) (any, *apiError) {
	q, entries, e := decodeBatch[sendEntry](s, c.body)
	if e != nil {
		return nil, e
	}
	checks, total := make([]*apiError, len(entries)), 0
	for i, en := range entries {
		size, e := checkMessage(en)
		checks[i], total = e, total+size
	}
	if total > maxMessageSize {
		return nil, sqsError("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
			"Batch requests cannot be longer than %d bytes. You have sent %d bytes.", maxMessageSize, total)
	}
	out := struct {
		Successful []sendResult
		Failed     []batchFailure
	}{Successful: []sendResult{}, Failed: []batchFailure{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, en := range entries {
		e := checks[i]
		if e == nil {
			var res sendResult
			if res, e = s.sendLocked(q, en, c.accessKey); e == nil {
				out.Successful = append(out.Successful, res)
			}
		}
		if e != nil {
			out.Failed = append(out.Failed, batchFailure{Id: en.Id, Code: e.code(), Message: e.message, SenderFault: e.status < 500})
		}
	}
	return out, nil
}

// sendLocked stores a checked message unless FailSend refuses it. The caller holds s.mu.
func (s *SQS) sendLocked(q *queue, en sendEntry, senderID string) (sendResult, *apiError) {
	body := *en.MessageBody
	q.sends[body]++
	if s.FailSend != nil {
		if code, senderFault := s.FailSend(body, q.sends[body]); code != "" {
			e := &apiError{status: http.StatusBadRequest, typ: "com.amazonaws.sqs#" + code, query: code + ";Sender", message: "refused by awstest.SQS.FailSend"}
			if !senderFault {
				e.status, e.query = http.StatusInternalServerError, code+";Receiver"
			}
			return sendResult{}, e
		}
	}
	now := s.now()
	m := &message{id: newID(), body: body, attrs: en.MessageAttributes, senderID: senderID, sent: now, visibleAt: now}
	if en.DelaySeconds != nil {
		m.visibleAt = now.Add(time.Duration(*en.DelaySeconds) * time.Second)
	}
	q.msgs = append(q.msgs, m)
	q.byID[m.id] = m
	s.notify()
	return sendResult{Id: en.Id, MessageId: m.id, MD5OfMessageBody: md5Hex(body), MD5OfMessageAttributes: md5OfAttributes(m.attrs)}, nil
}

// checkMessage checks a message as SendMessage does and returns its size (body and attributes).
func checkMessage(en sendEntry) (int, *apiError) {
	if en.MessageBody == nil || *en.MessageBody == "" {
		return 0, sqsError("MissingParameter", "MissingParameter", "The request must contain the parameter MessageBody.")
	}
	size := len(*en.MessageBody)
	for _, r := range *en.MessageBody {
		if !validMessageRune(r) {
			return size, sqsError("InvalidMessageContents", "InvalidMessageContents",
				"Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")
		}
	}
	if d := en.DelaySeconds; d != nil && (*d < 0 || *d > 900) {
		return size, invalidParameter("Value %d for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.", *d)
	}
	if len(en.MessageAttributes) > 10 {
		return size, invalidParameter("Number of message attributes [%d] exceeds the allowed maximum [10].", len(en.MessageAttributes))
	}
	for name, a := range en.MessageAttributes {
		size += len(name) + len(a.DataType) + len(a.BinaryValue)
		if a.StringValue != nil {
			size += len(*a.StringValue)
		}
		if e := checkAttribute(name, a); e != nil {
			return size, e
		}
	}
	if size > maxMessageSize {
		return size, invalidParameter("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", maxMessageSize)
	}
	return size, nil
}

func validMessageRune(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// checkAttribute checks one message attribute.
func checkAttribute(name string, a messageAttribute) *apiError {
	if name == "" || len(name) > 256 || strings.HasPrefix(strings.ToLower(name), "aws.") || strings.HasPrefix(strings.ToLower(name), "amazon.") {
		return invalidParameter("Message attribute name '%s' is invalid.", name)
	}
	if len(a.StringListValues) > 0 || len(a.BinaryListValues) > 0 {
		return invalidParameter("Message attribute list values in '%s' are not supported.", name)
	}
	kind, _, _ := strings.Cut(a.DataType, ".")
	switch {
	case kind == "String" || kind == "Number":
		if a.StringValue == nil || *a.StringValue == "" || a.BinaryValue != nil {
			return invalidParameter("Message (user) attribute '%s' must contain a non-empty value of message attribute type '%s'.", name, kind)
		}
	case kind == "Binary":
		if len(a.BinaryValue) == 0 || a.StringValue != nil {
			return invalidParameter("Message (user) attribute '%s' must contain a non-empty value of message attribute type 'Binary'.", name)
		}
	default:
		return invalidParameter("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
	}
	return nil
}

// checkBatch checks the entry ids of a batch request.
// batchEntry is an entry of a batch request: its id is unique within the batch.
type batchEntry interface{ entryID() string }

func (e sendEntry) entryID() string   { return e.Id }
func (e handleEntry) entryID() string { return e.Id }

// decodeBatch decodes a batch request on one queue and checks its entries' ids.
func decodeBatch[E batchEntry](s *SQS, body []byte) (*queue, []E, *apiError) {
	var in struct {
		QueueUrl string
		Entries  []E
	}
	if e := decode(body, &in); e != nil {
		return nil, nil, e
	}
	q, e := s.queueOf(in.QueueUrl)
	if e != nil {
		return nil, nil, e
	}
	ids := make([]string, len(in.Entries))
	for i, en := range in.Entries {
		ids[i] = en.entryID()
	}
	if e := checkBatch(ids); e != nil {
		return nil, nil, e
	}
	return q, in.Entries, nil
}

func checkBatch(ids []string) *apiError {
	switch {
	case len(ids) == 0:
		return sqsError("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry in the request.")
	case len(ids) > maxBatch:
		return sqsError("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
			"Maximum number of entries per request are %d. You have sent %d.", maxBatch, len(ids))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !validQueueName(id) {
			return sqsError("InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
				"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return sqsError("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id %s repeated.", id)
		}
		seen[id] = true
	}
	return nil
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// md5OfAttributes is SQS's MD5 of message attributes: over the attributes sorted by name, each
// encoded as its name, its data type, a transport byte (1 for string values, 2 for binary) and its
// value, with every string or value preceded by its length as 4 bytes, big endian. It is "" for none.
func md5OfAttributes(attrs map[string]messageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New()
	put := func(b []byte) {
		_ = binary.Write(h, binary.BigEndian, uint32(len(b)))
		h.Write(b)
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if a.StringValue != nil {
			h.Write([]byte{1})
			put([]byte(*a.StringValue))
		} else {
			h.Write([]byte{2})
			put(a.BinaryValue)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ---------------------------------------------------------------- receiving

// receivedMessage is a message as ReceiveMessage answers it.
type receivedMessage struct {
	MessageId              string
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attributes             map[string]string           `json:",omitempty"`
	MD5OfMessageAttributes string                      `json:",omitempty"`
	MessageAttributes      map[string]messageAttribute `json:",omitempty"`
}

// systemAttributes are the message system attributes of a standard queue the fake knows; those of
// FIFO queues and AWSTraceHeader are accepted in requests and never answered.
var systemAttributes = []string{"ApproximateFirstReceiveTimestamp", "ApproximateReceiveCount", "DeadLetterQueueSourceArn", "SenderId", "SentTimestamp"}

var otherSystemAttributes = []string{"AWSTraceHeader", "MessageDeduplicationId", "MessageGroupId", "SequenceNumber"}

type receiveInput struct {
	QueueUrl                    string
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MessageAttributeNames       []string
	MaxNumberOfMessages         *int
	VisibilityTimeout           *int
	WaitTimeSeconds             *int
}

func (s *SQS) receiveMessage(ctx context.Context, c call) (any, *apiError) {
	var in receiveInput
	if e := decode(c.body, &in); e != nil {
		return nil, e
	}
	q, e := s.queueOf(in.QueueUrl)
	if e != nil {
		return nil, e
	}
	limit, visibility, wait := 1, q.VisibilityTimeout, time.Duration(0)
	if n := in.MaxNumberOfMessages; n != nil {
		if *n < 1 || *n > maxBatch {
			return nil, invalidParameter("Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.", *n)
		}
		limit = *n
	}
	if v := in.VisibilityTimeout; v != nil {
		if *v < 0 || time.Duration(*v)*time.Second > maxVisibility {
			return nil, invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", *v)
		}
		visibility = time.Duration(*v) * time.Second
	}
	if t := in.WaitTimeSeconds; t != nil {
		if *t < 0 || time.Duration(*t)*time.Second > maxWait {
			return nil, invalidParameter("Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.", *t)
		}
		wait = time.Duration(*t) * time.Second
	}
	system := map[string]bool{}
	for _, n := range append(in.AttributeNames, in.MessageSystemAttributeNames...) {
		switch {
		case n == "All":
			for _, a := range systemAttributes {
				system[a] = true
			}
		case slices.Contains(systemAttributes, n):
			system[n] = true
		case !slices.Contains(otherSystemAttributes, n):
			return nil, sqsError("InvalidAttributeName", "InvalidAttributeName", "Unknown Attribute %s.", n)
		}
	}
	deadline := time.Now().Add(wait)
	for {
		s.mu.Lock()
		msgs, next := s.receiveLocked(q, limit, visibility, system, in.MessageAttributeNames)
		wake := s.wake
		s.mu.Unlock()
		left := time.Until(deadline)
		if len(msgs) > 0 || left <= 0 {
			return struct {
				Messages []receivedMessage `json:",omitempty"`
			}{msgs}, nil
		}
		if !next.IsZero() {
			left = min(left, next.Sub(s.now()))
		}
		t := time.NewTimer(left)
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		if ctx.Err() != nil {
			return nil, nil
		}
	}
}

// receiveLocked receives up to limit messages of q, moving those received MaxReceiveCount times to the
// dead-letter queue instead, and returns them with the time the next hidden message becomes visible
// (zero if none is hidden). The caller holds s.mu.
func (s *SQS) receiveLocked(q *queue, limit int, visibility time.Duration, system map[string]bool, attrNames []string) ([]receivedMessage, time.Time) {
	now := s.now()
	var out []receivedMessage
	var next time.Time
	var moved []*message
	for _, m := range q.msgs {
		if m.visibleAt.After(now) {
			if next.IsZero() || m.visibleAt.Before(next) {
				next = m.visibleAt
			}
			continue
		}
		if len(out) == limit {
			continue
		}
		if q.dlq != nil && m.received >= q.MaxReceiveCount {
			moved = append(moved, m)
			continue
		}
		m.received++
		if m.firstReceived.IsZero() {
			m.firstReceived = now
		}
		m.handle = newHandle(q.Name, m)
		m.visibleAt = now.Add(visibility)
		if visibility > 0 && (next.IsZero() || m.visibleAt.Before(next)) {
			next = m.visibleAt
		}
		out = append(out, m.answer(system, attrNames))
	}
	if len(moved) > 0 {
		for _, m := range moved {
			q.remove(m)
			m.handle, m.visibleAt, m.dlqSource = "", now, q.arn
			q.dlq.msgs = append(q.dlq.msgs, m)
			q.dlq.byID[m.id] = m
		}
		s.notify()
	}
	return out, next
}

// answer returns the message as received, with the system attributes asked for and the message
// attributes names select ("All", ".*", "prefix.*" or a name).
func (m *message) answer(system map[string]bool, names []string) receivedMessage {
	r := receivedMessage{MessageId: m.id, ReceiptHandle: m.handle, MD5OfBody: md5Hex(m.body), Body: m.body}
	values := map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.received),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceived.UnixMilli(), 10),
		"SenderId":                         m.senderID,
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"DeadLetterQueueSourceArn":         m.dlqSource,
	}
	for n := range system {
		if v := values[n]; v != "" {
			if r.Attributes == nil {
				r.Attributes = map[string]string{}
			}
			r.Attributes[n] = v
		}
	}
	for n, a := range m.attrs {
		for _, want := range names {
			prefix, wild := strings.CutSuffix(want, ".*")
			if want == "All" || want == n || wild && strings.HasPrefix(n, prefix) {
				if r.MessageAttributes == nil {
					r.MessageAttributes = map[string]messageAttribute{}
				}
				r.MessageAttributes[n] = a
				break
			}
		}
	}
	r.MD5OfMessageAttributes = md5OfAttributes(r.MessageAttributes)
	return r
}

// remove takes m out of q.
func (q *queue) remove(m *message) {
	delete(q.byID, m.id)
	q.msgs = slices.DeleteFunc(q.msgs, func(x *message) bool { return x == m })
}

// newHandle returns a fresh receipt handle for m: its queue, its id and a random part.
func newHandle(queueName string, m *message) string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	return base64.RawURLEncoding.EncodeToString([]byte(queueName + "\n" + m.id + "\n" + strconv.Itoa(m.received) + "\n" + hex.EncodeToString(nonce[:])))
}

// byHandle returns the message of q a receipt handle names, nil if it is gone (deleted, purged or
// moved to the dead-letter queue), and whether the handle is the message's latest.
func (q *queue) byHandle(handle string) (*message, bool, *apiError) {
	b, err := base64.RawURLEncoding.DecodeString(handle)
	parts := strings.Split(string(b), "\n")
	if err != nil || len(parts) != 4 || parts[0] != q.Name {
		return nil, false, sqsError("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "The input receipt handle \"%s\" is not a valid receipt handle.", handle)
	}
	m := q.byID[parts[1]]
	return m, m != nil && m.handle == handle, nil
}

// ---------------------------------------------------------------- deleting and visibility

type handleEntry struct {
	Id                string
	ReceiptHandle     string
	VisibilityTimeout *int
}

func (s *SQS) deleteMessage(c call) (any, *apiError) {
	var in struct {
		QueueUrl string
		handleEntry
	}
	if e := decode(c.body, &in); e != nil {
		return nil, e
	}
	q, e := s.queueOf(in.QueueUrl)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return struct{}{}, q.deleteLocked(in.ReceiptHandle)
}

// deleteLocked deletes the message a receipt handle names. As on SQS, a handle of a message that is
// gone, or an older handle of a message received again since, succeeds and deletes nothing. The
// caller holds s.mu.
func (q *queue) deleteLocked(handle string) *apiError {
	m, latest, e := q.byHandle(handle)
	if e != nil {
		return e
	}
	if latest {
		q.remove(m)
	}
	return nil
}

func (s *SQS) deleteMessageBatch(c call) (any, *apiError) {
	return s.handleBatch(c, func(q *queue, en handleEntry) *apiError { return q.deleteLocked(en.ReceiptHandle) })
}

func (s *SQS) changeVisibility(c call) (any, *apiError) {
	var in struct {
		QueueUrl string
		handleEntry
	}
	if e := decode(c.body, &in); e != nil {
		return nil, e
	}
	q, e := s.queueOf(in.QueueUrl)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return struct{}{}, s.changeVisibilityLocked(q, in.handleEntry)
}

func (s *SQS) changeVisibilityBatch(c call) (any, *apiError) {
	return s.handleBatch(c, s.changeVisibilityLocked)
}

// changeVisibilityLocked sets the visibility timeout of an in-flight message, counted from now. The
// caller holds s.mu.
func (s *SQS) changeVisibilityLocked(q *queue, en handleEntry) *apiError {
	if en.VisibilityTimeout == nil {
		return sqsError("MissingParameter", "MissingParameter", "The request must contain the parameter VisibilityTimeout.")
	}
	v := time.Duration(*en.VisibilityTimeout) * time.Second
	if v < 0 || v > maxVisibility {
		return invalidParameter("Value %d for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.", *en.VisibilityTimeout)
	}
	m, latest, e := q.byHandle(en.ReceiptHandle)
	switch {
	case e != nil:
		return e
	case !latest:
		return sqsError("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "The receipt handle has expired.")
	case !m.visibleAt.After(s.now()):
		return sqsError("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "Message does not exist or is not available for visibility timeout change.")
	}
	m.visibleAt = s.now().Add(v)
	s.notify()
	return nil
}

// handleBatch runs one entry operation over a batch of receipt handles.
func (s *SQS) handleBatch(c call, op func(q *queue, en handleEntry) *apiError) (any, *apiError) {
	q, entries, e := decodeBatch[handleEntry](s, c.body)
	if e != nil {
		return nil, e
	}
	type ok struct{ Id string }
	out := struct {
		Successful []ok
		Failed     []batchFailure
	}{Successful: []ok{}, Failed: []batchFailure{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, en := range entries {
		if e := op(q, en); e != nil {
			out.Failed = append(out.Failed, batchFailure{Id: en.Id, Code: e.code(), Message: e.message, SenderFault: true})
			continue
		}
		out.Successful = append(out.Successful, ok{en.Id})
	}
	return out, nil
}

// ---------------------------------------------------------------- queues

func (s *SQS) getQueueURL(r *http.Request, c call) (any, *apiError) {
	var in struct{ QueueName, QueueOwnerAWSAccountId string }
	if e := decode(c.body, &in); e != nil {
		return nil, e
	}
	if s.queues[in.QueueName] == nil || in.QueueOwnerAWSAccountId != "" && in.QueueOwnerAWSAccountId != Account {
		return nil, sqsError("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return struct{ QueueUrl string }{QueueURL(scheme+"://"+r.Host, in.QueueName)}, nil
}

// queueAttributes are the attribute names GetQueueAttributes takes; the fake answers those it has.
var queueAttributes = []string{"All", "Policy", "VisibilityTimeout", "MaximumMessageSize", "MessageRetentionPeriod",
	"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "CreatedTimestamp", "LastModifiedTimestamp",
	"QueueArn", "ApproximateNumberOfMessagesDelayed", "DelaySeconds", "ReceiveMessageWaitTimeSeconds", "RedrivePolicy",
	"FifoQueue", "ContentBasedDeduplication", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "DeduplicationScope",
	"FifoThroughputLimit", "RedriveAllowPolicy", "SqsManagedSseEnabled"}

func (s *SQS) getQueueAttributes(c call) (any, *apiError) {
	var in struct {
		QueueUrl       string
		AttributeNames []string
	}
	if e := decode(c.body, &in); e != nil {
		return nil, e
	}
	q, e := s.queueOf(in.QueueUrl)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	visible, inFlight, delayed := q.counts(s.now())
	s.mu.Unlock()
	have := map[string]string{
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inFlight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
		"CreatedTimestamp":                      strconv.FormatInt(q.created.Unix(), 10),
		"LastModifiedTimestamp":                 strconv.FormatInt(q.created.Unix(), 10),
		"DelaySeconds":                          "0",
		"MaximumMessageSize":                    strconv.Itoa(maxMessageSize),
		"MessageRetentionPeriod":                "345600",
		"QueueArn":                              q.arn,
		"ReceiveMessageWaitTimeSeconds":         "0",
		"SqsManagedSseEnabled":                  "true",
		"VisibilityTimeout":                     strconv.Itoa(int(math.Ceil(q.VisibilityTimeout.Seconds()))),
	}
	if q.dlq != nil {
		b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": q.dlq.arn, "maxReceiveCount": q.MaxReceiveCount})
		have["RedrivePolicy"] = string(b)
	}
	out := map[string]string{}
	for _, n := range in.AttributeNames {
		if !slices.Contains(queueAttributes, n) {
			return nil, sqsError("InvalidAttributeName", "InvalidAttributeName", "Unknown Attribute %s.", n)
		}
		for k, v := range have {
			if n == "All" || n == k {
				out[k] = v
			}
		}
	}
	return struct{ Attributes map[string]string }{out}, nil
}

func (s *SQS) purgeQueue(c call) (any, *apiError) {
	var in struct{ QueueUrl string }
	if e := decode(c.body, &in); e != nil {
		return nil, e
	}
	q, e := s.queueOf(in.QueueUrl)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !q.lastPurg.IsZero() && s.now().Sub(q.lastPurg) < purgeInterval {
		return nil, sqsError("PurgeQueueInProgress", "AWS.SimpleQueueService.PurgeQueueInProgress",
			"Only one PurgeQueue operation on %s is allowed every 60 seconds.", q.Name)
	}
	q.lastPurg = s.now()
	q.msgs, q.byID = nil, map[string]*message{}
	return struct{}{}, nil
}

// now is the fake's clock.
func (s *SQS) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
