package e2e_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHTTPLocal is the black-box HTTP suite on `make run`.
func TestHTTPLocal(t *testing.T) { httpSuite(t, "local") }

// TestHTTPGateway is the black-box HTTP suite on `make gateway`.
func TestHTTPGateway(t *testing.T) { httpSuite(t, "gateway") }

// client is a person's browser as seen from the network: a cookie jar, and the Origin header a
// browser sends with unsafe methods.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// response is a finished answer.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request with the given extra headers ("Origin" defaults to the stack's own origin for
// unsafe methods; pass "Origin": "" to send none).
func (c *client) do(method, path, body string, headers map[string]string) response {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Origin", c.base)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// signIn signs the client in through the local OpenID Connect provider with a login_hint (a persona
// id, or new:<nickname>) and returns the person's id.
func (c *client) signIn(hint string) string {
	c.t.Helper()
	r := c.do("GET", "/api/auth/login?provider=oidc&returnTo=%2F%23%2Fchats&login_hint="+url.QueryEscape(hint), "", nil)
	if r.status != http.StatusOK || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
		c.t.Fatalf("sign-in as %q ended with %d %s: %.200s", hint, r.status, r.header.Get("Content-Type"), r.body)
	}
	var me struct{ ID string }
	if got := c.do("GET", "/api/user/info", "", nil); got.status != http.StatusOK || json.Unmarshal([]byte(got.body), &me) != nil || me.ID == "" {
		c.t.Fatalf("after sign-in as %q, GET /api/user/info = %d %s", hint, got.status, got.body)
	}
	return me.ID
}

// stream posts a streamed chat turn and returns the events in order, with the time each arrived.
func (c *client) stream(body string) (names []string, at []time.Duration, status int) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+"/api/chat/stream", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.base)
	start := time.Now()
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		c.t.Fatalf("POST /api/chat/stream = %d %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		c.t.Errorf("stream Content-Type = %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			names = append(names, name)
			at = append(at, time.Since(start))
		}
	}
	return names, at, resp.StatusCode
}

// errorCode returns the code of an API error body, or its message for API Gateway's own answers.
func errorCode(body string) string {
	var e struct {
		Error   struct{ Code string }
		Message string
	}
	if json.Unmarshal([]byte(body), &e) != nil {
		return "(not JSON)"
	}
	if e.Error.Code != "" {
		return e.Error.Code
	}
	return e.Message
}

// httpSuite is what a browser, or someone imitating one, meets on the public origin.
func httpSuite(t *testing.T, stack string) {
	base := startStack(t, stack)
	anon := newClient(t, base)

	t.Run("page and assets", func(t *testing.T) {
		r := anon.do("GET", "/", "", nil)
		if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || r.header.Get("Content-Security-Policy") == "" {
			t.Fatalf("GET / = %d %q, CSP %q", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Security-Policy"))
		}
		i := strings.Index(r.body, "/assets/")
		if i < 0 {
			t.Fatal("the page links no asset")
		}
		asset := r.body[i:]
		asset = asset[:strings.IndexAny(asset, `"'`)]
		a := anon.do("GET", asset, "", nil)
		if a.status != 200 || !strings.Contains(a.header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s = %d, Cache-Control %q", asset, a.status, a.header.Get("Cache-Control"))
		}
	})

	t.Run("a portrait, made offline and served from media", func(t *testing.T) {
		c := newClient(t, base)
		me := c.signIn("new:Portrait Sitter")
		if r := c.do("POST", "/api/user/avatar", `{"style":"crayon"}`, nil); r.status != 400 || !strings.Contains(r.body, `"style"`) {
			t.Errorf("POST /api/user/avatar with an unknown style = %d %s, want a 400 naming style", r.status, r.body)
		}
		if r := c.do("POST", "/api/user/avatar", `{"style":"ink"}`, nil); r.status != 202 {
			t.Fatalf("POST /api/user/avatar = %d %s", r.status, r.body)
		}
		var st struct{ Status, URL string }
		for deadline := time.Now().Add(60 * time.Second); st.Status != "done"; time.Sleep(200 * time.Millisecond) {
			r := c.do("GET", "/api/user/avatar", "", nil)
			if json.Unmarshal([]byte(r.body), &st) != nil || st.Status == "failed" || time.Now().After(deadline) {
				t.Fatalf("GET /api/user/avatar = %d %s", r.status, r.body)
			}
		}
		if !strings.HasPrefix(st.URL, "/media/avatars/"+me+"/") {
			t.Fatalf("portrait URL %q", st.URL)
		}
		r := anon.do("GET", st.URL, "", nil)
		if r.status != 200 || r.header.Get("Content-Type") != "image/svg+xml" || r.header.Get("X-Content-Type-Options") != "nosniff" ||
			r.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.HasPrefix(r.body, "<svg ") {
			t.Errorf("GET %s = %d %v", st.URL, r.status, r.header)
		}
		for _, p := range []string{strings.TrimSuffix(st.URL, ".svg") + ".png", "/media/jobs/avatars/" + me + ".json", "/media/avatars/..%2f..%2fjobs%2favatars%2f" + me + ".json"} {
			if r := anon.do("GET", p, "", nil); r.status != 404 {
				t.Errorf("GET %s = %d, want 404", p, r.status)
			}
		}
	})

	t.Run("unknown routes are JSON 404s", func(t *testing.T) {
		for _, p := range []string{"/api/nope", "/api/users/x/y/z"} {
			r := anon.do("GET", p, "", nil)
			if r.status != 404 || errorCode(r.body) == "(not JSON)" {
				t.Errorf("GET %s = %d %q, want a JSON 404", p, r.status, r.body)
			}
		}
	})

	t.Run("signed out", func(t *testing.T) {
		for _, p := range []string{"/api/user/info", "/api/sessions", "/api/matches", "/api/user/export"} {
			if r := anon.do("GET", p, "", nil); r.status != 401 || errorCode(r.body) != "unauthenticated" {
				t.Errorf("GET %s signed out = %d %s, want 401 unauthenticated", p, r.status, r.body)
			}
		}
		if r := anon.do("POST", "/api/chat/stream", `{"message":"hi"}`, nil); r.status != 401 {
			t.Errorf("POST /api/chat/stream signed out = %d %s, want 401", r.status, r.body)
		}
	})

	alice := newClient(t, base)
	aliceID := alice.signIn("new:Alice")
	bob := newClient(t, base)
	bob.signIn("new:Bob")

	t.Run("session cookie", func(t *testing.T) {
		u, _ := url.Parse(base)
		var found bool
		for _, ck := range alice.c.Jar.Cookies(u) {
			found = found || ck.Name == "sm_session"
		}
		if !found {
			t.Error("no sm_session cookie after sign-in")
		}
		// The jar hides the attributes: sign in again without following the redirect to read them.
		nf := newClient(t, base)
		nf.c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if strings.HasSuffix(req.URL.Path, "/api/auth/callback") || strings.HasSuffix(via[len(via)-1].URL.Path, "/api/auth/callback") {
				return http.ErrUseLastResponse
			}
			return nil
		}
		r := nf.do("GET", "/api/auth/login?provider=oidc&login_hint=new:Carol", "", nil)
		// The redirect to the callback was stopped; follow it by hand to see the session cookie.
		if r.status != http.StatusFound && r.status != http.StatusSeeOther {
			t.Fatalf("login = %d", r.status)
		}
		cb, _ := url.Parse(r.header.Get("Location"))
		resp := nf.do("GET", cb.RequestURI(), "", nil)
		var set string
		for _, v := range resp.header.Values("Set-Cookie") {
			if strings.HasPrefix(v, "sm_session=") {
				set = v
			}
		}
		for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(set, attr) {
				t.Errorf("sm_session cookie %q lacks %s", set, attr)
			}
		}
	})

	t.Run("same origin", func(t *testing.T) {
		body := `{"bio":"from a test"}`
		for _, tc := range []struct {
			name    string
			headers map[string]string
			want    int
		}{
			{"no origin", map[string]string{"Origin": ""}, 403},
			{"another site", map[string]string{"Origin": "https://evil.example"}, 403},
			{"same host, other scheme", map[string]string{"Origin": strings.Replace(base, "http://", "https://", 1)}, 403},
			{"forged forwarded host", map[string]string{"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example"}, 403},
			{"fetch metadata cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
			{"own origin", nil, 200},
		} {
			if r := alice.do("PATCH", "/api/user/info", body, tc.headers); r.status != tc.want {
				t.Errorf("%s: PATCH /api/user/info = %d %s, want %d", tc.name, r.status, r.body, tc.want)
			}
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			method, path, body string
			want               int
			code               string
		}{
			{"PATCH", "/api/user/info", `{"nickname":`, 400, "invalid_argument"},
			{"PATCH", "/api/user/info", `{"nickname":42}`, 400, "invalid_argument"},
			{"POST", "/api/chat", `{"message":"` + strings.Repeat("x", 70_000) + `"}`, 413, ""},
			{"POST", "/api/chat", `{"message":"\xff\xfe"}`, 400, "invalid_argument"},
		} {
			r := alice.do(tc.method, tc.path, tc.body, nil)
			if r.status != tc.want || (tc.code != "" && errorCode(r.body) != tc.code) {
				t.Errorf("%s %s %.40q = %d %s, want %d %s", tc.method, tc.path, tc.body, r.status, r.body, tc.want, tc.code)
			}
		}
	})

	t.Run("chat, JSON and streamed", func(t *testing.T) {
		var turn struct {
			SessionID string
			Reply     struct{ Content string }
		}
		r := alice.do("POST", "/api/chat", `{"message":"What do you like?","clientMessageId":"e2e-1"}`, nil)
		if r.status != 200 || json.Unmarshal([]byte(r.body), &turn) != nil || turn.SessionID == "" || turn.Reply.Content == "" {
			t.Fatalf("POST /api/chat = %d %s", r.status, r.body)
		}
		names, at, _ := alice.stream(`{"message":"And on weekends?","sessionId":"` + turn.SessionID + `","clientMessageId":"e2e-2"}`)
		var deltas []time.Duration
		for i, n := range names {
			if n == "delta" {
				deltas = append(deltas, at[i])
			}
		}
		if len(names) == 0 || names[len(names)-1] != "done" || len(deltas) < 3 {
			t.Fatalf("stream events %v, want deltas then done", names)
		}
		// Streamed, not buffered: the deltas arrive spread over time, as the paced model writes them.
		if spread := deltas[len(deltas)-1] - deltas[0]; spread < 50*time.Millisecond {
			t.Errorf("the %d deltas arrived within %s of each other: the answer was buffered", len(deltas), spread)
		}
		var msgs struct {
			Messages []struct{ Role, Content string }
		}
		m := alice.do("GET", "/api/sessions/"+turn.SessionID+"/messages?limit=10", "", nil)
		if m.status != 200 || json.Unmarshal([]byte(m.body), &msgs) != nil || len(msgs.Messages) != 4 {
			t.Errorf("GET messages = %d %s, want 4 messages", m.status, m.body)
		}
		// Another person's session is not found, whatever they try.
		for _, tc := range []struct{ method, path, body string }{
			{"GET", "/api/sessions/" + turn.SessionID, ""},
			{"GET", "/api/sessions/" + turn.SessionID + "/messages", ""},
			{"DELETE", "/api/sessions/" + turn.SessionID, ""},
			{"POST", "/api/chat", `{"message":"hi","sessionId":"` + turn.SessionID + `"}`},
		} {
			if r := bob.do(tc.method, tc.path, tc.body, nil); r.status != 404 {
				t.Errorf("Bob %s %s = %d %s, want 404", tc.method, tc.path, r.status, r.body)
			}
		}
	})

	t.Run("a private twin", func(t *testing.T) {
		if r := bob.do("POST", "/api/sessions", `{"twinId":"`+aliceID+`"}`, nil); r.status < 400 || r.status >= 500 {
			t.Errorf("Bob opens a chat with Alice's private twin = %d %s, want a 4xx", r.status, r.body)
		}
		if r := bob.do("GET", "/api/users/"+aliceID, "", nil); r.status != 404 {
			t.Errorf("Bob reads Alice's private profile = %d %s, want 404", r.status, r.body)
		}
	})

	t.Run("sign out revokes the login", func(t *testing.T) {
		if r := bob.do("POST", "/api/auth/logout", "", nil); r.status != 204 {
			t.Fatalf("logout = %d %s", r.status, r.body)
		}
		if r := bob.do("GET", "/api/user/info", "", nil); r.status != 401 {
			t.Errorf("after logout GET /api/user/info = %d, want 401", r.status)
		}
	})
}
