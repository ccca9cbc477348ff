package openai

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/secondme/twin/pkg/llm"
)

// streamResult is what a stream parser made of a stream.
type streamResult struct {
	text      string
	err       bool
	transient bool
}

// parseWith runs a stream parser over stream and collects its text.
func parseWith(parse func(io.Reader, func(string) error) error, r io.Reader) streamResult {
	var b strings.Builder
	err := parse(r, func(s string) error {
		b.WriteString(s)
		return nil
	})
	return streamResult{text: b.String(), err: err != nil, transient: llm.IsTransient(err)}
}

func openAIParser(r io.Reader, emit func(string) error) error {
	_, err := readOpenAIStream(r, emit)
	return err
}

func TestReadOpenAIStream(t *testing.T) {
	t.Parallel()
	chunk := func(s string) string {
		return `data: {"model":"m1","choices":[{"index":0,"delta":{"content":"` + s + `"},"finish_reason":null}]}` + "\n\n"
	}
	stop := `data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}` + "\n\n"
	cases := []struct {
		name   string
		stream string
		want   streamResult
	}{
		{"documented", chunk("Hel") + chunk("lo") + stop + "data: [DONE]\n\n", streamResult{text: "Hello"}},
		{"finish_reason without [DONE]", chunk("a") + stop, streamResult{text: "a"}},
		{"[DONE] without finish_reason", chunk("a") + "data: [DONE]", streamResult{text: "a"}},
		{"usage chunk without choices", chunk("a") + `data: {"choices":[],"usage":{"total_tokens":3}}` + "\n\ndata: [DONE]\n\n", streamResult{text: "a"}},
		{"cut before the end", chunk("a"), streamResult{text: "a", err: true, transient: true}},
		{"in-stream error", chunk("a") + `data: {"error":{"message":"overloaded","code":503}}` + "\n\n",
			streamResult{text: "a", err: true, transient: true}},
		{"error event", "event: error\ndata: {}\n\n", streamResult{err: true, transient: true}},
		{"other events skipped", "event: ping\ndata: {}\n\n" + chunk("a") + "data: [DONE]\n\n", streamResult{text: "a"}},
		{"malformed chunk", "data: [1,2\n\n", streamResult{err: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseWith(openAIParser, strings.NewReader(tc.stream)); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// fuzzStream checks a stream parser on any input: no panic, no empty delta, and the same outcome
// whether the stream arrives whole, a byte at a time, or with "\r\n" line ends.
func fuzzStream(t *testing.T, parse func(io.Reader, func(string) error) error, stream []byte) {
	var pieces []string
	_ = parse(bytes.NewReader(stream), func(s string) error {
		pieces = append(pieces, s)
		return nil
	})
	for _, p := range pieces {
		if p == "" {
			t.Fatalf("empty delta emitted")
		}
	}
	whole := parseWith(parse, bytes.NewReader(stream))
	if got := parseWith(parse, iotest.OneByteReader(bytes.NewReader(stream))); got != whole {
		t.Fatalf("bytewise %+v, whole %+v", got, whole)
	}
	if !bytes.Contains(stream, []byte("\r")) {
		crlf := bytes.ReplaceAll(stream, []byte("\n"), []byte("\r\n"))
		if got := parseWith(parse, bytes.NewReader(crlf)); got != whole {
			t.Fatalf("with CRLF %+v, with LF %+v", got, whole)
		}
	}
}

func FuzzOpenAIStream(f *testing.F) {
	f.Add([]byte("data: {\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("data: {\"error\":{\"message\":\"x\",\"code\":503}}\n\n"))
	f.Add([]byte(": keep-alive\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}"))
	f.Fuzz(func(t *testing.T, stream []byte) { fuzzStream(t, openAIParser, stream) })
}
