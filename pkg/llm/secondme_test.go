package llm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/secondme/secondmetest"
)

// tokens is a fake llm.TokenSource: a token per user id, or err.
type tokens struct {
	byUser map[string]string
	err    error
}

func (t tokens) AccessToken(_ context.Context, userID string) (string, error) {
	if t.err != nil {
		return "", t.err
	}
	tok, ok := t.byUser[userID]
	if !ok {
		return "", errors.New("no SecondMe linked")
	}
	return tok, nil
}

const twinID = "01JTWINOWNER0000000000000"

// newSecondMe starts secondmetest with reply and returns it and the twin model of twinID (a 5 s
// timeout, a 1 ms retry delay, no fallback).
func newSecondMe(t *testing.T, reply string) (*secondmetest.Server, llm.Model) {
	t.Helper()
	srv := secondmetest.New(t)
	srv.ChatReply, srv.ChatChunk = reply, 3
	tok := srv.IssueTokens(secondmetest.DefaultUser().UserID)
	sm := llm.NewSecondMe(llm.SecondMeConfig{BaseURL: srv.URL}, testOptions, tokens{byUser: map[string]string{twinID: tok.AccessToken}}, nil)
	return srv, sm.ForUser(twinID)
}

func TestSecondMeEveryFramingQuirk(t *testing.T) {
	t.Parallel()
	const reply = "Héllo wörld, from your SecondMe — 你好!"
	cases := []struct {
		name     string
		quirks   secondmetest.Quirks
		wantErr  bool
		wantText string
	}{
		{name: "documented", wantText: reply},
		{name: "CRLF line ends", quirks: secondmetest.Quirks{CRLF: true}, wantText: reply},
		{name: "data: without the space", quirks: secondmetest.Quirks{NoSpace: true}, wantText: reply},
		{name: "session event", quirks: secondmetest.Quirks{SessionEvent: true}, wantText: reply},
		{name: "unknown tool events skipped", quirks: secondmetest.Quirks{ToolEvents: true}, wantText: reply},
		{name: "comments", quirks: secondmetest.Quirks{Comments: true}, wantText: reply},
		{name: "last event without a blank line", quirks: secondmetest.Quirks{NoTrailingBlank: true}, wantText: reply},
		{name: "lines split across reads", quirks: secondmetest.Quirks{SplitWrites: true}, wantText: reply},
		{name: "no [DONE]", quirks: secondmetest.Quirks{NoDone: true}, wantText: reply},
		{name: "everything at once", quirks: secondmetest.Quirks{CRLF: true, NoSpace: true, SessionEvent: true,
			ToolEvents: true, Comments: true, NoTrailingBlank: true, SplitWrites: true}, wantText: reply},
		{name: "CRLF, no blank, no [DONE], split", quirks: secondmetest.Quirks{CRLF: true, NoTrailingBlank: true,
			NoDone: true, SplitWrites: true}, wantText: reply},
		{name: "error event surfaced", quirks: secondmetest.Quirks{ErrorEvent: true, ErrorAfter: 2},
			wantErr: true, wantText: "Héllo "},
		{name: "in-stream error surfaced", quirks: secondmetest.Quirks{InStreamError: true, ErrorAfter: 1, SplitWrites: true},
			wantErr: true, wantText: "Hél"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, m := newSecondMe(t, reply)
			srv.ChatQuirks = tc.quirks
			var deltas []string
			got, err := m.Generate(context.Background(), llm.Request{System: "persona",
				Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}, collect(&deltas))
			if tc.wantErr != (err != nil) {
				t.Fatalf("err = %v, want an error: %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, llm.ErrUnavailable) {
				t.Errorf("err = %v, want ErrUnavailable", err)
			}
			if got.Text != tc.wantText {
				t.Errorf("text = %q, want %q", got.Text, tc.wantText)
			}
			if joined := strings.Join(deltas, ""); joined != got.Text {
				t.Errorf("deltas join to %q, text is %q", joined, got.Text)
			}
			for _, frame := range []string{"data:", "event:", "[DONE]", "choices", "sessionId"} {
				if strings.Contains(got.Text, frame) {
					t.Errorf("text %q holds the raw frame part %q", got.Text, frame)
				}
			}
			if err == nil && got.Model != llm.DefaultSecondMeModel {
				t.Errorf("model = %q, want %q", got.Model, llm.DefaultSecondMeModel)
			}
			if n := len(srv.RequestsTo(secondmetest.PathChatStream)); n != 1 {
				t.Errorf("%d requests, want 1 (no retry once text has streamed)", n)
			}
		})
	}
}

func TestSecondMeRequest(t *testing.T) {
	t.Parallel()
	srv, m := newSecondMe(t, "Sure.")
	req := chatRequest
	req.MaxTokens = 50000
	if _, err := m.Generate(context.Background(), req, nil); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	reqs := srv.RequestsTo(secondmetest.PathChatStream)
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "Bearer lba_at_") {
		t.Errorf("Authorization = %q, want the twin owner's bearer token", got)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"message": "Our conversation so far:\nUser: Hi Ada\nYou: Hello!\n\n" +
			"The user's new message, to answer now:\nWhat do you do on weekends?",
		"systemPrompt": chatRequest.System,
		"model":        "secondme/nano",
		"maxTokens":    float64(16000),
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s = %#v, want %#v", k, body[k], v)
		}
	}
	if _, ok := body["sessionId"]; ok {
		t.Errorf("sessionId sent (%v); every call starts a session so that systemPrompt is honoured", body["sessionId"])
	}
}

func TestSecondMeFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		setup     func(srv *secondmetest.Server)
		wantText  string
		wantErr   bool
		wantCalls int
	}{
		{name: "500 then an answer", setup: func(srv *secondmetest.Server) {
			srv.FailNext(secondmetest.PathChatStream, 500, "internal.error")
		}, wantText: "All good.", wantCalls: 2},
		{name: "503 in a 200 envelope then an answer", setup: func(srv *secondmetest.Server) {
			srv.ErrorsWithHTTP200 = true
			srv.FailNext(secondmetest.PathChatStream, 503, "connection.error")
		}, wantText: "All good.", wantCalls: 2},
		{name: "500 twice", setup: func(srv *secondmetest.Server) {
			srv.FailNext(secondmetest.PathChatStream, 500, "internal.error")
			srv.FailNext(secondmetest.PathChatStream, 500, "internal.error")
		}, wantErr: true, wantCalls: 2},
		{name: "revoked token is not retried", setup: func(srv *secondmetest.Server) {
			srv.RevokeUser(secondmetest.DefaultUser().UserID)
		}, wantErr: true, wantCalls: 1},
		{name: "revoked token with a bare detail", setup: func(srv *secondmetest.Server) {
			srv.DetailOnBadToken = true
			srv.RevokeUser(secondmetest.DefaultUser().UserID)
		}, wantErr: true, wantCalls: 1},
		{name: "401 in a 200 envelope", setup: func(srv *secondmetest.Server) {
			srv.ErrorsWithHTTP200 = true
			srv.ErrorStyle = secondmetest.ErrorErrorCode
			srv.RevokeUser(secondmetest.DefaultUser().UserID)
		}, wantErr: true, wantCalls: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, m := newSecondMe(t, "All good.")
			tc.setup(srv)
			got, err := m.Generate(context.Background(), chatRequest, func(string) error { return nil })
			if tc.wantErr != (err != nil) || (err != nil && !errors.Is(err, llm.ErrUnavailable)) {
				t.Fatalf("err = %v, want ErrUnavailable: %v", err, tc.wantErr)
			}
			if got.Text != tc.wantText {
				t.Errorf("text = %q, want %q", got.Text, tc.wantText)
			}
			if n := len(srv.RequestsTo(secondmetest.PathChatStream)); n != tc.wantCalls {
				t.Errorf("%d requests, want %d", n, tc.wantCalls)
			}
		})
	}
}

// stall is a proxy in front of a server that waits before forwarding each request.
func stall(t *testing.T, target string, d time.Duration) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body first lets the server notice a client that goes away.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		select {
		case <-time.After(d):
			proxy.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSecondMeTimeoutAndCancel(t *testing.T) {
	t.Parallel()
	srv := secondmetest.New(t)
	tok := srv.IssueTokens(secondmetest.DefaultUser().UserID)
	cfg := llm.SecondMeConfig{BaseURL: stall(t, srv.URL, 5*time.Second)}
	m := llm.NewSecondMe(cfg, llm.Options{Timeout: 100 * time.Millisecond}, tokens{byUser: map[string]string{twinID: tok.AccessToken}}, nil).ForUser(twinID)

	start := time.Now()
	_, err := m.Generate(context.Background(), chatRequest, nil)
	if !errors.Is(err, llm.ErrUnavailable) {
		t.Fatalf("timeout: err = %v, want ErrUnavailable", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("timeout took %v", elapsed)
	}

	m = llm.NewSecondMe(cfg, llm.Options{Timeout: 5 * time.Second}, tokens{byUser: map[string]string{twinID: tok.AccessToken}}, nil).ForUser(twinID)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = m.Generate(ctx, chatRequest, nil)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, llm.ErrUnavailable) {
		t.Fatalf("caller's deadline: err = %v, want only context.DeadlineExceeded", err)
	}
}

// fixed is a Model that always answers text.
type fixed string

func (f fixed) Generate(context.Context, llm.Request, func(string) error) (llm.Reply, error) {
	return llm.Reply{Text: string(f), Model: "fixed"}, nil
}

func TestSecondMeFallback(t *testing.T) {
	t.Parallel()
	srv := secondmetest.New(t)
	cases := []struct {
		name      string
		tokens    llm.TokenSource
		fallback  llm.Model
		schema    map[string]any
		wantModel string
		wantErr   bool
	}{
		{name: "no token, fallback", tokens: tokens{}, fallback: fixed("from the fallback"), wantModel: "fixed"},
		{name: "no token, no fallback", tokens: tokens{}, wantErr: true},
		{name: "schema goes to the fallback", tokens: tokens{err: errors.New("unused")}, fallback: fixed("{}"),
			schema: map[string]any{"type": "object"}, wantModel: "fixed"},
		{name: "schema without a fallback", tokens: tokens{}, schema: map[string]any{"type": "object"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := llm.NewSecondMe(llm.SecondMeConfig{BaseURL: srv.URL}, llm.Options{}, tc.tokens, tc.fallback).ForUser(twinID)
			req := chatRequest
			req.Schema = tc.schema
			got, err := m.Generate(context.Background(), req, nil)
			if tc.wantErr {
				if !errors.Is(err, llm.ErrUnavailable) {
					t.Fatalf("err = %v, want ErrUnavailable", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if got.Model != tc.wantModel {
				t.Errorf("model = %q, want %q", got.Model, tc.wantModel)
			}
		})
	}
	if n := len(srv.RequestsTo(secondmetest.PathChatStream)); n != 0 {
		t.Errorf("%d chat requests, want none", n)
	}
}
