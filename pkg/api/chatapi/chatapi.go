// Package chatapi is the chat route group: sessions, message history and the chat turn as JSON
// (docs/api.md, function chat), and the same turn as Server-Sent Events (function chatstream). The same
// Handler serves both Lambda functions and the local stack.
package chatapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// Page limits of the listings.
const (
	defaultLimit = 20
	maxLimit     = 100
)

// Handler serves the chat routes.
type Handler struct {
	svc  *chat.Service
	auth api.Authenticator
}

// New returns the chat route group over a chat service; auth finds the signed-in person.
func New(svc *chat.Service, auth api.Authenticator) *Handler {
	return &Handler{svc: svc, auth: auth}
}

// Register adds the routes of the chat function to rt (not /api/health: the function's main adds it).
func (h *Handler) Register(rt *api.Router) {
	signedIn := func(f api.HandlerFunc) api.HandlerFunc { return api.RequireUser(h.auth, f) }
	rt.HandleFunc("GET /api/sessions", signedIn(h.listSessions))
	rt.HandleFunc("POST /api/sessions", signedIn(h.createSession))
	rt.HandleFunc("GET /api/sessions/{id}", signedIn(h.getSession))
	rt.HandleFunc("DELETE /api/sessions/{id}", signedIn(h.deleteSession))
	rt.HandleFunc("GET /api/sessions/{id}/messages", signedIn(h.listMessages))
	rt.HandleFunc("POST /api/chat", signedIn(h.postChat))
}

// RegisterStream adds the route of the chatstream function to rt: POST /api/chat/stream.
func (h *Handler) RegisterStream(rt *api.Router) {
	rt.HandleFunc("POST /api/chat/stream", api.RequireUser(h.auth, h.postStream))
}

// twinJSON names a session's twin.
type twinJSON struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Avatar   string `json:"avatar"`
}

// sessionJSON is a session in the API.
type sessionJSON struct {
	ID           string    `json:"id"`
	Twin         twinJSON  `json:"twin"`
	Title        string    `json:"title"`
	LastMessage  string    `json:"lastMessage"`
	MessageCount int64     `json:"messageCount"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

func sessionOut(v chat.SessionView) sessionJSON {
	return sessionJSON{ID: v.ID, Twin: twinJSON{ID: v.TwinID, Nickname: v.TwinNickname, Avatar: v.TwinAvatar}, Title: v.Title,
		LastMessage: v.LastMessage, MessageCount: v.MessageCount, CreatedAt: v.CreatedAt.UTC(), UpdatedAt: v.UpdatedAt.UTC()}
}

// messageJSON is a message in the API.
type messageJSON struct {
	ID              string    `json:"id"`
	SessionID       string    `json:"sessionId"`
	Role            string    `json:"role"`
	Content         string    `json:"content"`
	ClientMessageID string    `json:"clientMessageId,omitempty"`
	ReplyTo         string    `json:"replyTo,omitempty"`
	Incomplete      bool      `json:"incomplete"`
	Model           string    `json:"model,omitempty"`
	CreatedAt       time.Time `json:"createdAt"`
}

func messageOut(m store.ChatMessage) messageJSON {
	return messageJSON{ID: m.ID, SessionID: m.SessionID, Role: m.Role, Content: m.Content,
		ClientMessageID: m.ClientMessageID, ReplyTo: m.ReplyTo, Incomplete: m.Incomplete, Model: m.Model,
		CreatedAt: m.CreatedAt.UTC()}
}

func (h *Handler) listSessions(w http.ResponseWriter, r *http.Request) error {
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	page, err := h.svc.Sessions(r.Context(), api.UserID(r.Context()), r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return apiError(err, "cursor")
	}
	out := struct {
		Sessions []sessionJSON `json:"sessions"`
		Next     string        `json:"next"`
	}{Sessions: make([]sessionJSON, 0, len(page.Items)), Next: page.Next}
	for _, v := range page.Items {
		out.Sessions = append(out.Sessions, sessionOut(v))
	}
	api.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createSessionRequest is the body of POST /api/sessions.
type createSessionRequest struct {
	TwinID *string `json:"twinId"`
}

func (h *Handler) createSession(w http.ResponseWriter, r *http.Request) error {
	var req createSessionRequest
	if r.ContentLength != 0 { // the body is optional: no body means one's own twin
		if err := api.Decode(r, &req); err != nil {
			return err
		}
	}
	twinID := ""
	if req.TwinID != nil {
		if !id.Valid(*req.TwinID) {
			return fault.Invalid("twinId", "not an id in our format")
		}
		twinID = *req.TwinID
	}
	v, err := h.svc.CreateSession(r.Context(), api.UserID(r.Context()), twinID)
	if err != nil {
		return apiError(err, "")
	}
	api.WriteJSON(w, http.StatusCreated, sessionOut(v))
	return nil
}

func (h *Handler) getSession(w http.ResponseWriter, r *http.Request) error {
	sid, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := h.svc.Session(r.Context(), api.UserID(r.Context()), sid)
	if err != nil {
		return apiError(err, "")
	}
	api.WriteJSON(w, http.StatusOK, sessionOut(v))
	return nil
}

func (h *Handler) deleteSession(w http.ResponseWriter, r *http.Request) error {
	sid, err := pathID(r)
	if err != nil {
		return err
	}
	if err := h.svc.DeleteSession(r.Context(), api.UserID(r.Context()), sid); err != nil {
		return apiError(err, "")
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listMessages(w http.ResponseWriter, r *http.Request) error {
	sid, err := pathID(r)
	if err != nil {
		return err
	}
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	page, err := h.svc.Messages(r.Context(), api.UserID(r.Context()), sid, r.URL.Query().Get("before"), limit)
	if err != nil {
		return apiError(err, "before")
	}
	out := struct {
		Messages []messageJSON `json:"messages"`
		Next     string        `json:"next"`
	}{Messages: make([]messageJSON, 0, len(page.Items)), Next: page.Next}
	for _, m := range page.Items {
		out.Messages = append(out.Messages, messageOut(m))
	}
	api.WriteJSON(w, http.StatusOK, out)
	return nil
}

// turnJSON is the answer of POST /api/chat.
type turnJSON struct {
	SessionID string      `json:"sessionId"`
	Message   messageJSON `json:"message"`
	Reply     messageJSON `json:"reply"`
	Offline   bool        `json:"offline"`
	Replayed  bool        `json:"replayed"`
}

func (h *Handler) postChat(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeChat(r)
	if err != nil {
		return err
	}
	res, err := h.svc.Turn(r.Context(), req, chat.Events{})
	if errors.Is(err, chat.ErrClientGone) {
		return nil // nobody is listening; what the model wrote is saved, marked incomplete
	}
	if err != nil {
		return apiError(err, "")
	}
	api.WriteJSON(w, http.StatusOK, turnJSON{SessionID: res.SessionID, Message: messageOut(res.Message),
		Reply: messageOut(res.Reply), Offline: res.Offline, Replayed: res.Replayed})
	return nil
}

// apiError maps an error of the chat service that is not yet a fault (its sentinels are) to the error a
// client sees. cursorField names the query parameter of a listing's cursor, which a bad cursor is blamed on.
func apiError(err error, cursorField string) error {
	var quota *chat.QuotaError
	var model *chat.ModelError
	switch {
	case errors.As(err, &quota):
		return &fault.Error{Code: fault.CodeRateLimited, Message: "daily quota of model calls reached; try again tomorrow (UTC)",
			RetryAfter: quota.RetryAfter}
	case errors.As(err, &model) && model.Timeout:
		return fault.Unavailable("the model did not answer in time; retry with the same clientMessageId")
	case errors.As(err, &model):
		return &fault.Error{Code: fault.CodeUpstreamUnavailable, Message: "the model is unavailable; retry with the same clientMessageId"}
	case errors.Is(err, store.ErrBadCursor) && cursorField != "":
		return fault.Invalid(cursorField, "not a cursor of this listing")
	}
	return err
}

// pageLimit reads ?limit= (1-100, default 20).
func pageLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, fault.Invalid("limit", "must be a whole number from 1 to 100")
	}
	return n, nil
}

// pathID returns the {id} path value, or a 400 naming "id" when it is not in our format.
func pathID(r *http.Request) (string, error) {
	v := r.PathValue("id")
	if !id.Valid(v) {
		return "", fault.Invalid("id", "not an id in our format")
	}
	return v, nil
}
