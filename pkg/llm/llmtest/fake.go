// Package llmtest has fake model servers for tests and benchmarks: a fake Gemini API and a fake
// OpenAI-compatible chat-completions endpoint, each an httptest server on 127.0.0.1 that records the
// requests it gets and answers with a scripted reply, streamed in chunks, or fails as told (an error
// status, a stall, a stream broken midway).
package llmtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// DefaultReply is what a fake answers until Reply or Chunks says otherwise, in DefaultChunks chunks.
const (
	DefaultReply  = "Hello from the fake model."
	DefaultChunks = 3
)

// Request is one request a fake received.
type Request struct {
	Method string
	// Path is the URL path ("/v1beta/models/gemini-3.5-flash:streamGenerateContent").
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// JSON decodes the body, failing tb when it is not a JSON object.
func (r Request) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("request body %q: %v", r.Body, err)
	}
	return m
}

// script is the behaviour the fakes share. Its methods are safe for concurrent use.
type script struct {
	mu         sync.Mutex
	chunks     []string
	fails      []int
	delay      time.Duration
	interval   time.Duration
	breakAfter int
	requests   []Request
}

func newScript() *script {
	s := &script{breakAfter: -1}
	s.Reply(DefaultReply, DefaultChunks)
	return s
}

// Reply sets the text of every following answer, streamed in n chunks of about equal length (at
// least one).
func (s *script) Reply(text string, n int) {
	s.Chunks(split(text, n)...)
}

// Chunks sets the exact chunks of every following answer.
func (s *script) Chunks(chunks ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chunks = append([]string(nil), chunks...)
}

// FailNext makes the next requests fail, one status each, in order (FailNext(500, 429): the next
// request gets 500, the one after 429, and the rest succeed).
func (s *script) FailNext(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, statuses...)
}

// Delay makes every following request wait d before the first byte of its answer (a stalled model);
// the wait ends early when the client gives up. Delay(0) turns it off.
func (s *script) Delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Interval makes a streamed answer wait d between chunks. Interval(0) turns it off.
func (s *script) Interval(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interval = d
}

// BreakAfter makes every following answer break off after n chunks: the connection is closed
// without ending the stream (n = 0: right after the headers). A whole, unstreamed answer breaks before
// its body. A negative n turns it off.
func (s *script) BreakAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.breakAfter = n
}

// Requests returns the requests received so far, oldest first.
func (s *script) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// plan is what one request gets, fixed when it arrives.
type plan struct {
	chunks     []string
	fail       int
	delay      time.Duration
	interval   time.Duration
	breakAfter int
}

// record stores a request and returns its plan.
func (s *script) record(r *http.Request, body []byte) plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Header: r.Header.Clone(), Body: body})
	p := plan{chunks: s.chunks, delay: s.delay, interval: s.interval, breakAfter: s.breakAfter}
	if len(s.fails) > 0 {
		p.fail, s.fails = s.fails[0], s.fails[1:]
	}
	return p
}

// wait sleeps d unless the client goes away first; it reports whether to go on.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// breakOff closes the connection without ending the response.
func breakOff(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}

// split cuts text into n pieces of about equal length on rune boundaries.
func split(text string, n int) []string {
	runes := utf8.RuneCountInString(text)
	n = max(1, min(n, runes))
	out := make([]string, 0, n)
	r := []rune(text)
	for i := range n {
		out = append(out, string(r[i*len(r)/n:(i+1)*len(r)/n]))
	}
	return out
}

// joined returns the whole text of chunks.
func joined(chunks []string) string {
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	b := make([]byte, 0, n)
	for _, c := range chunks {
		b = append(b, c...)
	}
	return string(b)
}
