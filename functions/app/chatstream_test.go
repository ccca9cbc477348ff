package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdaurl"

	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/chat/chattest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// edgeSecret is the edge secret CloudFront adds to the fixture's requests; its Origin header is
// https://twin.example.com.
const edgeSecret = "fixture-edge-secret"

// event reads the Function URL fixture with the signed-in person's id in its cookie.
func event(tb testing.TB, userID string, edit func(*events.LambdaFunctionURLRequest)) *events.LambdaFunctionURLRequest {
	tb.Helper()
	b, err := os.ReadFile("../chatstream/testdata/stream.json")
	if err != nil {
		tb.Fatal(err)
	}
	var ev events.LambdaFunctionURLRequest
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(b), "USER_ID", userID)), &ev); err != nil {
		tb.Fatal(err)
	}
	if edit != nil {
		edit(&ev)
	}
	return &ev
}

// newTestHandler builds the chatstream function as Main does, on the local adapters: SQLite, a model
// provider of the test that answers with model, and the edge secret. The fixture's sm_session cookie
// holds the person's id, which is made their login session's token here.
func newTestHandler(tb testing.TB, model *chattest.Script) (http.Handler, *sqlitestore.Store, string) {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(tb.TempDir(), "chat.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	now := time.Now()
	u := store.User{ID: id.New(), Nickname: "Ada", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateUser(ctx, u); err != nil {
		tb.Fatal(err)
	}
	if err := st.CreateLoginSession(ctx, store.LoginSession{TokenHash: auth.HashToken(u.ID), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		tb.Fatal(err)
	}
	script := llm.Provider{Name: "script", New: func(llm.Values, llm.Options) (llm.Model, error) { return model, nil }}
	env := map[string]string{"PUBLIC_URL": "https://twin.example.com", "LLM_PROVIDER": "script"}
	cfg, err := app.Load(func(k string) string { return env[k] }, script)
	if err != nil {
		tb.Fatal(err)
	}
	a := app.New(cfg, app.Deps{Store: st, Secrets: app.SecretMap{app.SecretOriginVerify: edgeSecret}})
	served, err := app.ChatStream(ctx, a)
	if err != nil || served.Stream == nil {
		tb.Fatalf("ChatStream = %+v, %v; want a stream handler", served, err)
	}
	return served.Stream, st, u.ID
}

// TestStreamThroughFunctionURL runs the chatstream function's handler as lambdaurl runs it in a RESPONSE_STREAM function:
// the event's cookies sign the person in, and the body streams the turn's events.
func TestStreamThroughFunctionURL(t *testing.T) {
	h, st, user := newTestHandler(t, &chattest.Script{Steps: []chattest.Step{{Deltas: []string{"Hi ", "Ada"}}}})
	resp, err := lambdaurl.Wrap(h)(context.Background(), event(t, user, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if c, ok := resp.Body.(io.Closer); ok {
			c.Close()
		}
	}()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Headers["Content-Type"], "text/event-stream") {
		t.Fatalf("response: %d %v", resp.StatusCode, resp.Headers)
	}
	var names []string
	var sessionID string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			names = append(names, name)
		}
		if data, ok := strings.CutPrefix(line, "data: "); ok && names[len(names)-1] == "session" {
			var v struct{ SessionID string }
			_ = json.Unmarshal([]byte(data), &v)
			sessionID = v.SessionID
		}
	}
	if got, want := strings.Join(names, ","), "session,delta,delta,done"; got != want {
		t.Fatalf("events: got %s, want %s", got, want)
	}
	page, err := st.ListMessages(context.Background(), sessionID, "", 10)
	if err != nil || len(page.Items) != 2 || page.Items[0].Content != "Hi Ada" {
		t.Errorf("stored messages: %+v %v", page.Items, err)
	}
}

func TestStreamThroughFunctionURLRefusals(t *testing.T) {
	h, _, user := newTestHandler(t, &chattest.Script{})
	tests := []struct {
		name   string
		edit   func(*events.LambdaFunctionURLRequest)
		status int
	}{
		{"no cookie", func(ev *events.LambdaFunctionURLRequest) { ev.Cookies = nil }, http.StatusUnauthorized},
		{"cross-site", func(ev *events.LambdaFunctionURLRequest) { ev.Headers["sec-fetch-site"] = "cross-site" }, http.StatusForbidden},
		{"called around the edge", func(ev *events.LambdaFunctionURLRequest) { delete(ev.Headers, "x-origin-verify") }, http.StatusForbidden},
		{"wrong edge secret", func(ev *events.LambdaFunctionURLRequest) { ev.Headers["x-origin-verify"] = "guess" }, http.StatusForbidden},
		{"origin is the function URL, not the public origin", func(ev *events.LambdaFunctionURLRequest) {
			delete(ev.Headers, "sec-fetch-site")
			ev.Headers["origin"] = "https://" + ev.Headers["host"]
		}, http.StatusForbidden},
		{"forwarded host forged", func(ev *events.LambdaFunctionURLRequest) {
			delete(ev.Headers, "sec-fetch-site")
			ev.Headers["origin"] = "https://evil.example"
			ev.Headers["x-forwarded-host"] = "evil.example"
		}, http.StatusForbidden},
		{"bad body", func(ev *events.LambdaFunctionURLRequest) { ev.Body = `{"message":""}` }, http.StatusBadRequest},
		{"unknown route", func(ev *events.LambdaFunctionURLRequest) {
			ev.RawPath = "/api/chat"
			ev.RequestContext.HTTP.Path = "/api/chat"
		}, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := lambdaurl.Wrap(h)(context.Background(), event(t, user, tt.edit))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(body), `"error"`) {
				t.Errorf("got %d %s, want %d with a JSON error", resp.StatusCode, body, tt.status)
			}
		})
	}
}
