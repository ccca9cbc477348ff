package e2e_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/infra/testenv"
)

// A stack is one way the whole product runs on this machine: "local" is `make run` (one process,
// SQLite), "gateway" is `make gateway` (every function's bootstrap as template.yaml wires it, on
// dynalite). Both print "... is running at <url>" when they serve.
var stackPackages = map[string]string{
	"local":   "./infra/local",
	"gateway": "./infra/gateway",
}

// offlinePace is how long the offline model waits between streamed words in these tests, so that a
// person sees the reply grow.
const offlinePace = "25ms"

// startStack builds and runs a stack on a free port with a fresh data directory and the offline model
// paced, and returns its base URL. The process is stopped with SIGINT (a graceful drain) when the
// test ends; it must exit cleanly within 30 s.
func startStack(tb testing.TB, kind string) string {
	tb.Helper()
	dir := tb.TempDir()
	bin := filepath.Join(dir, kind)
	build := exec.Command("go", "build", "-o", bin, stackPackages[kind])
	build.Dir = moduleRoot(tb)
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build the %s stack: %v\n%s", kind, err, out)
	}
	// Both pass OFFLINE_PACE on to the offline model (the gateway to every function that does not set it).
	// MATCH_WINDOW=1s: a person's edits coalesce for a second, not minutes, so that a new person who
	// saves shades and then becomes discoverable sees their matches while the test waits.
	env := []string{"PORT=0", "DATA_DIR=" + filepath.Join(dir, "data"), "OFFLINE_PACE=" + offlinePace, "MATCH_WINDOW=1s"}
	if kind == "gateway" {
		_, err := os.Stat(filepath.Join(moduleRoot(tb), "infra/dynalite/node_modules/.bin/dynalite"))
		testenv.Need(tb, err == nil, "dynalite for make gateway (npm ci --prefix infra/dynalite)")
	}
	cmd := exec.Command(bin)
	cmd.Dir = moduleRoot(tb)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the %s stack: %v", kind, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "http://"); i >= 0 && strings.Contains(line, "running at") {
				urls <- strings.TrimSpace(line[i:])
			}
			logs.Write([]byte(line + "\n"))
		}
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("%s stack exited with %v", kind, err)
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			tb.Errorf("%s stack did not stop within 30s of SIGINT", kind)
		}
		if tb.Failed() {
			tb.Logf("%s stack output:\n%s", kind, logs.String())
		}
	})
	select {
	case u := <-urls:
		waitHealthy(tb, u)
		return u
	case <-time.After(3 * time.Minute):
		tb.Fatalf("the %s stack printed no URL within 3 min:\n%s", kind, logs.String())
	}
	return ""
}

func waitHealthy(tb testing.TB, base string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := http.Get(base + "/api/health")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("%s/api/health never answered 200", base)
}

func moduleRoot(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		tb.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
