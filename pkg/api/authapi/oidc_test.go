package authapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/store"
)

func TestOIDCSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.browser(t)
	authURL := h.startLogin(t, c, url.Values{"provider": {"oidc"}, "returnTo": {"/matches"}, "login_hint": {"olive@example.com"}})
	resp, body := get(t, c, h.oidc.Authorize(t, authURL, "sub-olive", "Olive Oyl").String())
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/matches" || sessionCookie(resp) == nil {
		t.Fatalf("callback: %d %s to %q, want a signed-in 302 to /matches", resp.StatusCode, body, resp.Header.Get("Location"))
	}
	if got := h.oidc.Hints; len(got) != 1 || got[0] != "olive@example.com" {
		t.Errorf("login_hint passed as %v", got)
	}
	uid, _ := h.me(t, c)
	u, err := h.st.GetUser(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	if u.Nickname != "Olive Oyl" || u.Avatar != "https://cdn.example.com/sub-olive.png" || u.Provider != store.ProviderOIDC ||
		len(u.Shades) != 0 || u.Discoverable || u.AllowTwinChat {
		t.Errorf("user = %+v, want the claims' name and picture, an empty private profile", u)
	}
	ident, err := h.st.GetIdentity(context.Background(), store.ProviderOIDC, "sub-olive")
	if err != nil || ident.UserID != uid || len(ident.SealedTokens) != 0 {
		t.Errorf("identity = %+v, %v; want the user and no stored tokens", ident, err)
	}
	// Again: the same person.
	c2 := h.browser(t)
	get(t, c2, h.oidc.Authorize(t, h.startLogin(t, c2, url.Values{"provider": {"oidc"}}), "sub-olive", "Olive").String())
	if uid2, _ := h.me(t, c2); uid2 != uid || len(h.users(t)) != 1 {
		t.Errorf("second sign-in as %s (%d users), want %s", uid2, len(h.users(t)), uid)
	}
}

func TestOIDCRefusals(t *testing.T) {
	t.Parallel()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(map[string]any)
		forged bool
		status int
	}{
		{"wrong audience", func(c map[string]any) { c["aud"] = "another-app" }, false, http.StatusUnauthorized},
		{"wrong nonce", func(c map[string]any) { c["nonce"] = "not-the-one" }, false, http.StatusUnauthorized},
		{"no nonce", func(c map[string]any) { delete(c, "nonce") }, false, http.StatusUnauthorized},
		{"expired", func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }, false, http.StatusUnauthorized},
		{"wrong issuer", func(c map[string]any) { c["iss"] = "https://evil.example" }, false, http.StatusUnauthorized},
		{"forged signature", nil, true, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.oidc.Mutate = tc.mutate
			if tc.forged {
				h.oidc.SignWith = other
			}
			c := h.browser(t)
			back := h.oidc.Authorize(t, h.startLogin(t, c, url.Values{"provider": {"oidc"}}), "sub-x", "X")
			resp, body := get(t, c, back.String())
			if resp.StatusCode != tc.status || sessionCookie(resp) != nil {
				t.Errorf("callback: %d %s, want %d and no session", resp.StatusCode, body, tc.status)
			}
			if len(h.users(t)) != 0 {
				t.Error("a user was created")
			}
		})
	}
	t.Run("wrong PKCE verifier", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, nil)
		c := h.browser(t)
		authURL := h.startLogin(t, c, url.Values{"provider": {"oidc"}})
		u, _ := url.Parse(authURL)
		q := u.Query()
		q.Set("code_challenge", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") // the provider remembers another challenge
		u.RawQuery = q.Encode()
		resp, body := get(t, c, h.oidc.Authorize(t, u.String(), "sub-x", "X").String())
		if e := errorOf(t, body); resp.StatusCode != http.StatusBadRequest || e.Fields["code"] == "" {
			t.Errorf("callback: %d %s, want 400 naming code", resp.StatusCode, body)
		}
	})
}
