package chatapi

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/text"
)

// Limits of a chat request (docs/api.md).
const (
	// MaxMessageRunes is the longest message, in characters after trimming.
	MaxMessageRunes = 4000
	// MaxClientMessageID is the longest clientMessageId.
	MaxClientMessageID = 64
)

// chatRequest is the body of POST /api/chat and POST /api/chat/stream.
type chatRequest struct {
	Message         *string `json:"message"`
	SessionID       *string `json:"sessionId"`
	TwinID          *string `json:"twinId"`
	ClientMessageID *string `json:"clientMessageId"`
}

// decodeChat reads and validates a chat request of the signed-in person.
func decodeChat(r *http.Request) (chat.TurnRequest, error) {
	var req chatRequest
	if err := api.Decode(r, &req); err != nil {
		return chat.TurnRequest{}, err
	}
	t, err := req.validate()
	if err != nil {
		return chat.TurnRequest{}, err
	}
	t.UserID = api.UserID(r.Context())
	return t, nil
}

// parseChat decodes and validates a chat request body (the fuzz target's entry).
func parseChat(body []byte) (chat.TurnRequest, error) {
	if len(body) > api.MaxBody {
		return chat.TurnRequest{}, fault.Errorf(fault.CodePayloadTooLarge, "body is larger than %d bytes", api.MaxBody)
	}
	var req chatRequest
	if err := api.DecodeBytes(body, &req); err != nil {
		return chat.TurnRequest{}, err
	}
	return req.validate()
}

// validate checks every field, naming each one at fault: message 1-4000 characters after trimming,
// without control characters other than newline and tab (package text);
// sessionId and twinId ids in our format when present; clientMessageId 1-64 of [A-Za-z0-9_-] when present.
func (c chatRequest) validate() (chat.TurnRequest, error) {
	var t chat.TurnRequest
	f := fault.Fields{}
	switch {
	case c.Message == nil:
		f.Add("message", "required")
	case !utf8.ValidString(*c.Message):
		f.Add("message", "not valid UTF-8")
	default:
		t.Message = strings.TrimSpace(*c.Message)
		if n := utf8.RuneCountInString(t.Message); n == 0 {
			f.Add("message", "must not be empty")
		} else if n > MaxMessageRunes {
			f.Add("message", "longer than 4000 characters")
		} else if why := text.Check(t.Message, text.Body); why != "" {
			f.Add("message", why)
		}
	}
	if c.SessionID != nil {
		if !id.Valid(*c.SessionID) {
			f.Add("sessionId", "not an id in our format")
		}
		t.SessionID = *c.SessionID
	}
	if c.TwinID != nil {
		if !id.Valid(*c.TwinID) {
			f.Add("twinId", "not an id in our format")
		}
		t.TwinID = *c.TwinID
	}
	if c.ClientMessageID != nil {
		if !validClientMessageID(*c.ClientMessageID) {
			f.Add("clientMessageId", "must be 1-64 characters of A-Z, a-z, 0-9, _ and -")
		}
		t.ClientMessageID = *c.ClientMessageID
	}
	if err := f.Err(); err != nil {
		return chat.TurnRequest{}, err
	}
	return t, nil
}

func validClientMessageID(s string) bool {
	if len(s) == 0 || len(s) > MaxClientMessageID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
