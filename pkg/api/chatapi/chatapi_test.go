package chatapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/apitest"
	"github.com/secondme/twin/pkg/api/chatapi"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/chat/chattest"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/gemini"
	"github.com/secondme/twin/pkg/llm/llmtest"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// stack is the chat routes over a real SQLite store with a scripted model, as the local stack wires them.
type stack struct {
	st    *sqlitestore.Store
	model *chattest.Script
	h     http.Handler
	me    string
	other string
}

func newStack(tb testing.TB, opts chat.Options, steps ...chattest.Step) *stack {
	tb.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(tb.TempDir(), "chat.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	s := &stack{st: st, model: &chattest.Script{Steps: steps}}
	s.me = s.person(tb, "Me", true, true)
	s.other = s.person(tb, "Other", true, true)
	h := chatapi.New(chat.New(st, chat.OneModel{Model: s.model}, opts), apitest.HeaderAuth{})
	rt := api.NewRouter()
	h.Register(rt)
	h.RegisterStream(rt)
	s.h = api.Wrap(rt, api.Edge{PublicURL: apitest.Origin})
	return s
}

func (s *stack) person(tb testing.TB, nick string, discoverable, allow bool) string {
	tb.Helper()
	now := time.Now().UTC()
	u := store.User{ID: id.New(), Nickname: nick, Discoverable: discoverable, AllowTwinChat: allow, CreatedAt: now, UpdatedAt: now,
		Shades: []store.Shade{{ID: id.New(), Name: "Jazz", Confidence: store.ConfidenceHigh, Description: "PRIVATE",
			Public: &store.PublicShade{Description: "Plays the saxophone"}}}}
	if err := s.st.CreateUser(context.Background(), u); err != nil {
		tb.Fatalf("create user: %v", err)
	}
	return u.ID
}

// do serves one request and decodes a JSON answer into out (when not nil).
func (s *stack) do(tb testing.TB, method, target, user, body string, out any) *httptest.ResponseRecorder {
	tb.Helper()
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, apitest.Request(method, target, user, body))
	if out != nil && rec.Code < 300 {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", method, target, rec.Body.String(), err)
		}
	}
	return rec
}

type turnOut struct {
	SessionID string     `json:"sessionId"`
	Message   messageOut `json:"message"`
	Reply     messageOut `json:"reply"`
	Offline   bool       `json:"offline"`
	Replayed  bool       `json:"replayed"`
}

type messageOut struct {
	ID         string `json:"id"`
	Role       string `json:"role"`
	Content    string `json:"content"`
	ReplyTo    string `json:"replyTo"`
	Incomplete bool   `json:"incomplete"`
}

type sessionOut struct {
	ID   string `json:"id"`
	Twin struct {
		ID       string `json:"id"`
		Nickname string `json:"nickname"`
	} `json:"twin"`
	LastMessage  string `json:"lastMessage"`
	MessageCount int    `json:"messageCount"`
}

type errorOut struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func (s *stack) chat(tb testing.TB, user, body string) turnOut {
	tb.Helper()
	var out turnOut
	if rec := s.do(tb, "POST", "/api/chat", user, body, &out); rec.Code != http.StatusOK {
		tb.Fatalf("POST /api/chat %s: %d %s", body, rec.Code, rec.Body.String())
	}
	return out
}

func TestChatWithOwnAndAnothersTwin(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{}, chattest.Step{Deltas: []string{"Hello ", "there"}})
	own := s.chat(t, s.me, `{"message":"  hi me  ","clientMessageId":"a1"}`)
	if own.SessionID == "" || own.Message.Content != "hi me" || own.Reply.Content != "Hello there" || own.Reply.ReplyTo != own.Message.ID {
		t.Errorf("own twin turn: %+v", own)
	}
	other := s.chat(t, s.me, fmt.Sprintf(`{"message":"hi other","twinId":%q}`, s.other))
	if other.SessionID == own.SessionID {
		t.Errorf("another's twin got the own session")
	}
	var sess sessionOut
	if rec := s.do(t, "GET", "/api/sessions/"+other.SessionID, s.me, "", &sess); rec.Code != http.StatusOK {
		t.Fatalf("get session: %d %s", rec.Code, rec.Body.String())
	}
	if sess.Twin.ID != s.other || sess.Twin.Nickname != "Other" || sess.LastMessage != "Hello there" || sess.MessageCount != 2 {
		t.Errorf("session: %+v", sess)
	}
	var list struct {
		Sessions []sessionOut `json:"sessions"`
		Next     string       `json:"next"`
	}
	s.do(t, "GET", "/api/sessions?limit=10", s.me, "", &list)
	if len(list.Sessions) != 2 || list.Sessions[0].ID != other.SessionID || list.Sessions[1].Twin.Nickname != "Me" {
		t.Errorf("sessions: %+v", list)
	}
	// Continue the session with its id.
	again := s.chat(t, s.me, fmt.Sprintf(`{"message":"more","sessionId":%q}`, other.SessionID))
	if again.SessionID != other.SessionID {
		t.Errorf("continued turn went to session %s", again.SessionID)
	}
}

func TestCreateAndDeleteSession(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{})
	var sess sessionOut
	rec := s.do(t, "POST", "/api/sessions", s.me, fmt.Sprintf(`{"twinId":%q}`, s.other), &sess)
	if rec.Code != http.StatusCreated || sess.Twin.ID != s.other {
		t.Fatalf("create: %d %s", rec.Code, rec.Body.String())
	}
	rec = s.do(t, "POST", "/api/sessions", s.me, "", &sess)
	if rec.Code != http.StatusCreated || sess.Twin.ID != s.me {
		t.Fatalf("create own without a body: %d %s", rec.Code, rec.Body.String())
	}
	if rec := s.do(t, "DELETE", "/api/sessions/"+sess.ID, s.me, "", nil); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d %s", rec.Code, rec.Body.String())
	}
	if rec := s.do(t, "GET", "/api/sessions/"+sess.ID, s.me, "", nil); rec.Code != http.StatusNotFound {
		t.Errorf("deleted session: got %d, want 404", rec.Code)
	}
}

func TestPagingBackThroughHistory(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{})
	first := s.chat(t, s.me, `{"message":"turn 0"}`)
	for i := 1; i < 23; i++ {
		s.chat(t, s.me, fmt.Sprintf(`{"message":"turn %d","sessionId":%q}`, i, first.SessionID))
	}
	var all []messageOut
	cursor, pages := "", 0
	for {
		var page struct {
			Messages []messageOut `json:"messages"`
			Next     string       `json:"next"`
		}
		rec := s.do(t, "GET", "/api/sessions/"+first.SessionID+"/messages?limit=10&before="+cursor, s.me, "", &page)
		if rec.Code != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, rec.Code, rec.Body.String())
		}
		all = append(all, page.Messages...)
		pages++
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if got, want := len(all), 46; got != want {
		t.Fatalf("messages: got %d, want %d", got, want)
	}
	if pages != 5 {
		t.Errorf("pages: got %d, want 5", pages)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("message %d (%s) is not older than the one before (%s)", i, all[i].ID, all[i-1].ID)
		}
	}
	if all[0].Role != store.RoleAssistant || all[1].Content != "turn 22" || all[len(all)-1].Content != "turn 0" {
		t.Errorf("newest first: got %q ... %q", all[1].Content, all[len(all)-1].Content)
	}
}

func TestRetryCreatesNoDuplicate(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{})
	first := s.chat(t, s.me, `{"message":"hello"}`)
	body := fmt.Sprintf(`{"message":"once","sessionId":%q,"clientMessageId":"retry-1"}`, first.SessionID)
	a := s.chat(t, s.me, body)
	b := s.chat(t, s.me, body)
	if !b.Replayed || a.Reply.ID != b.Reply.ID || a.Message.ID != b.Message.ID {
		t.Errorf("retry: got %+v, want the stored turn %+v", b, a)
	}
	var page struct {
		Messages []messageOut `json:"messages"`
	}
	s.do(t, "GET", "/api/sessions/"+first.SessionID+"/messages", s.me, "", &page)
	if got := len(page.Messages); got != 4 {
		t.Errorf("messages: got %d, want 4", got)
	}
	if got := s.model.Calls(); got != 2 {
		t.Errorf("model calls: got %d, want 2", got)
	}
}

func TestRefusedTwins(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{})
	hidden := s.person(t, "Hidden", false, true)
	shy := s.person(t, "Shy", true, false)
	blocker := s.person(t, "Blocker", true, true)
	if err := s.st.PutBlock(context.Background(), store.Block{BlockerID: blocker, BlockedID: s.me, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		twin   string
		status int
	}{
		{"not discoverable", hidden, http.StatusNotFound},
		{"no twin chats", shy, http.StatusForbidden},
		{"blocked", blocker, http.StatusNotFound},
		{"unknown", id.New(), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/api/chat", "/api/chat/stream"} {
				rec := s.do(t, "POST", path, s.me, fmt.Sprintf(`{"message":"hi","twinId":%q}`, tt.twin), nil)
				if rec.Code != tt.status {
					t.Errorf("%s: got %d %s, want %d", path, rec.Code, rec.Body.String(), tt.status)
				}
			}
			if rec := s.do(t, "POST", "/api/sessions", s.me, fmt.Sprintf(`{"twinId":%q}`, tt.twin), nil); rec.Code != tt.status {
				t.Errorf("create session: got %d, want %d", rec.Code, tt.status)
			}
		})
	}
	if s.model.Calls() != 0 {
		t.Errorf("the model was called for a refused twin")
	}
}

func TestAnotherPersonsSessionIsNotFound(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{})
	theirs := s.chat(t, s.other, `{"message":"private chat"}`)
	for _, tt := range []struct{ method, path, body string }{
		{"GET", "/api/sessions/" + theirs.SessionID, ""},
		{"DELETE", "/api/sessions/" + theirs.SessionID, ""},
		{"GET", "/api/sessions/" + theirs.SessionID + "/messages", ""},
		{"POST", "/api/chat", fmt.Sprintf(`{"message":"x","sessionId":%q}`, theirs.SessionID)},
		{"POST", "/api/chat/stream", fmt.Sprintf(`{"message":"x","sessionId":%q}`, theirs.SessionID)},
	} {
		if rec := s.do(t, tt.method, tt.path, s.me, tt.body, nil); rec.Code != http.StatusNotFound {
			t.Errorf("%s %s: got %d, want 404", tt.method, tt.path, rec.Code)
		}
	}
	var list struct {
		Sessions []sessionOut `json:"sessions"`
	}
	s.do(t, "GET", "/api/sessions", s.me, "", &list)
	if len(list.Sessions) != 0 {
		t.Errorf("my sessions list another's: %+v", list.Sessions)
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{})
	huge := `{"message":"` + strings.Repeat("a", api.MaxBody) + `"}`
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		ctype  string
		status int
		field  string
	}{
		{"no message", "POST", "/api/chat", `{}`, "", 400, "message"},
		{"blank message", "POST", "/api/chat", `{"message":"  \n "}`, "", 400, "message"},
		{"message too long", "POST", "/api/chat", `{"message":"` + strings.Repeat("é", 4001) + `"}`, "", 400, "message"},
		{"message of the wrong type", "POST", "/api/chat", `{"message":5}`, "", 400, "message"},
		{"message with control characters", "POST", "/api/chat", `{"message":"before\u0000after \u001b[31mred \u0085"}`, "", 400, "message"},
		{"message with ESC", "POST", "/api/chat", `{"message":"\u001b[2J"}`, "", 400, "message"},
		{"message with a C1 control", "POST", "/api/chat", `{"message":"a\u0085b"}`, "", 400, "message"},
		{"stream: message with NUL", "POST", "/api/chat/stream", `{"message":"a\u0000b"}`, "", 400, "message"},
		{"bad session id", "POST", "/api/chat", `{"message":"x","sessionId":"../etc"}`, "", 400, "sessionId"},
		{"empty session id", "POST", "/api/chat", `{"message":"x","sessionId":""}`, "", 400, "sessionId"},
		{"bad twin id", "POST", "/api/chat", `{"message":"x","twinId":"abc"}`, "", 400, "twinId"},
		{"bad client message id", "POST", "/api/chat", `{"message":"x","clientMessageId":"has space"}`, "", 400, "clientMessageId"},
		{"long client message id", "POST", "/api/chat", `{"message":"x","clientMessageId":"` + strings.Repeat("a", 65) + `"}`, "", 400, "clientMessageId"},
		{"unknown field", "POST", "/api/chat", `{"message":"x","role":"system"}`, "", 400, "role"},
		{"malformed", "POST", "/api/chat", `{"message":`, "", 400, "body"},
		{"too large", "POST", "/api/chat", huge, "", 413, ""},
		{"not JSON", "POST", "/api/chat", `message=x`, "text/plain", 415, ""},
		{"stream: no message", "POST", "/api/chat/stream", `{}`, "", 400, "message"},
		{"stream: too large", "POST", "/api/chat/stream", huge, "", 413, ""},
		{"create: bad twin id", "POST", "/api/sessions", `{"twinId":"x"}`, "", 400, "twinId"},
		{"bad path id", "GET", "/api/sessions/nope", "", "", 400, "id"},
		{"bad limit", "GET", "/api/sessions?limit=0", "", "", 400, "limit"},
		{"limit too large", "GET", "/api/sessions?limit=101", "", "", 400, "limit"},
		{"bad cursor", "GET", "/api/sessions?cursor=zzz", "", "", 400, "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := apitest.Request(tt.method, tt.path, s.me, tt.body)
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			rec := httptest.NewRecorder()
			s.h.ServeHTTP(rec, r)
			if rec.Code != tt.status {
				t.Fatalf("status: got %d %s, want %d", rec.Code, rec.Body.String(), tt.status)
			}
			var e errorOut
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("error body %q: %v", rec.Body.String(), err)
			}
			if _, ok := e.Error.Fields[tt.field]; tt.field != "" && !ok {
				t.Errorf("fields: got %v, want %q named", e.Error.Fields, tt.field)
			}
		})
	}
	// A bad message cursor is blamed on "before".
	own := s.chat(t, s.me, `{"message":"x"}`)
	other := s.chat(t, s.me, `{"message":"y"}`)
	var page struct {
		Next string `json:"next"`
	}
	s.chat(t, s.me, fmt.Sprintf(`{"message":"z","sessionId":%q}`, own.SessionID))
	s.do(t, "GET", "/api/sessions/"+own.SessionID+"/messages?limit=1", s.me, "", &page)
	rec := s.do(t, "GET", "/api/sessions/"+other.SessionID+"/messages?before="+page.Next, s.me, "", nil)
	var e errorOut
	_ = json.Unmarshal(rec.Body.Bytes(), &e)
	if _, ok := e.Error.Fields["before"]; rec.Code != 400 || !ok {
		t.Errorf("a cursor of another session: got %d %s, want 400 naming before", rec.Code, rec.Body.String())
	}
	if rec := s.do(t, "GET", "/api/sessions", "", "", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("signed out: got %d, want 401", rec.Code)
	}
}

func TestQuotaAndModelFailures(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{DailyQuota: 3, ModelTimeout: 50 * time.Millisecond},
		chattest.Step{Err: llm.ErrUnavailable}, chattest.Step{Stall: true}, chattest.Step{Deltas: []string{"ok"}})
	body := `{"message":"hi","clientMessageId":"q1"}`
	first := s.do(t, "POST", "/api/chat", s.me, body, nil)
	if first.Code != http.StatusBadGateway {
		t.Fatalf("model 5xx: got %d %s, want 502", first.Code, first.Body.String())
	}
	var list struct {
		Sessions []sessionOut `json:"sessions"`
	}
	s.do(t, "GET", "/api/sessions", s.me, "", &list)
	if len(list.Sessions) != 1 {
		t.Fatalf("sessions after a failed first turn: %d", len(list.Sessions))
	}
	retry := fmt.Sprintf(`{"message":"hi","clientMessageId":"q1","sessionId":%q}`, list.Sessions[0].ID)
	if rec := s.do(t, "POST", "/api/chat", s.me, retry, nil); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("model timeout: got %d %s, want 503", rec.Code, rec.Body.String())
	}
	out := s.chat(t, s.me, retry)
	if out.Reply.Content != "ok" {
		t.Errorf("retry reply: %+v", out)
	}
	rec := s.do(t, "POST", "/api/chat", s.me, retry, nil) // a replay costs no quota
	if rec.Code != http.StatusOK {
		t.Fatalf("replay: %d", rec.Code)
	}
	rec = s.do(t, "POST", "/api/chat", s.me, `{"message":"one more"}`, nil)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("spent quota: got %d Retry-After %q, want 429 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// event is one Server-Sent Event read back.
type event struct {
	Name string
	Data map[string]any
}

// readEvents parses a Server-Sent Events stream until it ends, or until stop returns true.
func readEvents(tb testing.TB, r io.Reader, stop func(event) bool) []event {
	tb.Helper()
	var out []event
	var cur event
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.Name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.Data); err != nil {
				tb.Fatalf("event data %q: %v", line, err)
			}
		case line == "":
			out = append(out, cur)
			if stop != nil && stop(cur) {
				return out
			}
			cur = event{}
		}
	}
	return out
}

func TestStream(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{}, chattest.Step{Deltas: []string{"one ", "two ", "three"}})
	rec := s.do(t, "POST", "/api/chat/stream", s.me, `{"message":"stream please","clientMessageId":"s1"}`, nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	events := readEvents(t, rec.Body, nil)
	var names []string
	var text string
	for _, e := range events {
		names = append(names, e.Name)
		if e.Name == chatapi.EventDelta {
			text += e.Data["text"].(string)
		}
	}
	if got, want := strings.Join(names, ","), "session,delta,delta,delta,done"; got != want {
		t.Fatalf("events: got %s, want %s", got, want)
	}
	if text != "one two three" {
		t.Errorf("deltas: %q", text)
	}
	sessionID := events[0].Data["sessionId"].(string)
	done := events[len(events)-1].Data
	if done["incomplete"] != false || done["messageId"] == "" || done["replyId"] == "" {
		t.Errorf("done: %v", done)
	}
	var page struct {
		Messages []messageOut `json:"messages"`
	}
	s.do(t, "GET", "/api/sessions/"+sessionID+"/messages", s.me, "", &page)
	if len(page.Messages) != 2 || page.Messages[0].ID != done["replyId"] || page.Messages[0].Content != "one two three" {
		t.Errorf("stored: %+v", page.Messages)
	}
	// The same clientMessageId replays the stored reply as one delta.
	rec = s.do(t, "POST", "/api/chat/stream", s.me, fmt.Sprintf(`{"message":"stream please","clientMessageId":"s1","sessionId":%q}`, sessionID), nil)
	replay := readEvents(t, rec.Body, nil)
	if len(replay) != 3 || replay[1].Data["text"] != "one two three" || replay[2].Data["replyId"] != done["replyId"] {
		t.Errorf("replay: %+v", replay)
	}
}

func TestStreamModelErrorAfterStart(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{}, chattest.Step{Deltas: []string{"half"}, Err: llm.ErrUnavailable}, chattest.Step{Deltas: []string{"whole"}})
	rec := s.do(t, "POST", "/api/chat/stream", s.me, `{"message":"x","clientMessageId":"e1"}`, nil)
	events := readEvents(t, rec.Body, nil)
	last := events[len(events)-1]
	if last.Name != chatapi.EventError || last.Data["code"] != fault.CodeUpstreamUnavailable {
		t.Fatalf("last event: %+v", last)
	}
	sessionID := events[0].Data["sessionId"].(string)
	rec = s.do(t, "POST", "/api/chat/stream", s.me, fmt.Sprintf(`{"message":"x","clientMessageId":"e1","sessionId":%q}`, sessionID), nil)
	events = readEvents(t, rec.Body, nil)
	if last := events[len(events)-1]; last.Name != chatapi.EventDone {
		t.Fatalf("retry: %+v", events)
	}
	var page struct {
		Messages []messageOut `json:"messages"`
	}
	s.do(t, "GET", "/api/sessions/"+sessionID+"/messages", s.me, "", &page)
	if len(page.Messages) != 2 || page.Messages[0].Content != "whole" {
		t.Errorf("after retry: %+v", page.Messages)
	}
}

// TestStreamClientDisconnect runs the stream over a real HTTP server: the client reads the first delta
// and hangs up; the model call is cancelled and the partial reply is saved, marked incomplete.
func TestStreamClientDisconnect(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{}, chattest.Step{Deltas: []string{"partial ", "reply"}, Stall: true})
	srv := httptest.NewServer(s.h)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/chat/stream", strings.NewReader(`{"message":"go"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", apitest.Origin)
	req.Header.Set(apitest.UserHeader, s.me)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sessionID string
	readEvents(t, resp.Body, func(e event) bool {
		if e.Name == chatapi.EventSession {
			sessionID = e.Data["sessionId"].(string)
		}
		return e.Name == chatapi.EventDelta && e.Data["text"] == "reply"
	})
	cancel()
	resp.Body.Close()
	srv.Close() // waits for the handler, which saves the partial reply before it returns

	page, err := s.st.ListMessages(context.Background(), sessionID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("no partial reply saved after the client left: %+v", page.Items)
	}
	if r := page.Items[0]; !r.Incomplete || r.Content != "partial reply" || r.Role != store.RoleAssistant {
		t.Errorf("saved reply: %+v", r)
	}
}

// newGeminiStack is the chat routes on the real Gemini provider (genai) pointed at a fake Gemini.
func newGeminiStack(tb testing.TB, opts chat.Options) (*stack, *llmtest.Gemini) {
	tb.Helper()
	fake := llmtest.NewGemini(tb)
	model, err := gemini.Provider.Model(fake.Values(), llm.Options{Timeout: 5 * time.Second, RetryDelay: time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	s := newStack(tb, opts)
	h := chatapi.New(chat.New(s.st, chat.OneModel{Model: model}, opts), apitest.HeaderAuth{})
	rt := api.NewRouter()
	h.Register(rt)
	h.RegisterStream(rt)
	s.h = api.Wrap(rt, api.Edge{PublicURL: apitest.Origin})
	return s, fake
}

// TestGeminiFailuresAreRetryable runs a 500, a timeout and a stream broken midway through the real
// genai provider: each answers 502/503 or an `error` event, keeps the message, and the retry with
// the same clientMessageId completes the turn.
func TestGeminiFailuresAreRetryable(t *testing.T) {
	t.Parallel()
	s, fake := newGeminiStack(t, chat.Options{ModelTimeout: 300 * time.Millisecond})
	fake.Reply("Hello from Gemini", 3)

	fake.FailNext(500, 500) // the call and the provider's one retry
	body := `{"message":"hi","clientMessageId":"g1"}`
	if rec := s.do(t, "POST", "/api/chat", s.me, body, nil); rec.Code != http.StatusBadGateway {
		t.Fatalf("500: got %d %s, want 502", rec.Code, rec.Body.String())
	}
	var list struct {
		Sessions []sessionOut `json:"sessions"`
	}
	s.do(t, "GET", "/api/sessions", s.me, "", &list)
	sid := list.Sessions[0].ID
	retry := fmt.Sprintf(`{"message":"hi","clientMessageId":"g1","sessionId":%q}`, sid)

	fake.Delay(2 * time.Second)
	if rec := s.do(t, "POST", "/api/chat", s.me, retry, nil); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("timeout: got %d %s, want 503", rec.Code, rec.Body.String())
	}
	fake.Delay(0)
	if out := s.chat(t, s.me, retry); out.Reply.Content != "Hello from Gemini" || out.Message.Content != "hi" {
		t.Errorf("retry: %+v", out)
	}

	fake.BreakAfter(1)
	streamBody := fmt.Sprintf(`{"message":"and now?","clientMessageId":"g2","sessionId":%q}`, sid)
	events := readEvents(t, s.do(t, "POST", "/api/chat/stream", s.me, streamBody, nil).Body, nil)
	if last := events[len(events)-1]; last.Name != chatapi.EventError || last.Data["code"] != fault.CodeUpstreamUnavailable {
		t.Fatalf("broken stream: last event %+v", last)
	}
	fake.BreakAfter(-1)
	events = readEvents(t, s.do(t, "POST", "/api/chat/stream", s.me, streamBody, nil).Body, nil)
	if last := events[len(events)-1]; last.Name != chatapi.EventDone {
		t.Fatalf("stream retry: %+v", events)
	}
	var page struct {
		Messages []messageOut `json:"messages"`
	}
	s.do(t, "GET", "/api/sessions/"+sid+"/messages", s.me, "", &page)
	if len(page.Messages) != 4 || page.Messages[0].Content != "Hello from Gemini" || page.Messages[1].Content != "and now?" {
		t.Errorf("history: %+v", page.Messages)
	}
}

// TestStreamOutlivesTheWriteTimeout serves the stream from a server whose write timeout passes before
// the model's first word: each event moves the write deadline on, so the whole stream arrives.
func TestStreamOutlivesTheWriteTimeout(t *testing.T) {
	t.Parallel()
	s := newStack(t, chat.Options{}, chattest.Step{FirstDelay: 600 * time.Millisecond, Deltas: []string{"late ", "words"}})
	srv := httptest.NewUnstartedServer(s.h)
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()
	r := apitest.Request("POST", srv.URL+"/api/chat/stream", s.me, `{"message":"slow model"}`)
	r.RequestURI = ""
	res, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var names []string
	for _, e := range readEvents(t, res.Body, nil) {
		names = append(names, e.Name)
	}
	if got, want := strings.Join(names, ","), "session,delta,delta,done"; got != want {
		t.Errorf("events: got %s, want %s", got, want)
	}
}
