package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/secondme/twin/infra/demo"
)

// chatClient is a signed-in browser of the local stack.
type chatClient struct {
	t    *testing.T
	base string
	c    *http.Client
	id   string
}

// signInAs signs a browser in through the mock OpenID Connect provider (a persona id or new:<nickname>).
func signInAs(t *testing.T, a *running, hint string) *chatClient {
	t.Helper()
	c := &chatClient{t: t, base: a.url, c: browser(t)}
	resp, err := c.c.Get(a.url + "/api/auth/login?provider=oidc&returnTo=%2Fapi%2Fuser%2Finfo&login_hint=" + url.QueryEscape(hint))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.ID == "" {
		t.Fatalf("sign-in as %q: %d %v", hint, resp.StatusCode, err)
	}
	c.id = info.ID
	return c
}

// do sends a same-origin request and decodes a 2xx JSON answer into out.
func (c *chatClient) do(method, path, body string, out any) (int, string) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", c.base)
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

type localTurn struct {
	SessionID string
	Message   struct{ ID, Content string }
	Reply     struct{ ID, Content string }
	Offline   bool
	Replayed  bool
}

// TestChatThroughTheLocalStack signs people in through the mock provider and chats over HTTP with the
// offline model: one's own twin and a persona's, streamed and not, paging, a retry, refusals, another
// person's session, and bad bodies.
func TestChatThroughTheLocalStack(t *testing.T) {
	a := startApp(t, t.TempDir())
	personas, err := demo.Personas()
	if err != nil {
		t.Fatal(err)
	}
	var maya, felix string // Felix does not take twin chats
	for _, p := range personas {
		switch {
		case strings.HasPrefix(p.Nickname, "Maya"):
			maya = p.ID
		case strings.HasPrefix(p.Nickname, "Felix"):
			felix = p.ID
		}
	}
	me := signInAs(t, a, "new:Robin")

	var own localTurn
	if code, body := me.do("POST", "/api/chat", `{"message":"Hello, who are you?","clientMessageId":"own-1"}`, &own); code != 200 {
		t.Fatalf("own twin: %d %s", code, body)
	}
	if !own.Offline || own.Reply.Content == "" {
		t.Errorf("own twin reply: %+v", own)
	}
	var other localTurn
	if code, body := me.do("POST", "/api/chat", fmt.Sprintf(`{"message":"What do you love doing?","twinId":%q}`, maya), &other); code != 200 {
		t.Fatalf("Maya's twin: %d %s", code, body)
	}
	if other.SessionID == own.SessionID || !strings.Contains(other.Reply.Content, "Maya") {
		t.Errorf("Maya's twin reply: %+v", other)
	}

	// More turns, one of them streamed, then page back through the history.
	for i := range 5 {
		me.do("POST", "/api/chat", fmt.Sprintf(`{"message":"question %d","sessionId":%q}`, i, own.SessionID), nil)
	}
	streamed := streamTurn(t, me, fmt.Sprintf(`{"message":"stream it","sessionId":%q}`, own.SessionID))
	if streamed != "session,delta+,done" {
		t.Errorf("stream events: %s", streamed)
	}
	var ids []string
	for cursor := ""; ; {
		var page struct {
			Messages []struct{ ID string }
			Next     string
		}
		if code, body := me.do("GET", "/api/sessions/"+own.SessionID+"/messages?limit=5&before="+cursor, "", &page); code != 200 {
			t.Fatalf("messages: %d %s", code, body)
		}
		for _, m := range page.Messages {
			ids = append(ids, m.ID)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if len(ids) != 14 {
		t.Errorf("history: %d messages, want 14", len(ids))
	}

	// A retry with the same clientMessageId returns the stored turn.
	var again localTurn
	me.do("POST", "/api/chat", fmt.Sprintf(`{"message":"Hello, who are you?","clientMessageId":"own-1","sessionId":%q}`, own.SessionID), &again)
	if !again.Replayed || again.Reply.ID != own.Reply.ID {
		t.Errorf("retry: %+v, want the stored reply %s", again, own.Reply.ID)
	}

	// Refusals: a twin that takes no chats, a person I blocked, someone hidden.
	if code, _ := me.do("POST", "/api/chat", fmt.Sprintf(`{"message":"hi","twinId":%q}`, felix), nil); code != http.StatusForbidden {
		t.Errorf("Felix's twin: %d, want 403", code)
	}
	if code, body := me.do("POST", "/api/users/"+maya+"/block", "", nil); code >= 300 {
		t.Fatalf("block: %d %s", code, body)
	}
	if code, _ := me.do("POST", "/api/chat", fmt.Sprintf(`{"message":"still there?","sessionId":%q}`, other.SessionID), nil); code != http.StatusNotFound {
		t.Errorf("a blocked twin's session: %d, want 404", code)
	}
	hidden := signInAs(t, a, "new:Hidden")
	if code, body := hidden.do("PATCH", "/api/user/info", `{"discoverable":false}`, nil); code != 200 {
		t.Fatalf("hide: %d %s", code, body)
	}
	if code, _ := me.do("POST", "/api/chat", fmt.Sprintf(`{"message":"hi","twinId":%q}`, hidden.id), nil); code != http.StatusNotFound {
		t.Errorf("a hidden person's twin: %d, want 404", code)
	}

	// Another person's session is not found; bad bodies name their field.
	if code, _ := hidden.do("GET", "/api/sessions/"+own.SessionID, "", nil); code != http.StatusNotFound {
		t.Errorf("another's session: %d, want 404", code)
	}
	for _, tt := range []struct{ body, field string }{
		{`{"message":""}`, "message"},
		{`{"message":"x","sessionId":"nope"}`, "sessionId"},
		{`{"message":"x","clientMessageId":"a b"}`, "clientMessageId"},
	} {
		code, body := me.do("POST", "/api/chat", tt.body, nil)
		if code != 400 || !strings.Contains(body, `"`+tt.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", tt.body, code, body, tt.field)
		}
	}
	if code, _ := me.do("POST", "/api/chat", `{"message":"`+strings.Repeat("x", 70_000)+`"}`, nil); code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge body: %d, want 413", code)
	}
}

// streamTurn posts a streamed turn and returns the event names, runs of deltas as "delta+".
func streamTurn(t *testing.T, c *chatClient, body string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/api/chat/stream", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.base)
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var names []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, ok := strings.CutPrefix(sc.Text(), "event: ")
		if !ok {
			continue
		}
		if name == "delta" && len(names) > 0 && names[len(names)-1] == "delta+" {
			continue
		}
		if name == "delta" {
			name = "delta+"
		}
		names = append(names, name)
	}
	return strings.Join(names, ",")
}
