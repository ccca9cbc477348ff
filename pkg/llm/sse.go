package llm

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// MaxSSEEvent caps one line and one event's data; a model's frame is a few hundred bytes.
const MaxSSEEvent = 1 << 20

// errSSETooLarge is returned for a line or an event over MaxSSEEvent.
var errSSETooLarge = errors.New("server-sent event over 1 MiB")

// SSEEvent is one Server-Sent Event.
type SSEEvent struct {
	// Event is the `event:` name; empty when the stream names none (the standard's "message").
	Event string
	// Data is the event's `data:` lines joined with "\n".
	Data string
}

// SSEReader reads Server-Sent Events robustly: "\n" or "\r\n" line ends, `field:value` with or
// without the space, lines split across reads, comments, a leading byte order mark, and a last event
// that the stream ends without a blank line.
type SSEReader struct {
	r     *bufio.Reader
	line  []byte
	first bool
}

// NewSSEReader reads events from r.
func NewSSEReader(r io.Reader) *SSEReader {
	return &SSEReader{r: bufio.NewReaderSize(r, 4096), first: true}
}

// Next returns the next event with data. It returns io.EOF at the end of the stream, and the
// reader's error when the stream breaks.
func (s *SSEReader) Next() (SSEEvent, error) {
	var name string
	var data strings.Builder
	hasData := false
	for {
		line, err := s.readLine()
		if errors.Is(err, io.EOF) && hasData {
			return SSEEvent{Event: name, Data: data.String()}, nil
		}
		if err != nil {
			return SSEEvent{}, err
		}
		if len(line) == 0 {
			if hasData {
				return SSEEvent{Event: name, Data: data.String()}, nil
			}
			name = ""
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			name = string(value)
		case "data":
			if data.Len()+len(value)+1 > MaxSSEEvent {
				return SSEEvent{}, errSSETooLarge
			}
			if hasData {
				data.WriteByte('\n')
			}
			data.Write(value)
			hasData = true
		}
	}
}

// readLine returns the next line without its line end. A last line without one is returned before
// io.EOF. The returned slice is valid until the next call.
func (s *SSEReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(s.line)+len(chunk) > MaxSSEEvent {
			return nil, errSSETooLarge
		}
		s.line = append(s.line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (!errors.Is(err, io.EOF) || len(s.line) == 0) {
			return nil, err
		}
		break
	}
	line := bytes.TrimSuffix(s.line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if s.first {
		s.first = false
		line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
	}
	return line, nil
}
