package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme/twin/infra/demo"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/queue"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// running is one running local stack.
type running struct {
	url  string
	stop func() error
}

// startApp runs the local stack on a free port over dataDir and returns once it prints its URL.
func startApp(tb testing.TB, dataDir string) *running { return startAppWith(tb, dataDir, nil) }

// startAppWith is startApp with extend changing the stack before it serves.
func startAppWith(tb testing.TB, dataDir string, extend func(*stack)) *running {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"PORT": "0", "DATA_DIR": dataDir}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := runWith(ctx, nil, func(k string) string { return env[k] }, pw, extend)
		pw.Close()
		done <- err
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	var url string
	select {
	case line := <-lines:
		const prefix = "Second Me is running at "
		if !strings.HasPrefix(line, prefix) {
			tb.Fatalf("first line %q, want %q...", line, prefix)
		}
		url = strings.TrimPrefix(line, prefix)
	case err := <-done:
		cancel()
		tb.Fatalf("run ended before serving: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		tb.Fatal("the local stack did not start within 30s")
	}
	stopped := false
	a := &running{url: url, stop: func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}}
	tb.Cleanup(func() { a.stop() })
	return a
}

func (a *running) get(tb testing.TB, path string) (int, []byte) {
	tb.Helper()
	resp, err := http.Get(a.url + path)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, b
}

func TestServesPersonasAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, dir)
	if !strings.HasPrefix(a.url, "http://127.0.0.1:") {
		t.Errorf("url = %q, want http://127.0.0.1:<port>", a.url)
	}
	if code, body := a.get(t, "/api/health"); code != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Fatalf("health: %d %s", code, body)
	}
	code, body := a.get(t, "/local/personas")
	if code != 200 {
		t.Fatalf("personas: %d %s", code, body)
	}
	var refs []demo.PersonaRef
	if err := json.Unmarshal(body, &refs); err != nil {
		t.Fatal(err)
	}
	if len(refs) < 12 {
		t.Fatalf("%d personas, want at least 12", len(refs))
	}
	seeded, err := demo.Personas()
	if err != nil {
		t.Fatal(err)
	}
	first := map[string]string{}
	for _, u := range seeded {
		code, body := a.get(t, "/api/users/"+u.ID)
		if code != 200 {
			t.Fatalf("GET /api/users/%s (%s): %d %s", u.ID, u.Nickname, code, body)
		}
		var p profile.PublicProfile
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("%s: %v", u.Nickname, err)
		}
		if p.ID != u.ID || p.Nickname != u.Nickname {
			t.Errorf("public profile %s %q, want %s %q", p.ID, p.Nickname, u.ID, u.Nickname)
		}
		public := 0
		for _, s := range u.Shades {
			if s.Public == nil {
				if strings.Contains(string(body), s.Content) || strings.Contains(string(body), s.ID) {
					t.Errorf("%s: the private shade %q shows in %s", u.Nickname, s.Name, body)
				}
				continue
			}
			public++
			if s.Content != s.Public.Content && strings.Contains(string(body), s.Content) {
				t.Errorf("%s: the private content of %q shows", u.Nickname, s.Name)
			}
		}
		if len(p.Shades) != public {
			t.Errorf("%s: %d public shades shown, want %d", u.Nickname, len(p.Shades), public)
		}
		for _, m := range u.Memories {
			if strings.Contains(string(body), m.Content) {
				t.Errorf("%s: a memory shows", u.Nickname)
			}
		}
		first[u.ID] = string(body)
	}
	if err := a.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	b := startApp(t, dir)
	for _, u := range seeded {
		if _, body := b.get(t, "/api/users/"+u.ID); string(body) != first[u.ID] {
			t.Errorf("after a restart %s reads\n%s\nwant\n%s", u.Nickname, body, first[u.ID])
		}
	}
}

func TestSeedKeepsEditsAndNeverDuplicates(t *testing.T) {
	dir := t.TempDir()
	a := startApp(t, dir)
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	seeded, err := demo.Personas()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "secondme.db"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.GetUser(ctx, seeded[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	u.Nickname = "Edited"
	if _, err := st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	st.Close()

	b := startApp(t, dir)
	if _, body := b.get(t, "/api/users/"+seeded[0].ID); !strings.Contains(string(body), `"nickname":"Edited"`) {
		t.Errorf("the edit was overwritten: %s", body)
	}
	if err := b.stop(); err != nil {
		t.Fatal(err)
	}
	st, err = sqlitestore.Open(ctx, filepath.Join(dir, "secondme.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.ScanUsers(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(page.Items), len(seeded); got != want {
		t.Errorf("%d users after two starts, want %d", got, want)
	}
	for _, p := range seeded {
		ids, err := st.ListIdentities(ctx, p.ID)
		if err != nil || len(ids) != 1 || ids[0].Provider != "oidc" || ids[0].Subject != p.ID {
			t.Errorf("identities of %s = %+v, %v; want one oidc identity with its id as subject", p.Nickname, ids, err)
		}
	}
}

// slowGroup adds a route that takes a while and a job handler that counts the jobs it finished.
type slowGroup struct {
	started chan struct{}
	jobs    atomic.Int32
	queue   func(ctx context.Context, bodies ...[]byte) error
}

func (g *slowGroup) wire(s *stack) {
	handle := queue.Handler(func(ctx context.Context, body []byte) error {
		if strings.HasPrefix(string(body), "slow-") {
			time.Sleep(100 * time.Millisecond)
			g.jobs.Add(1)
		}
		return nil
	})
	s.handle.Store(&handle)
	g.queue = s.queue.Send
	s.router.HandleFunc("GET /test/slow", func(w http.ResponseWriter, r *http.Request) error {
		close(g.started)
		time.Sleep(300 * time.Millisecond)
		api.WriteJSON(w, http.StatusOK, map[string]string{"done": "yes"})
		return nil
	})
}

func TestShutdownDrainsRequestsAndJobs(t *testing.T) {
	g := &slowGroup{started: make(chan struct{})}
	a := startAppWith(t, t.TempDir(), g.wire)
	if err := g.queue(context.Background(), []byte("slow-1"), []byte("slow-2"), []byte("slow-3")); err != nil {
		t.Fatal(err)
	}
	type result struct {
		code int
		body []byte
	}
	res := make(chan result, 1)
	go func() {
		code, body := a.get(t, "/test/slow")
		res <- result{code, body}
	}()
	<-g.started
	if err := a.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	r := <-res
	if r.code != 200 || !strings.Contains(string(r.body), "yes") {
		t.Errorf("the in-flight request got %d %s, want it finished", r.code, r.body)
	}
	if got := g.jobs.Load(); got != 3 {
		t.Errorf("%d jobs finished before exit, want 3", got)
	}
	if _, err := http.Get(a.url + "/api/health"); err == nil {
		t.Error("the server still accepts requests after shutdown")
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr string
	}{
		{"defaults", nil, nil, config{addr: "127.0.0.1:8080", dataDir: ".data"}, ""},
		{"port", nil, map[string]string{"PORT": "9090"}, config{addr: "127.0.0.1:9090", dataDir: ".data"}, ""},
		{"addr wins", nil, map[string]string{"PORT": "9090", "ADDR": "0.0.0.0:7000"}, config{addr: "0.0.0.0:7000", dataDir: ".data"}, ""},
		{"data dir", nil, map[string]string{"DATA_DIR": "/tmp/x"}, config{addr: "127.0.0.1:8080", dataDir: "/tmp/x"}, ""},
		{"rematch once", []string{"-rematch-once"}, nil, config{addr: "127.0.0.1:8080", dataDir: ".data", rematchOnce: true}, ""},
		{"bad port", nil, map[string]string{"PORT": "http"}, config{}, "PORT"},
		{"port too big", nil, map[string]string{"PORT": "70000"}, config{}, "PORT"},
		{"unknown flag", []string{"-nope"}, nil, config{}, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := configFrom(tt.args, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("configFrom = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
