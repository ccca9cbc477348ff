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
)

// localStack builds infra/local and runs it on a free port with a fresh data directory. It returns
// the base URL and stops the process (SIGINT, a graceful drain) when the test ends.
func localStack(tb testing.TB, env ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	bin := filepath.Join(dir, "local")
	build := exec.Command("go", "build", "-o", bin, "./infra/local")
	build.Dir = moduleRoot(tb)
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("build the local stack: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"PORT=0", "DATA_DIR=" + filepath.Join(dir, "data")}, env...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	logs := &lockedBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the local stack: %v", err)
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
				tb.Errorf("local stack exited with %v", err)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			tb.Errorf("local stack did not stop within 20s of SIGINT")
		}
		if tb.Failed() {
			tb.Logf("local stack output:\n%s", logs.String())
		}
	})
	select {
	case u := <-urls:
		waitHealthy(tb, u)
		return u
	case <-time.After(60 * time.Second):
		tb.Fatalf("the local stack printed no URL within 60s:\n%s", logs.String())
	}
	return ""
}

func waitHealthy(tb testing.TB, base string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
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
