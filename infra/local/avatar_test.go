package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/avatar"
	"github.com/secondme/twin/pkg/profile"
)

// TestAvatarThroughTheLocalStack makes a portrait over HTTP with the offline generator: the job is
// queued, runs on the in-process queue, stores the SVG under DATA_DIR and sets the avatar, which the
// public profile shows and /media serves with immutable cache headers. Bad bodies get a 400 naming
// the field (or a 413), and erasing the account removes the image.
func TestAvatarThroughTheLocalStack(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, dir)
	me := signInAs(t, a, "new:Avatar Tester")

	for body, field := range map[string]string{`{"style":"crayon"}`: "style", `{"style":3}`: "style", `{"size":1}`: "size"} {
		if code, resp := me.do("POST", "/api/user/avatar", body, nil); code != 400 || !strings.Contains(resp, `"`+field+`"`) {
			t.Errorf("POST %s: %d %s, want 400 naming %s", body, code, resp, field)
		}
	}
	if code, resp := me.do("POST", "/api/user/avatar", `{"style":"`+strings.Repeat("x", 70<<10)+`"}`, nil); code != 413 {
		t.Errorf("oversized body: %d %s, want 413", code, resp)
	}
	var st avatar.State
	if code, resp := me.do("GET", "/api/user/avatar", "", &st); code != 200 || st.Status != avatar.StatusNone {
		t.Fatalf("state before: %d %s", code, resp)
	}
	if code, resp := me.do("POST", "/api/user/avatar", `{"style":"pixel"}`, &st); code != 202 || st.Job == "" || st.Status != avatar.StatusQueued {
		t.Fatalf("POST: %d %s", code, resp)
	}
	deadline := time.Now().Add(20 * time.Second)
	for st.Status != avatar.StatusDone {
		if st.Status == avatar.StatusFailed || time.Now().After(deadline) {
			t.Fatalf("job did not finish: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
		me.do("GET", "/api/user/avatar", "", &st)
	}
	if !strings.HasPrefix(st.URL, "/media/avatars/"+me.id+"/") {
		t.Fatalf("portrait URL %q", st.URL)
	}
	var pub profile.PublicProfile
	me.do("PATCH", "/api/user/info", `{"discoverable":true}`, nil)
	if code, resp := anonymous(t, a).do("GET", "/api/users/"+me.id, "", &pub); code != 200 || pub.Avatar != st.URL {
		t.Errorf("public profile: %d %s, want avatar %s", code, resp, st.URL)
	}
	resp, err := http.Get(a.url + st.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" ||
		resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET %s: %d %v", st.URL, resp.StatusCode, resp.Header)
	}
	if code, _ := a.get(t, "/media/jobs/avatars/"+me.id+".json"); code != 404 {
		t.Errorf("a job's state is served: %d", code)
	}
	// A body-less POST takes the default style; the account is erased while that job may still be
	// queued: the job then finds no state and does nothing, so nothing of the person is left.
	var next avatar.State
	if code, resp := me.do("POST", "/api/user/avatar", "", &next); code != 202 || next.Style != avatar.DefaultStyle {
		t.Fatalf("POST without a body: %d %s", code, resp)
	}
	if code, resp := me.do("DELETE", "/api/user", "", nil); code != 204 {
		t.Fatalf("erase: %d %s", code, resp)
	}
	// The erase's heavy part may run as a job: wait for it.
	left := func() []string {
		states, _ := filepath.Glob(filepath.Join(dir, "media", "*", "avatars", me.id+"*"))
		images, _ := filepath.Glob(filepath.Join(dir, "media", "avatars", me.id, "*"))
		return append(states, images...)
	}
	for deadline := time.Now().Add(10 * time.Second); len(left()) > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if l := left(); len(l) > 0 {
		t.Errorf("left after erase: %q", l)
	}
	if code, _ := a.get(t, st.URL); code != 404 {
		t.Errorf("portrait after erase: %d, want 404", code)
	}
}
