package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// person is one signed-in person as their browser holds them: a cookie jar over a transport shared by
// everyone, and the server's origin for the Origin header of unsafe requests.
type person struct {
	name string
	id   string
	base string
	hc   *http.Client
}

// newPerson returns a person not signed in yet, on the shared transport.
func newPerson(name, base string, rt http.RoundTripper) *person {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &person{name: name, base: base, hc: &http.Client{Jar: jar, Transport: rt, Timeout: 60 * time.Second}}
}

// signIn signs up through the local mock OpenID Connect provider (login_hint=new:<name>), following
// its redirects, and reads the person's id.
func (p *person) signIn(ctx context.Context) error {
	path := "/api/auth/login?provider=oidc&returnTo=%2F&login_hint=" + url.QueryEscape("new:"+p.name)
	if status, body, err := p.do(ctx, "GET", path, ""); err != nil || status != http.StatusOK {
		return fmt.Errorf("sign in %s: %d %v %.200s", p.name, status, err, body)
	}
	status, body, err := p.do(ctx, "GET", "/api/user/info", "")
	var me struct{ ID string }
	if err != nil || status != http.StatusOK || json.Unmarshal(body, &me) != nil || me.ID == "" {
		return fmt.Errorf("sign in %s: GET /api/user/info = %d %v %.200s", p.name, status, err, body)
	}
	p.id = me.ID
	return nil
}

// do sends a request and reads the whole answer. A transport error (no answer) is err.
func (p *person) do(ctx context.Context, method, path, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		req.Header.Set("Origin", p.base)
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, fmt.Errorf("read the answer: %w", err)
	}
	return resp.StatusCode, b, nil
}

// newSession opens a session with the person's own twin and returns its id.
func (p *person) newSession(ctx context.Context) (string, error) {
	status, body, err := p.do(ctx, "POST", "/api/sessions", "")
	var s struct{ ID string }
	if err != nil || status != http.StatusCreated || json.Unmarshal(body, &s) != nil || s.ID == "" {
		return "", fmt.Errorf("POST /api/sessions as %s: %d %v %.200s", p.name, status, err, body)
	}
	return s.ID, nil
}

// turnKey names a turn: its session and its client message id.
type turnKey struct{ session, clientID string }

// outcome is what one POST /api/chat got.
type outcome struct {
	key        turnKey
	message    string
	status     int   // 0: no answer
	err        error // the transport error when status is 0
	messageID  string
	replyID    string
	replayed   bool
	start, end time.Time
}

func (o outcome) ok() bool { return o.status == http.StatusOK && o.messageID != "" && o.replyID != "" }

// chat posts one turn in a session with a client message id.
func (p *person) chat(ctx context.Context, k turnKey, message string) outcome {
	body, _ := json.Marshal(map[string]string{"message": message, "sessionId": k.session, "clientMessageId": k.clientID})
	o := outcome{key: k, message: message, start: time.Now()}
	status, b, err := p.do(ctx, "POST", "/api/chat", string(body))
	o.end = time.Now()
	o.status = status
	if err != nil {
		o.status, o.err = 0, err
		return o
	}
	if status == http.StatusOK {
		var r struct {
			Message  struct{ ID string }
			Reply    struct{ ID string }
			Replayed bool
		}
		if json.Unmarshal(b, &r) == nil {
			o.messageID, o.replyID, o.replayed = r.Message.ID, r.Reply.ID, r.Replayed
		}
	}
	return o
}

// message is a stored chat message as the API lists it.
type message struct {
	ID              string
	SessionID       string
	Role            string
	ClientMessageID string
	ReplyTo         string
}

// sessions lists the ids of all the person's sessions, page by page.
func (p *person) sessions(ctx context.Context) ([]string, error) {
	var ids []string
	cursor := ""
	for {
		status, body, err := p.do(ctx, "GET", "/api/sessions?limit=100&cursor="+url.QueryEscape(cursor), "")
		var page struct {
			Sessions []struct{ ID string }
			Next     string
		}
		if err != nil || status != http.StatusOK || json.Unmarshal(body, &page) != nil {
			return nil, fmt.Errorf("GET /api/sessions as %s: %d %v %.200s", p.name, status, err, body)
		}
		for _, s := range page.Sessions {
			ids = append(ids, s.ID)
		}
		if page.Next == "" {
			return ids, nil
		}
		cursor = page.Next
	}
}

// messages lists all the messages of a session, page by page.
func (p *person) messages(ctx context.Context, session string) ([]message, error) {
	var all []message
	before := ""
	for {
		path := "/api/sessions/" + session + "/messages?limit=100&before=" + url.QueryEscape(before)
		status, body, err := p.do(ctx, "GET", path, "")
		var page struct {
			Messages []message
			Next     string
		}
		if err != nil || status != http.StatusOK || json.Unmarshal(body, &page) != nil {
			return nil, fmt.Errorf("GET messages of %s as %s: %d %v %.200s", session, p.name, status, err, body)
		}
		all = append(all, page.Messages...)
		if page.Next == "" {
			return all, nil
		}
		before = page.Next
	}
}
