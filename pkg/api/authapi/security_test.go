package authapi_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/secondme/secondmetest"
	"github.com/secondme/twin/pkg/store"
)

func TestLoginParameters(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, tc := range []struct {
		name, query, field string
	}{
		{"no provider", "", "provider"},
		{"unknown provider", "provider=github", "provider"},
		{"control characters in login_hint", "provider=oidc&login_hint=a%0Ab", "login_hint"},
		{"long login_hint", "provider=oidc&login_hint=" + strings.Repeat("a", 257), "login_hint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, h.browser(t), h.srv.URL+"/api/auth/login?"+tc.query)
			if e := errorOf(t, body); resp.StatusCode != http.StatusBadRequest || e.Fields[tc.field] == "" {
				t.Errorf("login: %d %s, want 400 naming %s", resp.StatusCode, body, tc.field)
			}
		})
	}
}

func TestLoginRedirectAndStateCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	resp, _ := get(t, h.browser(t), h.srv.URL+"/api/auth/login?provider=secondme")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), h.sm.AuthorizeURL()+"?") ||
		q.Get("client_id") != h.sm.ClientID || q.Get("response_type") != "code" || q.Get("redirect_uri") != h.srv.URL+"/api/auth/callback" ||
		len(q.Get("state")) != 43 {
		t.Errorf("login: %d to %s", resp.StatusCode, loc)
	}
	var state *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == auth.StateCookie {
			state = c
		}
	}
	if state == nil || !state.HttpOnly || state.Path != "/api/auth" || state.MaxAge != 600 || state.SameSite != http.SameSiteLaxMode {
		t.Errorf("state cookie = %+v, want HttpOnly, Path=/api/auth, Max-Age=600, SameSite=Lax", state)
	}
	if strings.Contains(state.Value, q.Get("state")) {
		t.Error("the state cookie shows the state in clear")
	}
}

func TestCookiesSecureUnlessLoopbackHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	handler := h.srv.Config.Handler
	for _, tc := range []struct {
		name   string
		host   string
		proto  string
		secure bool
	}{
		{"loopback http", "127.0.0.1:8080", "", false},
		{"localhost http", "localhost:8080", "", false},
		{"behind https", "twin.example", "https", true},
		{"loopback behind https", "127.0.0.1", "https", true},
		{"public host over http", "twin.example", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://"+tc.host+"/api/auth/login?provider=secondme", nil)
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			cs := w.Result().Cookies()
			if len(cs) != 1 || cs[0].Secure != tc.secure {
				t.Errorf("cookies %+v, want Secure=%v", cs, tc.secure)
			}
		})
	}
}

func TestReturnToOpenRedirects(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, attempt := range []string{"//evil.example", "https://evil.example", `/\evil`, "/%2F%2Fevil.example", "javascript:alert(1)", "/ok\r\nX: y"} {
		t.Run(attempt, func(t *testing.T) {
			resp := h.signInSecondMe(t, h.browser(t), attempt)
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/" {
				t.Errorf("returnTo %q ended at %d %q, want 302 to /", attempt, resp.StatusCode, loc)
			}
		})
	}
}

func TestCrossSiteAndLogout(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.browser(t)
	h.signInSecondMe(t, c, "/")
	if _, st := h.me(t, c); st != http.StatusOK {
		t.Fatalf("signed-in route: %d", st)
	}
	for name, hdr := range map[string]http.Header{
		"foreign Origin":         {"Origin": {"https://evil.example"}},
		"Sec-Fetch-Site cross":   {"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
		"no Origin at all":       {"Origin": {""}},
		"Sec-Fetch-Site sibling": {"Sec-Fetch-Site": {"same-site"}},
	} {
		resp, _ := h.post(t, c, "/api/auth/logout", hdr, "")
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s logout: %d, want 403", name, resp.StatusCode)
		}
	}
	if _, st := h.me(t, c); st != http.StatusOK {
		t.Fatalf("a refused cross-site logout ended the session: %d", st)
	}
	u, _ := url.Parse(h.srv.URL)
	token := c.Jar.Cookies(u)[0].Value
	resp, _ := h.post(t, c, "/api/auth/logout", nil, "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d, want 204", resp.StatusCode)
	}
	if ck := resp.Cookies(); len(ck) != 1 || ck[0].Name != auth.SessionCookie || ck[0].MaxAge >= 0 {
		t.Errorf("logout cookies %+v, want sm_session cleared", ck)
	}
	// The old token, replayed by hand, is dead server-side.
	stolen := h.browser(t)
	stolen.Jar.SetCookies(u, []*http.Cookie{{Name: auth.SessionCookie, Value: token}})
	if _, st := h.me(t, stolen); st != http.StatusUnauthorized {
		t.Errorf("session token after logout: %d, want 401", st)
	}
	if _, err := h.st.GetLoginSession(context.Background(), auth.HashToken(token)); err == nil {
		t.Error("the session is still stored after logout")
	}
}

// signInAndRefresh signs the default user in, refreshes their token once and syncs them, so that
// every kind of SecondMe token has passed through the store.
func signInAndRefresh(t *testing.T, h *harness) {
	t.Helper()
	h.sm.AccessTTL = time.Hour
	c := h.browser(t)
	h.signInSecondMe(t, c, "/")
	uid, _ := h.me(t, c)
	h.clock.Advance(2 * time.Hour)
	h.sm.Advance(2 * time.Hour)
	if _, err := h.svc.AccessToken(context.Background(), uid); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Sync(context.Background(), uid); err != nil {
		t.Fatal(err)
	}
	if n := len(h.sm.RequestsTo(secondmetest.PathTokenRefresh)); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

func TestNoPlaintextTokensSQLite(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	signInAndRefresh(t, h)
	var raw []byte
	for _, p := range []string{h.dbPath, h.dbPath + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && p == h.dbPath {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if len(raw) == 0 || bytes.Contains(raw, []byte("lba_")) {
		t.Errorf("SQLite file (%d bytes with the WAL) holds a plaintext lba_ token", len(raw))
	}
	if logs := h.logs.String(); logs == "" || strings.Contains(logs, "lba_") {
		t.Errorf("logs (%d bytes) hold a plaintext lba_ token", len(logs))
	}
}

func TestNoPlaintextTokensDynamo(t *testing.T) {
	t.Parallel()
	st := dynamotest.New(t)
	h := newHarness(t, st)
	signInAndRefresh(t, h)
	var dump bytes.Buffer
	if err := st.Dump(context.Background(), &dump); err != nil {
		t.Fatal(err)
	}
	if dump.Len() == 0 || bytes.Contains(dump.Bytes(), []byte("lba_")) {
		t.Errorf("table dump (%d bytes) holds a plaintext lba_ token", dump.Len())
	}
	if strings.Contains(h.logs.String(), "lba_") {
		t.Error("logs hold a plaintext lba_ token")
	}
}

// webhookBody is a revocation of the default user.
func webhookBody(eventID, reason string) string {
	return `{"event":"authorization.revoked","eventId":"` + eventID + `","appScopedUserId":"` +
		secondmetest.DefaultUser().AppScopedUserID + `","reason":"` + reason + `"}`
}

// deliver posts a webhook without Origin (SecondMe is not a browser), signed unless sig is given.
func (h *harness) deliver(t *testing.T, body, sig string, at time.Time) (*http.Response, string) {
	t.Helper()
	if sig == "" {
		sig = h.webhook.Sign([]byte(body))
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/webhooks/secondme", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(auth.DefaultSignatureHeader, sig)
	req.Header.Set(auth.DefaultTimestampHeader, strconv.FormatInt(at.Unix(), 10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp, b.String()
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.browser(t)
	h.signInSecondMe(t, c, "/")
	uid, _ := h.me(t, c)
	before := h.secondMeIdentity(t)
	unchanged := func(what string) {
		t.Helper()
		now := h.secondMeIdentity(t)
		if now.Revoked || !bytes.Equal(now.SealedTokens, before.SealedTokens) {
			t.Errorf("%s changed the identity", what)
		}
		if _, st := h.me(t, c); st != http.StatusOK {
			t.Errorf("%s ended the session: %d", what, st)
		}
	}
	now := h.clock.Now()
	body := webhookBody("evt-1", "user_revoked")
	for _, tc := range []struct {
		name   string
		body   string
		sig    string
		at     time.Time
		status int
	}{
		{"forged signature", body, strings.Repeat("0", 64), now, http.StatusUnauthorized},
		{"signature of another body", body, h.webhook.Sign([]byte(webhookBody("evt-2", "user_revoked"))), now, http.StatusUnauthorized},
		{"old timestamp", body, "", now.Add(-6 * time.Minute), http.StatusUnauthorized},
		{"future timestamp", body, "", now.Add(6 * time.Minute), http.StatusUnauthorized},
		{"malformed body", `{"eventId":1}`, "", now, http.StatusBadRequest},
		{"test delivery", webhookBody("evt-test", "test_delivery"), "", now, http.StatusOK},
	} {
		resp, out := h.deliver(t, tc.body, tc.sig, tc.at)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, out, tc.status)
		}
		unchanged(tc.name)
	}
	// The revocation itself.
	resp, out := h.deliver(t, body, "", now)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %d %s", resp.StatusCode, out)
	}
	ident := h.secondMeIdentity(t)
	if !ident.Revoked || len(ident.SealedTokens) != 0 {
		t.Errorf("identity after revocation: revoked=%v tokens=%d", ident.Revoked, len(ident.SealedTokens))
	}
	if _, st := h.me(t, c); st != http.StatusUnauthorized {
		t.Errorf("session after revocation: %d, want 401", st)
	}
	if _, err := h.svc.AccessToken(context.Background(), uid); err == nil {
		t.Error("AccessToken after revocation succeeded")
	}
	// Signing in again restores access; a replay of the revocation changes nothing.
	h.signInSecondMe(t, c, "/")
	before = h.secondMeIdentity(t)
	if before.Revoked {
		t.Fatal("still revoked after signing in again")
	}
	resp, out = h.deliver(t, body, "", now.Add(time.Minute))
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("replay: %d %s, want 409", resp.StatusCode, out)
	}
	unchanged("a replay")
}

func TestWebhookUnknownPersonAndUnconfigured(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	body := `{"eventId":"e9","appScopedUserId":"asu_nobody","reason":"user_revoked"}`
	if resp, out := h.deliver(t, body, "", h.clock.Now()); resp.StatusCode != http.StatusOK {
		t.Errorf("revocation of an unknown person: %d %s, want 200", resp.StatusCode, out)
	}
	wh, err := auth.NewWebhook(h.st, auth.WebhookConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wh.Receive(context.Background(), http.Header{}, []byte(body)); err == nil {
		t.Error("a webhook without a secret accepted a delivery")
	}
	if _, err := h.st.GetIdentity(context.Background(), store.ProviderSecondMe, "asu_nobody"); err == nil {
		t.Error("an identity appeared")
	}
}
