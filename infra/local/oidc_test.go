package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secondme/twin/infra/demo"
)

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
	personas, err := demo.Personas()
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
