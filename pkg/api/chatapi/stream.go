package chatapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/chat"
)

// Server-Sent Events of POST /api/chat/stream.
const (
	// EventSession carries {sessionId} once the session is known.
	EventSession = "session"
	// EventDelta carries {text}, a piece of the reply.
	EventDelta = "delta"
	// EventDone carries {messageId, replyId, incomplete, offline} when the reply is saved.
	EventDone = "done"
	// EventError carries {code, message} when the turn fails after the stream began.
	EventError = "error"
)

// eventWriteTimeout is how long writing one event may take. The server's write timeout bounds a whole
// answer, which a stream outlives (its model deadline is longer), so each event moves the connection's
// write deadline on instead: a client that stops reading is still dropped.
const eventWriteTimeout = 30 * time.Second

// sseWriter writes Server-Sent Events, starting the 200 event stream on the first one and flushing each.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

// send writes one event. An error means the client is gone.
func (s *sseWriter) send(event string, v any) error {
	if !s.started {
		h := s.w.Header()
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no")
		s.w.WriteHeader(http.StatusOK)
		s.started = true
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf := make([]byte, 0, len(event)+len(data)+16)
	buf = append(buf, "event: "...)
	buf = append(buf, event...)
	buf = append(buf, "\ndata: "...)
	buf = append(buf, data...)
	buf = append(buf, "\n\n"...)
	// A writer without deadlines (a Lambda Function URL stream, a test recorder) has no timeout to lift.
	if err := s.rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if _, err := s.w.Write(buf); err != nil {
		return err
	}
	// A writer without Flush (a Lambda Function URL stream) writes through: nothing to flush.
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// postStream runs a turn as Server-Sent Events: `session`, `delta`s, then `done` or `error`. Errors
// before the stream begins (bad body, unknown session, refused twin, spent quota) are plain JSON errors
// with their status; after it began they are an `error` event. When the client goes away the model call
// is cancelled and the partial reply is saved, marked incomplete.
func (h *Handler) postStream(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeChat(r)
	if err != nil {
		return err
	}
	sse := &sseWriter{w: w, rc: http.NewResponseController(w)}
	res, err := h.svc.Turn(r.Context(), req, chat.Events{
		Session: func(id string) error {
			return sse.send(EventSession, map[string]string{"sessionId": id})
		},
		Delta: func(text string) error {
			return sse.send(EventDelta, map[string]string{"text": text})
		},
	})
	switch {
	case errors.Is(err, chat.ErrClientGone):
		api.Logger(r.Context()).InfoContext(r.Context(), "chat stream: client went away", "session_id", res.SessionID,
			"reply_id", res.Reply.ID)
		return nil
	case err != nil && !sse.started:
		return apiError(err, "")
	case err != nil:
		e := api.FromError(apiError(err, ""))
		if api.Status(e) >= 500 {
			api.Logger(r.Context()).ErrorContext(r.Context(), "chat stream failed", "err", err, "session_id", res.SessionID)
		}
		_ = sse.send(EventError, map[string]string{"code": e.Code, "message": api.Message(e, api.Language(r))})
		return nil
	}
	_ = sse.send(EventDone, doneJSON{MessageID: res.Message.ID, ReplyID: res.Reply.ID,
		Incomplete: res.Reply.Incomplete, Offline: res.Offline})
	return nil
}

// doneJSON is the data of the `done` event.
type doneJSON struct {
	MessageID  string `json:"messageId"`
	ReplyID    string `json:"replyId"`
	Incomplete bool   `json:"incomplete"`
	Offline    bool   `json:"offline"`
}
