package llm

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads every event of stream.
func readAll(r io.Reader) ([]SSEEvent, error) {
	s := NewSSEReader(r)
	var out []SSEEvent
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func TestSSEReader(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		stream string
		want   []SSEEvent
	}{
		{"two events", "data: a\n\ndata: b\n\n", []SSEEvent{{Data: "a"}, {Data: "b"}}},
		{"CRLF", "data: a\r\n\r\ndata: b\r\n\r\n", []SSEEvent{{Data: "a"}, {Data: "b"}}},
		{"no space after the colon", "data:a\n\ndata:  b\n\n", []SSEEvent{{Data: "a"}, {Data: " b"}}},
		{"named event", "event: session\ndata: {}\n\ndata: x\n\n", []SSEEvent{{Event: "session", Data: "{}"}, {Data: "x"}}},
		{"event name does not leak into the next event", "event: a\n\ndata: x\n\n", []SSEEvent{{Data: "x"}}},
		{"comments and unknown fields", ": ping\nid: 7\nretry: 10\ndata: x\n\n", []SSEEvent{{Data: "x"}}},
		{"multi-line data", "data: a\ndata: b\n\n", []SSEEvent{{Data: "a\nb"}}},
		{"last event without a blank line", "data: a\n\ndata: [DONE]", []SSEEvent{{Data: "a"}, {Data: "[DONE]"}}},
		{"last event with one new line", "data: a\n", []SSEEvent{{Data: "a"}}},
		{"byte order mark", "\xEF\xBB\xBFdata: a\n\n", []SSEEvent{{Data: "a"}}},
		{"field without a colon", "data\n\n", []SSEEvent{{Data: ""}}},
		{"empty stream", "", nil},
		{"only blank lines", "\n\n\r\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for name, r := range map[string]io.Reader{
				"whole":    strings.NewReader(tc.stream),
				"bytewise": iotest.OneByteReader(strings.NewReader(tc.stream)),
			} {
				got, err := readAll(r)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s: events = %q, want %q", name, got, tc.want)
				}
			}
		})
	}
}

func TestSSEReaderErrors(t *testing.T) {
	t.Parallel()
	broken := io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(io.ErrUnexpectedEOF))
	got, err := readAll(broken)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("broken stream: err = %v, want io.ErrUnexpectedEOF", err)
	}
	if want := []SSEEvent{{Data: "a"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("broken stream: events = %q, want %q (the cut event is not delivered)", got, want)
	}

	huge := "data: " + strings.Repeat("x", MaxSSEEvent) + "\n\n"
	if _, err := readAll(strings.NewReader(huge)); !errors.Is(err, errSSETooLarge) {
		t.Errorf("huge line: err = %v, want errSSETooLarge", err)
	}
	many := strings.Repeat("data: "+strings.Repeat("x", 1000)+"\n", MaxSSEEvent/1000+1)
	if _, err := readAll(strings.NewReader(many)); !errors.Is(err, errSSETooLarge) {
		t.Errorf("huge event: err = %v, want errSSETooLarge", err)
	}
}

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
	return streamResult{text: b.String(), err: err != nil, transient: IsTransient(err)}
}

func secondMeParser(r io.Reader, emit func(string) error) error { return readSecondMeStream(r, emit) }

func TestReadSecondMeStream(t *testing.T) {
	t.Parallel()
	delta := func(s string) string { return `data: {"choices":[{"delta":{"content":"` + s + `"}}]}` + "\n\n" }
	cases := []struct {
		name   string
		stream string
		want   streamResult
	}{
		{"documented", "event: session\ndata: {\"sessionId\": \"labs_sess_1\"}\n\n" + delta("Hel") + delta("lo") + "data: [DONE]\n\n",
			streamResult{text: "Hello"}},
		{"CRLF and no space", strings.ReplaceAll(strings.ReplaceAll(delta("Hel")+delta("lo")+"data: [DONE]\n\n", "data: ", "data:"), "\n", "\r\n"),
			streamResult{text: "Hello"}},
		{"unknown events skipped", delta("a") + "event: tool_call\ndata: {\"name\":\"x\"}\n\nevent: tool_result\ndata: not json\n\n" + delta("b") + "data: [DONE]",
			streamResult{text: "ab"}},
		{"empty and choiceless frames", delta("") + "data: {\"choices\":[]}\n\ndata: {}\n\n" + delta("a") + "data: [DONE]\n\n", streamResult{text: "a"}},
		{"code 0 is no error", "data: {\"code\":0,\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n", streamResult{text: "a"}},
		{"no [DONE] after text", delta("a"), streamResult{text: "a"}},
		{"nothing at all", "", streamResult{err: true, transient: true}},
		{"only a session", "event: session\ndata: {\"sessionId\":\"s\"}\n\n", streamResult{err: true, transient: true}},
		{"error event", delta("a") + "event: error\ndata: {\"code\":500,\"message\":\"boom\"}\n\n",
			streamResult{text: "a", err: true, transient: true}},
		{"error event without JSON", "event: error\ndata: boom\n\n", streamResult{err: true, transient: true}},
		{"in-stream error", "data: {\"code\":500,\"message\":\"boom\",\"subCode\":\"secondme.stream.error\"}\n\n",
			streamResult{err: true, transient: true}},
		{"in-stream client error", "data: {\"code\":403,\"subCode\":\"oauth2.scope.insufficient\"}\n\n", streamResult{err: true}},
		{"in-stream string code", "data: {\"code\":\"401\",\"message\":\"no\"}\n\n", streamResult{err: true}},
		{"malformed frame", delta("a") + "data: {nope\n\n", streamResult{text: "a", err: true}},
		{"text after [DONE] ignored", delta("a") + "data: [DONE]\n\n" + delta("b"), streamResult{text: "a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for name, r := range map[string]io.Reader{
				"whole":    strings.NewReader(tc.stream),
				"bytewise": iotest.OneByteReader(strings.NewReader(tc.stream)),
			} {
				if got := parseWith(secondMeParser, r); got != tc.want {
					t.Errorf("%s: got %+v, want %+v", name, got, tc.want)
				}
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

func FuzzSecondMeStream(f *testing.F) {
	f.Add([]byte("event: session\ndata: {\"sessionId\":\"labs_sess_1\"}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: [DONE]\n\n"))
	f.Add([]byte("data:{\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\r\n\r\nevent: error\r\ndata: {\"code\":500}"))
	f.Add([]byte("data: {\"code\":500,\"subCode\":\"secondme.stream.error\"}\n\n"))
	f.Fuzz(func(t *testing.T, stream []byte) { fuzzStream(t, secondMeParser, stream) })
}

func TestSecondMeEnvelopeError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status        int
		body          string
		want          string
		wantTransient bool
	}{
		{401, `{"code":401,"message":"invalid access token","subCode":"oauth2.token.invalid"}`,
			"secondme status 401: code 401 oauth2.token.invalid: invalid access token", false},
		{401, `{"code":401,"message":"revoked","error_code":"oauth2.authorization.revoked"}`,
			"secondme status 401: code 401 oauth2.authorization.revoked: revoked", false},
		{401, `{"detail":"invalid token"}`, "secondme status 401: invalid token", false},
		{200, `{"code":503,"message":"down","subCode":"connection.error"}`,
			"secondme status 200: code 503 connection.error: down", true},
		{502, `<html>bad gateway</html>`, "secondme status 502: <html>bad gateway</html>", true},
		{200, `{"code":0,"data":{}}`, `secondme status 200: {"code":0,"data":{}}`, false},
	}
	for _, tc := range cases {
		err := secondMeEnvelopeError(tc.status, strings.NewReader(tc.body))
		if err.Error() != tc.want || IsTransient(err) != tc.wantTransient {
			t.Errorf("%d %s: %q (transient %v), want %q (transient %v)", tc.status, tc.body, err, IsTransient(err), tc.want, tc.wantTransient)
		}
	}
}
