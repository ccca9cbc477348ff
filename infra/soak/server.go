package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is the local stack (infra/local) run as a process of its own on a fixed loopback port over
// one DATA_DIR, so that it can be killed and started again on the same data.
type server struct {
	bin     string
	dataDir string
	port    int
	pace    time.Duration
	logs    io.Writer // the process's output

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current process has exited
	err      error         // its exit status, once exited is closed
	exitedAt time.Time     // and when it was seen to exit
}

// buildServer builds infra/local into dir and returns the server that runs it over dir/data.
func buildServer(ctx context.Context, dir string, pace time.Duration, logs io.Writer) (*server, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "local")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./infra/local")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build infra/local: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return &server{bin: bin, dataDir: filepath.Join(dir, "data"), port: port, pace: pace, logs: logs}, nil
}

// url is the server's base URL, its public origin.
func (s *server) url() string { return "http://127.0.0.1:" + strconv.Itoa(s.port) }

// walPath is the SQLite write-ahead log of the server's store.
func (s *server) walPath() string { return filepath.Join(s.dataDir, "secondme.db-wal") }

// start starts the process and waits until GET /api/health answers 200; it returns the time from the
// process start to that answer. The environment is the soak's own, not the caller's: the offline
// model paced at s.pace, the mock sign-in provider, a quota no run reaches, loopback only.
func (s *server) start(ctx context.Context) (time.Duration, error) {
	cmd := exec.Command(s.bin)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir(),
		"PORT=" + strconv.Itoa(s.port), "DATA_DIR=" + s.dataDir,
		"OFFLINE_PACE=" + s.pace.String(), "CHAT_DAILY_QUOTA=1000000000",
	}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start the server: %w", err)
	}
	exited := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.err, s.exitedAt = err, time.Now()
		s.mu.Unlock()
		close(exited)
	}()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.After(60 * time.Second)
	for {
		resp, err := hc.Get(s.url() + "/api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(began), nil
			}
		}
		select {
		case <-exited:
			return 0, fmt.Errorf("the server exited before it was healthy: %v", s.exitErr())
		case <-deadline:
			s.kill()
			return 0, errors.New("the server was not healthy within 60 s")
		case <-ctx.Done():
			s.kill()
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func (s *server) exitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// lastExit is when the process last exited.
func (s *server) lastExit() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exitedAt
}

// signal sends sig to the process.
func (s *server) signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd.Process.Signal(sig)
}

// wait waits up to limit for the process to exit and returns its exit status; after limit it kills
// the process and says so.
func (s *server) wait(limit time.Duration) error {
	s.mu.Lock()
	exited := s.exited
	s.mu.Unlock()
	select {
	case <-exited:
		return s.exitErr()
	case <-time.After(limit):
		s.kill()
		return fmt.Errorf("still running %s after the signal: killed", limit)
	}
}

// stop ends the process gracefully (SIGINT) and returns its exit status.
func (s *server) stop() error {
	if err := s.signal(syscall.SIGINT); err != nil {
		return err
	}
	return s.wait(30 * time.Second)
}

// walWatch polls the size of the write-ahead log until ctx ends and keeps the largest seen.
type walWatch struct {
	mu   sync.Mutex
	peak int64
}

func (w *walWatch) run(ctx context.Context, path string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if fi, err := os.Stat(path); err == nil {
			w.mu.Lock()
			w.peak = max(w.peak, fi.Size())
			w.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *walWatch) max() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peak
}

// freePort returns a loopback port nobody listens on now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// moduleRoot is the directory of go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the module: run from the repository")
	}
	return filepath.Dir(mod), nil
}
