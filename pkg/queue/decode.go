package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrBadJob means a message body is not a job: not JSON, an unknown kind or field, bad values.
// Retrying it cannot help; the queue moves it to the dead-letter queue after its receives run out.
// Each package's own bad-job error wraps it.
var ErrBadJob = errors.New("bad job")

// Decode reads a job body into v strictly: at most max bytes, one JSON object with only the fields
// of v, and nothing after it. The caller checks the values and wraps the error in its own.
func Decode(body []byte, max int, v any) error {
	if len(body) > max {
		return fmt.Errorf("%d bytes, more than %d", len(body), max)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the object")
	}
	return nil
}

// Kind returns the "kind" of a job body of at most max bytes, so that one queue handler can route
// bodies of several kinds; "" when the body is longer, not a JSON object or has no kind.
func Kind(body []byte, max int) string {
	var k struct {
		Kind string `json:"kind"`
	}
	if len(body) > max || json.Unmarshal(body, &k) != nil {
		return ""
	}
	return k.Kind
}
