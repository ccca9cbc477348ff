package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/id"
)

// mockSignIn runs the real pkg/auth OIDC flow (discovery, PKCE, go-oidc verification) against the
// mock provider with a login_hint and returns the verified profile.
func mockSignIn(t *testing.T, o *auth.OIDC, hint string) auth.OIDCProfile {
	t.Helper()
	ctx := context.Background()
	state, nonce, verifier := "st-"+id.New(), "n-"+id.New(), oauth2.GenerateVerifier()
	authURL, err := o.AuthCodeURL(ctx, state, nonce, verifier, hint)
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || back.Query().Get("state") != state {
		t.Fatalf("authorize: %d to %s", resp.StatusCode, back)
	}
	p, err := o.Exchange(ctx, back.Query().Get("code"), verifier, nonce)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return p
}

func TestMockOIDCLoginHints(t *testing.T) {
	personas, err := loadPersonas()
	if err != nil {
		t.Fatal(err)
	}
	m, err := startMockOIDC(personas)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	o := auth.NewOIDC(auth.OIDCConfig{Issuer: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret,
		RedirectURL: "http://127.0.0.1:1/api/auth/callback"})

	p := mockSignIn(t, o, personas[0].ID)
	if p.Subject != personas[0].ID || p.Name != personas[0].Nickname {
		t.Errorf("persona sign-in = %+v, want subject %s named %s", p, personas[0].ID, personas[0].Nickname)
	}
	a, b := mockSignIn(t, o, "new:Zoë"), mockSignIn(t, o, "new:Zoë")
	if a.Name != "Zoë" || a.Subject == b.Subject || !id.Valid(a.Subject) {
		t.Errorf("new sign-ups = %+v and %+v, want Zoë with two fresh subjects", a, b)
	}
	if again := mockSignIn(t, o, a.Subject); again.Subject != a.Subject {
		t.Errorf("returning sign-in = %+v, want subject %s", again, a.Subject)
	}
	if g := mockSignIn(t, o, ""); g.Name != "Guest" {
		t.Errorf("no hint = %+v, want a new Guest", g)
	}
}

// browser is a cookie-keeping client that follows redirects within the local stack.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func TestSignInThroughTheLocalStack(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, dir)
	personas, err := loadPersonas()
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(t *testing.T, c *http.Client, hint string) string {
		t.Helper()
		resp, err := c.Get(a.url + "/api/auth/login?provider=oidc&returnTo=%2Fapi%2Fuser%2Finfo&login_hint=" + url.QueryEscape(hint))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var info struct{ ID, Nickname string }
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &info) != nil {
			t.Fatalf("sign-in as %q ended at %s: %d %s", hint, resp.Request.URL, resp.StatusCode, body)
		}
		return info.ID + " " + info.Nickname
	}
	if got, want := signIn(t, browser(t), personas[0].ID), personas[0].ID+" "+personas[0].Nickname; got != want {
		t.Errorf("persona sign-in as %q, want %q", got, want)
	}
	newcomer := signIn(t, browser(t), "new:Quinn")
	if !strings.HasSuffix(newcomer, " Quinn") || strings.HasPrefix(newcomer, personas[0].ID) {
		t.Errorf("new sign-up as %q, want a new person named Quinn", newcomer)
	}
	c := browser(t)
	signIn(t, c, personas[1].ID)
	req, _ := http.NewRequest(http.MethodPost, a.url+"/api/auth/logout", nil)
	req.Header.Set("Origin", a.url)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("logout: %d, want 204", resp.StatusCode)
	}
	if resp, _ := c.Get(a.url + "/api/user/info"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout: %d, want 401", resp.StatusCode)
	}
	if key, err := os.ReadFile(filepath.Join(dir, "sealing.key")); err != nil || len(strings.TrimSpace(string(key))) != 64 {
		t.Errorf("sealing key file: %q, %v", key, err)
	}
}
