package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/infra/demo"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// anonymous is a browser of the local stack that has not signed in.
func anonymous(t *testing.T, a *running) *chatClient {
	return &chatClient{t: t, base: a.url, c: browser(t)}
}

// lifecycle walks one person's account over HTTP: profile, shades, the discoverable switch, a block,
// a chat, matches (waited for when wantMatches), export and erase. It returns what the export named
// (ids and identity subjects) and the unique text it wrote, all of which must be gone after the erase.
func lifecycle(t *testing.T, a *running, me *chatClient, other string, wantMatches bool) []string {
	t.Helper()
	anon := anonymous(t, a)
	marker := "Marker" + strings.ToUpper(me.id[len(me.id)-8:])

	var info profile.Info
	if code, body := me.do("GET", "/api/user/info", "", &info); code != 200 || info.ID != me.id {
		t.Fatalf("info: %d %s", code, body)
	}
	// New people start private; the test makes everyone discoverable first.
	patch := fmt.Sprintf(`{"nickname":"%s Nick","bio":"%s bio","avatar":"/media/avatars/%s/%s.png","discoverable":true}`, marker, marker, me.id, marker)
	if code, body := me.do("PATCH", "/api/user/info", patch, &info); code != 200 || info.Nickname != marker+" Nick" || info.Bio != marker+" bio" || !info.Discoverable {
		t.Fatalf("patch info: %d %s", code, body)
	}

	// Shades: keep the first one's id, add a public and a private one.
	var shades struct{ Shades []profile.Shade }
	if code, body := me.do("GET", "/api/user/shades", "", &shades); code != 200 {
		t.Fatalf("shades: %d %s", code, body)
	}
	edited := []profile.Shade{
		{Name: marker + " public", Confidence: "HIGH", Content: marker + " private text", Topics: []string{"chess", "poetry"},
			Public: &profile.PublicShade{Name: marker + " shown", Content: "Plays chess.", Topics: []string{"chess"}}},
		{Name: marker + " secret", Content: marker + " only my twin knows"},
	}
	if len(shades.Shades) > 0 {
		edited = append([]profile.Shade{shades.Shades[0]}, edited...)
	}
	body, _ := json.Marshal(map[string]any{"shades": edited})
	if code, resp := me.do("PUT", "/api/user/shades", string(body), &shades); code != 200 || len(shades.Shades) != len(edited) {
		t.Fatalf("put shades: %d %s", code, resp)
	} else if len(edited) == 3 && shades.Shades[0].ID != edited[0].ID {
		t.Errorf("the kept shade's id changed: %s, want %s", shades.Shades[0].ID, edited[0].ID)
	}

	// Others see the public shade only; hidden, nobody else sees the person; shown again, they do.
	var pub profile.PublicProfile
	if code, resp := anon.do("GET", "/api/users/"+me.id, "", &pub); code != 200 || strings.Contains(resp, "only my twin knows") ||
		strings.Contains(resp, marker+" secret") || strings.Contains(resp, marker+" private text") || !strings.Contains(resp, marker+" shown") {
		t.Errorf("public profile: %d %s", code, resp)
	}
	if code, resp := me.do("PATCH", "/api/user/info", `{"discoverable":false}`, &info); code != 200 || info.Discoverable {
		t.Fatalf("hide: %d %s", code, resp)
	}
	if code, _ := anon.do("GET", "/api/users/"+me.id, "", nil); code != 404 {
		t.Errorf("hidden public profile: %d, want 404", code)
	}
	if code, resp := me.do("PATCH", "/api/user/info", `{"discoverable":true}`, &info); code != 200 || !info.Discoverable {
		t.Fatalf("show: %d %s", code, resp)
	}
	if code, _ := anon.do("GET", "/api/users/"+me.id, "", nil); code != 200 {
		t.Errorf("shown public profile: %d, want 200", code)
	}

	// A block, a chat with one's own twin, and the matches the background work computed.
	if code, resp := me.do("POST", "/api/users/"+other+"/block", "", nil); code != 204 {
		t.Fatalf("block: %d %s", code, resp)
	}
	if code, resp := me.do("POST", "/api/chat", `{"message":"`+marker+` hello twin"}`, nil); code != 200 {
		t.Fatalf("chat: %d %s", code, resp)
	}
	if wantMatches {
		deadline := time.Now().Add(20 * time.Second)
		for {
			var ms struct{ Matches []json.RawMessage }
			code, resp := me.do("GET", "/api/matches", "", &ms)
			if code != 200 {
				t.Fatalf("matches: %d %s", code, resp)
			}
			if len(ms.Matches) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no match computed within 20s")
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// The export holds all of it, and no token.
	var doc profile.Document
	code, resp := me.do("GET", "/api/user/export", "", &doc)
	if code != 200 || doc.Profile.ID != me.id || len(doc.Shades) != len(edited) || len(doc.Identities) != 1 ||
		len(doc.Sessions) != 1 || len(doc.Sessions[0].Messages) != 2 || len(doc.Blocks) != 1 || doc.Blocks[0].UserID != other {
		t.Fatalf("export: %d %s", code, resp)
	}
	if wantMatches && len(doc.Matches) == 0 {
		t.Error("export: no matches")
	}
	if strings.Contains(resp, "lba_") || strings.Contains(strings.ToLower(resp), "token") {
		t.Errorf("export holds a token: %s", resp)
	}
	gone := []string{me.id, marker, doc.Identities[0].Subject, doc.Sessions[0].ID}
	for _, m := range doc.Sessions[0].Messages {
		gone = append(gone, m.ID)
	}

	// Erase: 204, the cookie cleared, and the person is gone for everyone.
	req, _ := http.NewRequest("DELETE", a.url+"/api/user", nil)
	req.Header.Set("Origin", a.url)
	r, err := me.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 204 || !strings.Contains(r.Header.Get("Set-Cookie"), "sm_session=;") {
		t.Fatalf("delete: %d, Set-Cookie %q", r.StatusCode, r.Header.Get("Set-Cookie"))
	}
	if code, _ := me.do("GET", "/api/user/info", "", nil); code != 401 {
		t.Errorf("info after erase: %d, want 401", code)
	}
	if code, _ := anon.do("GET", "/api/users/"+me.id, "", nil); code != 404 {
		t.Errorf("public profile after erase: %d, want 404", code)
	}
	return gone
}

// TestAccountLifecycle signs in over HTTP with a cookie jar through the mock provider, as a demo
// persona and as a new person, walks each account (see lifecycle), erases it, and then finds nothing
// of either person in a dump of the SQLite store.
func TestAccountLifecycle(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, dir)
	personas, err := demo.Personas()
	if err != nil {
		t.Fatal(err)
	}
	persona := signInAs(t, a, personas[2].ID)
	if persona.id != personas[2].ID {
		t.Fatalf("signed in as %s, want the persona %s", persona.id, personas[2].ID)
	}
	gone := lifecycle(t, a, persona, personas[3].ID, true)
	newcomer := signInAs(t, a, "new:Nick")
	if newcomer.id == "" || newcomer.id == personas[2].ID {
		t.Fatalf("new person: %q", newcomer.id)
	}
	gone = append(gone, lifecycle(t, a, newcomer, personas[4].ID, false)...)

	if err := a.stop(); err != nil { // drains the queue: no job can write after the dump
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "secondme.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var dump bytes.Buffer
	if err := st.Dump(ctx, &dump); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dump.String(), personas[3].ID) {
		t.Fatal("the dump does not hold the other personas; is it a dump?")
	}
	for _, line := range strings.Split(dump.String(), "\n") {
		for _, g := range gone {
			if strings.Contains(line, g) {
				t.Errorf("%q is left after the erase: %s", g, line)
			}
		}
	}
}

// TestAuthorizationMatrix calls every users and auth route as an anonymous caller, as another
// signed-in person and as the owner, and checks the status each gets. The owner is a person whose
// data the route would touch: the {id} of /api/users/{id}, or the caller's own account.
func TestAuthorizationMatrix(t *testing.T) {
	a := startApp(t, t.TempDir())
	owner := signInAs(t, a, "new:Owner")
	other := signInAs(t, a, "new:Other")
	anon := anonymous(t, a)
	for _, c := range []*chatClient{owner, other} { // new people start private
		if code, body := c.do("PATCH", "/api/user/info", `{"discoverable":true}`, nil); code != 200 {
			t.Fatalf("show: %d %s", code, body)
		}
	}
	noFollow := func(c *chatClient) *chatClient {
		cc := *c
		client := *c.c
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		cc.c = &client
		return &cc
	}
	callers := []struct {
		name string
		c    *chatClient
	}{{"anonymous", anon}, {"other", other}, {"owner", owner}}
	shades := `{"shades":[{"name":"Chess","public":{"name":"Chess","topics":["chess"]}}]}`
	webhook := `{"eventId":"e1","appScopedUserId":"x","reason":"test_delivery"}`
	tests := []struct {
		method, path, body string
		want               [3]int // anonymous, other, owner
	}{
		{"GET", "/api/health", "", [3]int{200, 200, 200}},
		{"GET", "/api/user/info", "", [3]int{401, 200, 200}},
		{"PATCH", "/api/user/info", `{"bio":"b"}`, [3]int{401, 200, 200}},
		{"GET", "/api/user/shades", "", [3]int{401, 200, 200}},
		{"PUT", "/api/user/shades", shades, [3]int{401, 200, 200}},
		{"POST", "/api/user/sync", "", [3]int{401, 409, 409}}, // signed in through OIDC: no SecondMe account
		{"GET", "/api/user/export", "", [3]int{401, 200, 200}},
		{"GET", "/api/users/{owner}", "", [3]int{200, 200, 200}},
		{"POST", "/api/users/{owner}/block", "", [3]int{401, 204, 400}},
		{"DELETE", "/api/users/{owner}/block", "", [3]int{401, 204, 400}},
		{"PATCH", "/api/user/info", `{"discoverable":false}`, [3]int{401, 200, 200}},
		{"GET", "/api/users/{owner}", "", [3]int{404, 404, 200}}, // hidden now (the other hid too)
		{"GET", "/api/auth/providers", "", [3]int{200, 200, 200}},
		{"GET", "/api/auth/login?provider=oidc&returnTo=/", "", [3]int{302, 302, 302}},
		{"GET", "/api/auth/callback?code=x&state=y", "", [3]int{400, 400, 400}},
		{"POST", "/api/webhooks/secondme", webhook, [3]int{503, 503, 503}}, // no webhook secret configured locally
	}
	loggedOut := []struct {
		method, path, body string
		want               [3]int
	}{
		{"POST", "/api/auth/logout", "", [3]int{204, 204, 204}},
		{"GET", "/api/user/info", "", [3]int{401, 401, 401}},
	}
	check := func(rows []struct {
		method, path, body string
		want               [3]int
	}) {
		t.Helper()
		for _, tt := range rows {
			path := strings.ReplaceAll(tt.path, "{owner}", owner.id)
			for i, caller := range callers {
				code, body := noFollow(caller.c).do(tt.method, path, tt.body, nil)
				if code != tt.want[i] {
					t.Errorf("%s %s as %s: %d, want %d (%s)", tt.method, tt.path, caller.name, code, tt.want[i], body)
				}
			}
		}
	}
	check(tests)

	// What "other" got was its own data, never the owner's, and a cross-site request changes nothing.
	var info profile.Info
	if other.do("GET", "/api/user/info", "", &info); info.ID != other.id {
		t.Errorf("other's info is %s's", info.ID)
	}
	if code, body := owner.do("PUT", "/api/user/shades", `{"shades":[{"name":"OWNER-SECRET","content":"OWNER-SECRET text"}]}`, nil); code != 200 {
		t.Fatalf("owner's shades: %d %s", code, body)
	}
	var doc profile.Document
	if code, resp := other.do("GET", "/api/user/export", "", &doc); code != 200 || doc.Profile.ID != other.id || strings.Contains(resp, "OWNER-SECRET") {
		t.Errorf("other's export: %d %s", code, resp)
	}
	for _, m := range []struct{ method, path, body string }{
		{"PATCH", "/api/user/info", `{"nickname":"Hijacked"}`},
		{"PUT", "/api/user/shades", `{"shades":[]}`},
		{"POST", "/api/user/sync", ""},
		{"DELETE", "/api/user", ""},
		{"POST", "/api/users/" + other.id + "/block", ""},
		{"DELETE", "/api/users/" + other.id + "/block", ""},
		{"POST", "/api/auth/logout", ""},
	} {
		req, _ := http.NewRequest(m.method, a.url+m.path, strings.NewReader(m.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://evil.example")
		resp, err := owner.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site %s %s: %d, want 403", m.method, m.path, resp.StatusCode)
		}
	}
	if code, _ := owner.do("GET", "/api/user/info", "", &info); code != 200 || info.Nickname == "Hijacked" {
		t.Errorf("after cross-site requests the owner reads %d %+v", code, info)
	}

	// Logout ends each session; nobody is signed in afterwards.
	check(loggedOut)

	// Erase as each caller: anonymous is refused, each person erases only their own account.
	owner, other = signInAs(t, a, "new:Owner again"), signInAs(t, a, "new:Other again")
	if code, _ := anon.do("DELETE", "/api/user", "", nil); code != 401 {
		t.Errorf("anonymous erase: %d, want 401", code)
	}
	if code, _ := other.do("DELETE", "/api/user", "", nil); code != 204 {
		t.Errorf("other's erase: %d, want 204", code)
	}
	if code, _ := owner.do("GET", "/api/user/info", "", nil); code != 200 {
		t.Errorf("the owner after the other's erase: %d, want 200", code)
	}
	if code, _ := owner.do("DELETE", "/api/user", "", nil); code != 204 {
		t.Errorf("owner's erase: %d, want 204", code)
	}
}
