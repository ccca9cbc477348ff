package authapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/secondme"
	"github.com/secondme/twin/pkg/secondme/secondmetest"
	"github.com/secondme/twin/pkg/store"
)

func TestSecondMeSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.browser(t)
	resp := h.signInSecondMe(t, c, "/chats?tab=1")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/chats?tab=1" {
		t.Fatalf("callback: %d to %q, want 302 to /chats?tab=1", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := sessionCookie(resp)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, not Secure on plain-http loopback", ck)
	}
	if n := len(ck.Value); n != 43 {
		t.Errorf("session token is %d characters, want 43 (256 bits, base64url)", n)
	}
	uid, status := h.me(t, c)
	if status != http.StatusOK {
		t.Fatalf("signed-in route: %d", status)
	}
	u, err := h.st.GetUser(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	want := secondmetest.DefaultUser()
	if u.Nickname != want.Name || u.Avatar != want.Avatar || u.Bio != want.Bio || u.Provider != store.ProviderSecondMe ||
		u.Discoverable || u.AllowTwinChat {
		t.Errorf("user = %+v, want the SecondMe profile, private by default", u)
	}
	if len(u.Shades) != 2 || u.Shades[0].Name != "Engine tinkerer" || u.Shades[0].Public == nil ||
		u.Shades[0].Public.Name != "Tinkerer" || u.Shades[0].Public.Description != "She enjoys machines." ||
		u.Shades[0].Description != "She loves taking machines apart." || len(u.Shades[0].Public.Topics) != 2 {
		t.Errorf("shades = %+v, want the two public shades with public and private fields", u.Shades)
	}
	if len(u.Memories) != 2 {
		t.Errorf("%d memories, want 2", len(u.Memories))
	}
	ident := h.secondMeIdentity(t)
	if ident.UserID != uid || len(ident.SealedTokens) == 0 || ident.Revoked || ident.TokenExpiresAt.IsZero() {
		t.Errorf("identity = %+v", ident)
	}
	if strings.Contains(string(ident.SealedTokens), "lba_") {
		t.Error("identity holds a plaintext token")
	}
	if len(h.rematch.users) != 1 || h.rematch.users[0] != uid {
		t.Errorf("rematched %v, want [%s]", h.rematch.users, uid)
	}
	// The same person again, in another browser: the same user.
	c2 := h.browser(t)
	h.signInSecondMe(t, c2, "/")
	uid2, _ := h.me(t, c2)
	if uid2 != uid || len(h.users(t)) != 1 {
		t.Errorf("second sign-in: user %s of %d, want %s and one user", uid2, len(h.users(t)), uid)
	}
}

func TestSecondMeSignInWithoutMemories(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.sm.MemoryFail = true
	c := h.browser(t)
	if resp := h.signInSecondMe(t, c, "/"); resp.StatusCode != http.StatusFound || sessionCookie(resp) == nil {
		t.Fatalf("callback with failing memories: %d, want a signed-in 302", resp.StatusCode)
	}
	uid, _ := h.me(t, c)
	u, _ := h.st.GetUser(context.Background(), uid)
	if len(u.Memories) != 0 || len(u.Shades) != 2 {
		t.Errorf("user has %d memories and %d shades, want 0 and 2", len(u.Memories), len(u.Shades))
	}
}

func TestSecondMeAccessDenied(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.browser(t)
	authURL := h.startLogin(t, c, url.Values{"provider": {"secondme"}, "returnTo": {"/x"}})
	resp, _ := get(t, c, h.sm.Deny(t, authURL).String())
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != auth.DeniedRedirect || sessionCookie(resp) != nil {
		t.Errorf("denied callback: %d to %q, want 302 to %s without a session", resp.StatusCode, resp.Header.Get("Location"), auth.DeniedRedirect)
	}
	if _, status := h.me(t, c); status != http.StatusUnauthorized || len(h.users(t)) != 0 {
		t.Errorf("after a refusal: %d and %d users, want 401 and none", status, len(h.users(t)))
	}
}

func TestCallbackState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// mangle returns the browser and callback URL to use after a real approval.
		mangle func(t *testing.T, h *harness, c *http.Client, back *url.URL) (*http.Client, string)
	}{
		{"missing cookie", func(t *testing.T, h *harness, c *http.Client, back *url.URL) (*http.Client, string) {
			return h.browser(t), back.String()
		}},
		{"missing state", func(t *testing.T, h *harness, c *http.Client, back *url.URL) (*http.Client, string) {
			q := back.Query()
			q.Del("state")
			back.RawQuery = q.Encode()
			return c, back.String()
		}},
		{"wrong state", func(t *testing.T, h *harness, c *http.Client, back *url.URL) (*http.Client, string) {
			q := back.Query()
			q.Set("state", flip(q.Get("state"), 0))
			back.RawQuery = q.Encode()
			return c, back.String()
		}},
		{"tampered cookie", func(t *testing.T, h *harness, c *http.Client, back *url.URL) (*http.Client, string) {
			u, _ := url.Parse(h.srv.URL + "/api/auth/")
			ck := c.Jar.Cookies(u)[0]
			ck.Value = flip(ck.Value, len(ck.Value)/2)
			c.Jar.SetCookies(u, []*http.Cookie{ck})
			return c, back.String()
		}},
		{"expired state", func(t *testing.T, h *harness, c *http.Client, back *url.URL) (*http.Client, string) {
			h.clock.Advance(auth.StateTTL + time.Second)
			return c, back.String()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			c := h.browser(t)
			authURL := h.startLogin(t, c, url.Values{"provider": {"secondme"}})
			back := h.sm.Approve(t, authURL, secondmetest.DefaultUser().UserID)
			c2, target := tc.mangle(t, h, c, back)
			resp, body := get(t, c2, target)
			if e := errorOf(t, body); resp.StatusCode != http.StatusBadRequest || e.Fields["state"] == "" {
				t.Errorf("callback: %d %s, want 400 naming state", resp.StatusCode, body)
			}
			if sessionCookie(resp) != nil || len(h.users(t)) != 0 {
				t.Error("a session or a user was created")
			}
			if n := len(h.sm.RequestsTo(secondmetest.PathTokenCode)); n != 0 {
				t.Errorf("the code was exchanged %d times before the state check", n)
			}
		})
	}
}

func TestCallbackReplay(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.browser(t)
	authURL := h.startLogin(t, c, url.Values{"provider": {"secondme"}})
	u, _ := url.Parse(h.srv.URL + "/api/auth/callback")
	stateCookie := c.Jar.Cookies(u)[0] // copied before it is used and cleared
	back := h.sm.Approve(t, authURL, secondmetest.DefaultUser().UserID)
	if resp, _ := get(t, c, back.String()); resp.StatusCode != http.StatusFound {
		t.Fatalf("first callback: %d", resp.StatusCode)
	}
	for _, name := range []string{"same browser", "copied cookie"} {
		attacker := h.browser(t)
		if name == "copied cookie" {
			attacker.Jar.SetCookies(u, []*http.Cookie{stateCookie})
		} else {
			attacker = c
		}
		resp, body := get(t, attacker, back.String())
		if e := errorOf(t, body); resp.StatusCode != http.StatusBadRequest || e.Fields["state"] == "" || sessionCookie(resp) != nil {
			t.Errorf("%s replay: %d %s, want 400 naming state and no session", name, resp.StatusCode, body)
		}
	}
	if n := len(h.sm.RequestsTo(secondmetest.PathTokenCode)); n != 1 {
		t.Errorf("%d code exchanges, want 1", n)
	}
}

func TestCodeExchangeRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		subCode  string
		upstream int // SecondMe's status
		status   int // ours
	}{
		{secondme.SubCodeInvalid, 400, http.StatusBadRequest},
		{secondme.SubCodeExpired, 400, http.StatusBadRequest},
		{secondme.SubCodeUsed, 400, http.StatusBadRequest},
		{secondme.SubRedirectURIMismatch, 400, http.StatusBadGateway},
		{secondme.SubClientSecretMismatch, 401, http.StatusBadGateway},
		{secondme.SubInvalidParam, 400, http.StatusBadGateway},
		{secondme.SubInternalError, 500, http.StatusServiceUnavailable},
	} {
		t.Run(tc.subCode, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			c := h.browser(t)
			h.sm.FailNext(secondmetest.PathTokenCode, tc.upstream, tc.subCode)
			resp := h.signInSecondMe(t, c, "/")
			if resp.StatusCode != tc.status || sessionCookie(resp) != nil {
				t.Errorf("callback: %d, want %d and no session", resp.StatusCode, tc.status)
			}
			if len(h.users(t)) != 0 {
				t.Error("a user was created")
			}
			if _, st := h.me(t, c); st != http.StatusUnauthorized {
				t.Errorf("signed-in route: %d, want 401", st)
			}
		})
	}
	t.Run("real expiry and replay of a code", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		c := h.browser(t)
		authURL := h.startLogin(t, c, url.Values{"provider": {"secondme"}})
		back := h.sm.Approve(t, authURL, secondmetest.DefaultUser().UserID)
		h.sm.Advance(secondmetest.CodeTTL + time.Second)
		resp, body := get(t, c, back.String())
		if e := errorOf(t, body); resp.StatusCode != http.StatusBadRequest || e.Fields["code"] == "" ||
			!strings.Contains(e.Message, secondme.SubCodeExpired) {
			t.Errorf("expired code: %d %s, want 400 naming code and the subCode", resp.StatusCode, body)
		}
	})
}

func TestTokenRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, nil)
	h.sm.AccessTTL = time.Hour
	c := h.browser(t)
	h.signInSecondMe(t, c, "/")
	uid, _ := h.me(t, c)
	first, err := h.svc.AccessToken(ctx, uid)
	if err != nil || !strings.HasPrefix(first, "lba_at_") {
		t.Fatalf("AccessToken = %q, %v", first, err)
	}
	if n := len(h.sm.RequestsTo(secondmetest.PathTokenRefresh)); n != 0 {
		t.Errorf("%d refreshes of a fresh token, want 0", n)
	}
	// Near expiry, many callers at once: one refresh.
	h.clock.Advance(time.Hour - auth.RefreshBefore + time.Second)
	h.sm.Advance(time.Hour - auth.RefreshBefore + time.Second)
	var wg sync.WaitGroup
	got := make([]string, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = h.svc.AccessToken(ctx, uid)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] == first || got[i] != got[0] {
			t.Fatalf("concurrent AccessToken %d = %q, %v; want one new token for all", i, got[i], errs[i])
		}
	}
	if n := len(h.sm.RequestsTo(secondmetest.PathTokenRefresh)); n != 1 {
		t.Errorf("%d refreshes, want 1 (single flight)", n)
	}
	if _, err := secondme.New(secondme.Config{BaseURL: h.sm.URL}).Me(ctx, got[0]); err != nil {
		t.Errorf("refreshed token refused by SecondMe: %v", err)
	}
	if ident := h.secondMeIdentity(t); !ident.TokenExpiresAt.After(h.clock.Now().Add(30 * time.Minute)) {
		t.Errorf("stored expiry %s not moved", ident.TokenExpiresAt)
	}
}

func TestTokenRefreshRotated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, nil)
	h.sm.AccessTTL, h.sm.RotateRefresh = time.Hour, true
	c := h.browser(t)
	h.signInSecondMe(t, c, "/")
	uid, _ := h.me(t, c)
	for range 2 { // the second refresh uses the rotated token
		h.clock.Advance(time.Hour)
		h.sm.Advance(time.Hour)
		if _, err := h.svc.AccessToken(ctx, uid); err != nil {
			t.Fatalf("AccessToken after rotation: %v", err)
		}
	}
}

func TestRevokedRefreshToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		act  func(h *harness)
	}{
		{"revoked", func(h *harness) { h.sm.RevokeUser(secondmetest.DefaultUser().UserID) }},
		{"expired", func(h *harness) { h.sm.Advance(secondmetest.RefreshTTL) }},
		{"forced invalid", func(h *harness) {
			h.sm.FailNext(secondmetest.PathTokenRefresh, 401, secondme.SubRefreshTokenInvalid)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.sm.AccessTTL = time.Hour
			c := h.browser(t)
			h.signInSecondMe(t, c, "/")
			uid, _ := h.me(t, c)
			tc.act(h)
			h.clock.Advance(2 * time.Hour)
			h.sm.Advance(2 * time.Hour)
			_, err := h.svc.AccessToken(ctx, uid)
			var e *fault.Error
			if !errors.As(err, &e) || e.Code != fault.CodeUnauthenticated || !strings.Contains(e.Message, "sign in") {
				t.Fatalf("AccessToken = %v, want unauthenticated: sign in again", err)
			}
			if ident := h.secondMeIdentity(t); len(ident.SealedTokens) != 0 {
				t.Error("refused tokens kept")
			}
			if err := h.svc.Sync(ctx, uid); !errors.As(err, &e) || e.Code != fault.CodeUnauthenticated {
				t.Errorf("Sync = %v, want unauthenticated", err)
			}
			// Signing in again restores access.
			h.signInSecondMe(t, h.browser(t), "/")
			if _, err := h.svc.AccessToken(ctx, uid); err != nil {
				t.Errorf("AccessToken after signing in again: %v", err)
			}
		})
	}
}

func TestSync(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, nil)
	c := h.browser(t)
	h.signInSecondMe(t, c, "/")
	uid, _ := h.me(t, c)
	before, _ := h.st.GetUser(ctx, uid)
	// No change: same shade ids, same version.
	if err := h.svc.Sync(ctx, uid); err != nil {
		t.Fatal(err)
	}
	same, _ := h.st.GetUser(ctx, uid)
	if same.ProfileVersion != before.ProfileVersion || same.Shades[0].ID != before.Shades[0].ID {
		t.Errorf("sync without changes: version %d -> %d, shade id %s -> %s", before.ProfileVersion, same.ProfileVersion,
			before.Shades[0].ID, same.Shades[0].ID)
	}
	u := secondmetest.DefaultUser()
	u.Shades = u.Shades[:1]
	u.Bio = "Now also paints."
	h.sm.AddUser(u)
	h.sm.MemoryFail = true
	if err := h.svc.Sync(ctx, uid); err != nil {
		t.Fatal(err)
	}
	after, _ := h.st.GetUser(ctx, uid)
	if len(after.Shades) != 1 || after.Bio != "Now also paints." || after.ProfileVersion != before.ProfileVersion+1 ||
		len(after.Memories) != 2 {
		t.Errorf("after sync: %d shades, bio %q, version %d, %d memories; want 1, the new bio, %d, the 2 kept memories",
			len(after.Shades), after.Bio, after.ProfileVersion, len(after.Memories), before.ProfileVersion+1)
	}
}

func TestSyncWithoutSecondMe(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.browser(t)
	authURL := h.startLogin(t, c, url.Values{"provider": {"oidc"}})
	get(t, c, h.oidc.Authorize(t, authURL, "sub-1", "Olive").String())
	uid, _ := h.me(t, c)
	var e *fault.Error
	for name, err := range map[string]error{"Sync": h.svc.Sync(context.Background(), uid), "AccessToken": func() error {
		_, err := h.svc.AccessToken(context.Background(), uid)
		return err
	}()} {
		if !errors.As(err, &e) || e.Code != fault.CodeConflict || e.Message != "no SecondMe account linked" {
			t.Errorf("%s = %v, want conflict: no SecondMe account linked", name, err)
		}
	}
}

// flip changes the character at i of a base64url string to another one.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

func TestProviders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	resp, body := get(t, h.browser(t), h.srv.URL+"/api/auth/providers")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if want := `{"providers":["secondme","oidc"]}`; strings.TrimSpace(body) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
}
