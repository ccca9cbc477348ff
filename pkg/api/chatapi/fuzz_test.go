package chatapi

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/text"
)

// FuzzParseChat feeds the chat request decoder arbitrary bodies: it never panics, refuses with a
// 400 or 413 that names a field, and what it accepts keeps every limit and the text rule.
func FuzzParseChat(f *testing.F) {
	f.Add([]byte(`{"message":"hello","clientMessageId":"abc-1"}`))
	f.Add([]byte(`{"message":"hi","sessionId":"` + id.New() + `","twinId":"` + id.New() + `"}`))
	f.Add([]byte(`{"message":"\ud800 \u0000","clientMessageId":""}`))
	f.Add([]byte(`{"message":"   "}`))
	f.Add([]byte(`{"message":null,"extra":1}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := parseChat(body)
		if err != nil {
			var e *fault.Error
			if !errors.As(err, &e) {
				t.Fatalf("error of another type: %T %v", err, err)
			}
			if s := api.Status(e); s != 400 && s != 413 {
				t.Fatalf("status %d for %q", s, body)
			}
			if s := api.Status(e); s == 400 && len(e.Fields) == 0 {
				t.Fatalf("400 naming no field: %v", e)
			}
			return
		}
		n := utf8.RuneCountInString(req.Message)
		if n < 1 || n > MaxMessageRunes || !utf8.ValidString(req.Message) || strings.TrimSpace(req.Message) != req.Message {
			t.Fatalf("accepted message of %d runes: %q", n, req.Message)
		}
		if why := text.Check(req.Message, text.Body); why != "" {
			t.Fatalf("accepted message %q that breaks the text rule: %s", req.Message, why)
		}
		if req.SessionID != "" && !id.Valid(req.SessionID) || req.TwinID != "" && !id.Valid(req.TwinID) {
			t.Fatalf("accepted ids %q %q", req.SessionID, req.TwinID)
		}
		if req.ClientMessageID != "" && !validClientMessageID(req.ClientMessageID) {
			t.Fatalf("accepted clientMessageId %q", req.ClientMessageID)
		}
	})
}
