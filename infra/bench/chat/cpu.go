package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/apitest"
	"github.com/secondme/twin/pkg/api/chatapi"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/llm/offline"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// The server's CPU per turn is measured with the server in a process of its own (this program run
// again with -serve), so that the load clients' CPU is not counted: the parent sends the turns over
// loopback HTTP and asks the server for its own CPU time (getrusage: user + system) before and after.

// serverProcess is the chat server started by serve: its URL, the people it created and the process.
type serverProcess struct {
	URL   string   `json:"url"`
	Users []string `json:"users"`
	cmd   *exec.Cmd
	stdin io.Closer
}

// startServer runs this program with -serve over a database at path with n people, and waits for its URL.
// procs, when positive, is the server's GOMAXPROCS; profile, when set, is where the server writes the
// CPU profile of the measured span.
func startServer(path string, n, procs int, profile string) (*serverProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", path, "-serve-people", fmt.Sprint(n), "-serve-profile", profile)
	if procs > 0 {
		cmd.Env = append(os.Environ(), fmt.Sprintf("GOMAXPROCS=%d", procs))
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProcess{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, p)
	}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("server process: %w", err)
	}
	return p, nil
}

// stop closes the server's stdin, which ends it, and waits for it.
func (p *serverProcess) stop() {
	p.stdin.Close()
	_ = p.cmd.Wait()
}

// serve is the server process: the chat routes (own twin, offline model, SQLite at path, the access
// log written as text to nowhere, as in the other runs) for n people it creates, plus POST
// /bench/start and /bench/stop, which bracket the measured span and answer the CPU time used in it.
// It prints {"url", "users"} on one line and serves until its stdin closes.
func serve(path string, n int, profile string) error {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	out := serverProcess{}
	for i := range n {
		u := persona(fmt.Sprintf("Person %d", i))
		if err := st.CreateUser(ctx, u); err != nil {
			return err
		}
		out.Users = append(out.Users, u.ID)
	}
	rt := api.NewRouter()
	chatapi.New(chat.New(st, chat.OneModel{Model: offline.New()}, chat.Options{DailyQuota: 1 << 30}), apitest.HeaderAuth{}).Register(rt)
	var (
		mu    sync.Mutex
		start time.Duration
		f     *os.File
	)
	mux := http.NewServeMux()
	mux.Handle("/", api.Wrap(rt, api.Edge{PublicURL: apitest.Origin}))
	mux.HandleFunc("POST /bench/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if profile != "" {
			var err error
			if f, err = os.Create(profile); err == nil {
				err = pprof.StartCPUProfile(f)
			}
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		start = cpuTime()
	})
	mux.HandleFunc("POST /bench/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		used := cpuTime() - start
		if f != nil {
			pprof.StopCPUProfile()
			f.Close()
			f = nil
		}
		fmt.Fprint(w, int64(used))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	out.URL = "http://" + ln.Addr().String()
	b, _ := json.Marshal(out)
	fmt.Printf("%s\n", b)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return srv.Close()
}

// cpuRun is the server's CPU per turn over some runs of the same load.
type cpuRun struct {
	clients, turns int
	procs          int             // the server's GOMAXPROCS; 0 is Go's default
	perTurn        []time.Duration // one per run, sorted
}

// serverCPU runs turns turns from clients clients that never pause (each in its own session, own
// twin), runs times over a fresh server each (with GOMAXPROCS procs when positive), and returns the
// server's CPU time per turn of each run. A warm-up turn per client comes first and is not counted.
// profile, when set, receives the CPU profile of the first run.
func serverCPU(ctx context.Context, dir string, turns, clients, runs, procs int, profile string) (cpuRun, error) {
	res := cpuRun{clients: clients, procs: procs}
	for r := range runs {
		prof := ""
		if r == 0 {
			prof = profile
		}
		per, n, err := serverCPUOnce(ctx, fmt.Sprintf("%s/cpu-%d-%d-%d.db", dir, clients, procs, r), turns, clients, procs, prof)
		if err != nil {
			return res, err
		}
		res.turns = n
		res.perTurn = append(res.perTurn, per)
	}
	slices.Sort(res.perTurn)
	return res, nil
}

func serverCPUOnce(ctx context.Context, path string, turns, clients, procs int, profile string) (time.Duration, int, error) {
	p, err := startServer(path, clients, procs, profile)
	if err != nil {
		return 0, 0, err
	}
	defer p.stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	call := func(path, user, body string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", p.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", apitest.Origin)
		req.Header.Set(apitest.UserHeader, user)
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b), nil
	}
	sessions := make([]string, clients)
	for i, u := range p.Users {
		b, err := call("/api/chat", u, `{"message":"Hello twin, how are you?"}`)
		if err != nil {
			return 0, 0, err
		}
		var turn struct{ SessionID string }
		if err := json.Unmarshal([]byte(b), &turn); err != nil {
			return 0, 0, err
		}
		sessions[i] = turn.SessionID
	}
	if _, err := call("/bench/start", "", ""); err != nil {
		return 0, 0, err
	}
	per := max(turns/clients, 1)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			for j := range per {
				body := fmt.Sprintf(`{"message":"Tell me about climbing and sourdough, question %d","sessionId":%q,"clientMessageId":"c%d-%d"}`,
					j, sessions[i], i, j)
				if _, err := call("/api/chat", p.Users[i], body); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, err
	}
	used, err := call("/bench/stop", "", "")
	if err != nil {
		return 0, 0, err
	}
	var ns int64
	if _, err := fmt.Sscan(used, &ns); err != nil {
		return 0, 0, err
	}
	n := per * clients
	return time.Duration(ns) / time.Duration(n), n, nil
}

// cpuTime returns the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMethod says how the server's CPU per turn is measured, for the section's text.
const cpuMethod = "Server CPU per turn: the same routes (own twin, offline model, SQLite, access log) in a process of " +
	"their own, driven over loopback HTTP by clients that never pause, each in its own session; the server's " +
	"user + system CPU time (getrusage) from after a warm-up turn per client to the end, divided by the turns; " +
	"each run on a fresh server, median and range of the runs; with Go's default GOMAXPROCS (2 here) and with GOMAXPROCS=1, " +
	"as template.yaml sets it for the functions."

// Settings of the CPU runs (flags).
var (
	cpuRuns       int
	serverProfile string
	// serverProcs, when positive, is the server process's GOMAXPROCS in the -cpu-only runs.
	serverProcs int
)

// cpuBoth measures the server's CPU per turn with clients clients and with one, with GOMAXPROCS procs
// when positive.
func cpuBoth(ctx context.Context, dir string, turns, clients, procs int) (many, one cpuRun, err error) {
	if many, err = serverCPU(ctx, dir, turns, clients, cpuRuns, procs, serverProfile); err != nil {
		return many, one, fmt.Errorf("server CPU, %d clients: %w", clients, err)
	}
	if one, err = serverCPU(ctx, dir, max(turns/8, 100), 1, cpuRuns, procs, ""); err != nil {
		return many, one, fmt.Errorf("server CPU, one client: %w", err)
	}
	return many, one, nil
}

// cpuOnlyRun prints the server's CPU per turn, for working on it (-cpu-only).
func cpuOnlyRun(w io.Writer, turns, clients int) error {
	dir, err := os.MkdirTemp("", "bench-chat-cpu-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	many, one, err := cpuBoth(context.Background(), dir, turns, clients, serverProcs)
	if err != nil {
		return err
	}
	for _, c := range []cpuRun{many, one} {
		fmt.Fprintf(w, "server CPU per turn, %s: %s (runs: %v)\n", c.label(), c.value(), c.perTurn)
	}
	return nil
}

func (c cpuRun) label() string {
	clients := fmt.Sprintf("%d clients", c.clients)
	if c.clients == 1 {
		clients = "1 client (as on Lambda: one request at a time)"
	}
	procs := ""
	if c.procs > 0 {
		procs = fmt.Sprintf(", GOMAXPROCS=%d (as the functions' environment sets it)", c.procs)
	}
	return fmt.Sprintf("own twin, %s, %d turns, server process user+system%s, median of %d runs (min-max)", clients, c.turns, procs, len(c.perTurn))
}

func (c cpuRun) median() time.Duration { return c.perTurn[len(c.perTurn)/2] }

func (c cpuRun) value() string {
	return fmt.Sprintf("%s (%s-%s)", ms3(c.median()), ms3(c.perTurn[0]), ms3(c.perTurn[len(c.perTurn)-1]))
}

func ms3(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }
