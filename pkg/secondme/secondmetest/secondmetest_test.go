package secondmetest_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/secondme/secondmetest"
)

func chat(tb testing.TB, srv *secondmetest.Server, body string) (int, string) {
	tb.Helper()
	tok := srv.IssueTokens(secondmetest.DefaultUser().UserID)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+secondmetest.PathChatStream, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestChatStreamFraming(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		quirks secondmetest.Quirks
		body   string
		want   string
	}{
		{"documented", secondmetest.Quirks{}, `{"message":"hi"}`,
			"event: session\ndata: {\"sessionId\":\"SID\"}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n" +
				"data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\ndata: [DONE]\n\n"},
		{"crlf, no space, no trailing blank", secondmetest.Quirks{CRLF: true, NoSpace: true, NoTrailingBlank: true}, `{"message":"hi"}`,
			"event: session\r\ndata:{\"sessionId\":\"SID\"}\r\n\r\ndata:{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n" +
				"data:{\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\r\n\r\ndata:[DONE]"},
		{"error event", secondmetest.Quirks{ErrorEvent: true}, `{"message":"hi"}`,
			"event: session\ndata: {\"sessionId\":\"SID\"}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n" +
				"event: error\ndata: {\"code\":500,\"message\":\"stream interrupted\"}\n\n"},
		{"in-stream error, split writes", secondmetest.Quirks{InStreamError: true, SplitWrites: true}, `{"message":"hi"}`,
			"event: session\ndata: {\"sessionId\":\"SID\"}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n" +
				"data: {\"code\":500,\"message\":\"stream interrupted\",\"subCode\":\"secondme.stream.error\"}\n\n"},
		{"tool events", secondmetest.Quirks{ToolEvents: true, NoDone: true}, `{"message":"hi"}`,
			"event: session\ndata: {\"sessionId\":\"SID\"}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n" +
				"event: tool_call\ndata: {\"id\":\"call_1\",\"name\":\"web_search\",\"arguments\":\"{\\\"q\\\":\\\"weather\\\"}\"}\n\n" +
				"event: tool_result\ndata: {\"id\":\"call_1\",\"content\":\"sunny\"}\n\n" +
				"data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := secondmetest.New(t)
			srv.ChatReply, srv.ChatChunk, srv.ChatQuirks = "Hello", 3, tc.quirks
			status, got := chat(t, srv, tc.body)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, got)
			}
			sid := got[strings.Index(got, "labs_sess_"):]
			sid = sid[:strings.IndexByte(sid, '"')]
			if want := strings.ReplaceAll(tc.want, "SID", sid); got != want {
				t.Errorf("stream =\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func TestChatStreamRefusals(t *testing.T) {
	t.Parallel()
	srv := secondmetest.New(t)
	for _, tc := range []struct {
		name, body string
		status     int
		subCode    string
	}{
		{"no message", `{"message":"  "}`, 400, "invalid.param"},
		{"unknown model", `{"message":"hi","model":"gpt"}`, 422, "invalid.param"},
		{"maxTokens", `{"message":"hi","maxTokens":16001}`, 400, "invalid.param"},
		{"unknown session", `{"message":"hi","sessionId":"labs_sess_x"}`, 404, "secondme.session.not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := chat(t, srv, tc.body)
			if status != tc.status || !strings.Contains(body, `"subCode":"`+tc.subCode+`"`) {
				t.Errorf("got %d %s, want %d %s", status, body, tc.status, tc.subCode)
			}
		})
	}
}

func TestAuthorizePage(t *testing.T) {
	t.Parallel()
	srv := secondmetest.New(t)
	srv.RedirectURL = "http://127.0.0.1:1/cb"
	q := url.Values{"client_id": {srv.ClientID}, "redirect_uri": {srv.RedirectURL}, "response_type": {"code"}, "state": {"abc"}}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) *http.Response {
		t.Helper()
		resp, err := noRedirect.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get(srv.AuthorizeURL() + "?" + q.Encode()); r.StatusCode != http.StatusOK {
		t.Errorf("page: %d, want 200", r.StatusCode)
	}
	if r := get(srv.URL + "/oauth/authorize?" + q.Encode()); r.StatusCode != http.StatusNotFound {
		t.Errorf("/oauth/authorize: %d, want 404 (the query follows /oauth/ directly)", r.StatusCode)
	}
	bad := url.Values{"client_id": {srv.ClientID}, "redirect_uri": {"https://evil.example/cb"}, "response_type": {"code"}, "state": {"abc"}}
	if r := get(srv.AuthorizeURL() + "?" + bad.Encode()); r.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered redirect_uri: %d, want 400", r.StatusCode)
	}
	q.Set("decision", "deny")
	loc, _ := url.Parse(get(srv.AuthorizeURL() + "?" + q.Encode()).Header.Get("Location"))
	if loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "abc" {
		t.Errorf("deny redirect = %s", loc)
	}
	srv.AutoApprove = secondmetest.DefaultUser().UserID
	q.Del("decision")
	loc, _ = url.Parse(get(srv.AuthorizeURL() + "?" + q.Encode()).Header.Get("Location"))
	if !strings.HasPrefix(loc.Query().Get("code"), "lba_ac_") || loc.Query().Get("state") != "abc" {
		t.Errorf("approve redirect = %s", loc)
	}
}
