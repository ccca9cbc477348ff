package main

import (
	"bufio"
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
	"time"

	"github.com/secondme/twin/infra/demo"
)

// startGateway runs the whole gateway from template.yaml in a fresh data directory.
func startGateway(t *testing.T) (*gateway, *syncBuffer) {
	t.Helper()
	needDynalite(t)
	logs := &syncBuffer{}
	// The bootstraps are kept between test runs: go build relinks only what changed.
	cfg := config{addr: "127.0.0.1:0", dataDir: t.TempDir(), offlinePace: "30ms", logs: logs,
		binDir: filepath.Join(os.TempDir(), "secondme-gateway-test", "bin")}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	g, err := start_(ctx, cfg)
	if err != nil {
		t.Fatalf("start: %v\nfunction output:\n%s", err, logs.String())
	}
	t.Logf("the gateway was ready in %v", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := g.shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("function output:\n%s", logs.String())
		}
	})
	return g, logs
}

var start_ = func(ctx context.Context, cfg config) (*gateway, error) { return start(ctx, cfg, io.Discard) }

func TestGatewayEndToEnd(t *testing.T) {
	g, logs := startGateway(t)
	base := g.url
	get := func(c *http.Client, path string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	t.Run("the page", func(t *testing.T) {
		resp, body := get(http.DefaultClient, "/")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<html") {
			t.Errorf("GET / = %d %s %.80q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})
	t.Run("health", func(t *testing.T) {
		if resp, body := get(http.DefaultClient, "/api/health"); resp.StatusCode != 200 {
			t.Errorf("GET /api/health = %d %s", resp.StatusCode, body)
		}
	})
	t.Run("no route", func(t *testing.T) {
		// Unknown GETs reach the web function (GET /{proxy+}): JSON under /api/, a page elsewhere.
		resp, body := get(http.DefaultClient, "/api/no/such/route")
		if resp.StatusCode != 404 || !strings.Contains(body, `"code":"not_found"`) {
			t.Errorf("GET /api/no/such/route = %d %s, want our JSON 404", resp.StatusCode, body)
		}
		resp, body = get(http.DefaultClient, "/no/such/page")
		if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "<html") {
			t.Errorf("GET /no/such/page = %d %s %.80q, want the HTML 404 page", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})

	personas, err := demo.Personas()
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	t.Run("sign in", func(t *testing.T) {
		resp, body := get(browser, "/api/auth/login?provider=oidc&returnTo=%2Fapi%2Fuser%2Finfo&login_hint="+url.QueryEscape(personas[0].ID))
		var info struct{ ID, Nickname string }
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &info) != nil || info.ID != personas[0].ID {
			t.Fatalf("sign-in ended at %s: %d %s", resp.Request.URL, resp.StatusCode, body)
		}
		resp, body = get(browser, "/api/user/info")
		if resp.StatusCode != 200 || !strings.Contains(body, personas[0].Nickname) {
			t.Errorf("GET /api/user/info as %s = %d %s", personas[0].ID, resp.StatusCode, body)
		}
	})
	t.Run("chat stream", func(t *testing.T) {
		req, _ := http.NewRequest("POST", base+"/api/chat/stream", strings.NewReader(`{"message":"Hello, twin. Tell me about your week.","clientMessageId":"e2e-1"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Origin", base)
		req.Header.Set("X-Origin-Verify", "forged by the client")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("POST /api/chat/stream = %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		var events []string
		var at []time.Time
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				events = append(events, ev)
				at = append(at, time.Now())
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("reading the stream: %v", err)
		}
		if len(events) < 4 || events[len(events)-1] != "done" {
			t.Fatalf("events = %q, want several, ending with done", events)
		}
		if spread := at[len(at)-1].Sub(at[0]); spread < 100*time.Millisecond {
			t.Errorf("the %d events arrived within %v: not streamed as written (30 ms a word)", len(events), spread)
		}
	})
	t.Run("the nightly fans out through the queues", func(t *testing.T) {
		// The rematch function only plans (its first shard task onto NightlyQueue); the compat worker
		// runs the tasks, each sending the next, until the last one finishes the run.
		resp, err := http.Post(base+"/_gateway/schedules/Nightly", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("POST /_gateway/schedules/Nightly = %d", resp.StatusCode)
		}
		for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(logs.String(), "rematch finished"); {
			if time.Now().After(deadline) {
				t.Fatal("no shard task finished the night within 2 minutes")
			}
			time.Sleep(200 * time.Millisecond)
		}
		if !strings.Contains(logs.String(), "rematch planned") {
			t.Error("the rematch function did not plan the night")
		}
	})
}
