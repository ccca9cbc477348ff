// Command chat prints the chat section of docs/benchmarks.md:
//
//   - server time per turn (POST /api/chat), p50 and p99, with the offline model on SQLite and 32
//     concurrent clients over loopback HTTP; the time is measured around the handler, so it is the
//     server's own time without the client's;
//   - store calls per turn with 10 and with 10,000 prior messages (counted by a wrapping store), for
//     one's own twin and for another person's, and the prompt tokens of those turns;
//   - time to first token through POST /api/chat/stream divided by time to first token calling the
//     same fake streaming model directly (a fixed 50 ms first-token delay, so the ratio measures our
//     overhead: HTTP, the store calls before the model call, SSE framing).
//
// Run it from the repository root: go run ./infra/bench/chat [-turns 3200] [-clients 32].
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/apitest"
	"github.com/secondme/twin/pkg/api/chatapi"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/chat/chattest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/offline"
	"github.com/secondme/twin/pkg/prompt"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// firstTokenDelay is the fake streaming model's fixed delay before its first piece.
const firstTokenDelay = 50 * time.Millisecond

// pace is how often each client sends a turn in the target run (-pace).
var pace time.Duration

func main() {
	turns := flag.Int("turns", 3200, "turns in the server-time run, spread over the clients")
	clients := flag.Int("clients", 32, "concurrent clients in the server-time run")
	ttftRuns := flag.Int("ttft-runs", 30, "streams to take the median time to first token of")
	flag.DurationVar(&pace, "pace", 100*time.Millisecond, "how often each client sends a turn in the target run")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.IntVar(&cpuRuns, "cpu-runs", 3, "runs of the server CPU measurement, each on a fresh server")
	flag.StringVar(&serverProfile, "server-cpuprofile", "", "write the server process's CPU profile of the first saturated CPU run to this file")
	flag.IntVar(&serverProcs, "server-gomaxprocs", 0, "with -cpu-only, run the server process with this GOMAXPROCS (0: Go's default)")
	cpuOnly := flag.Bool("cpu-only", false, "measure only the server's CPU per turn and print it")
	serveDB := flag.String("serve", "", "(used by the CPU run) serve the chat routes over this SQLite file")
	servePeople := flag.Int("serve-people", 1, "(with -serve) people to create")
	serveProfile := flag.String("serve-profile", "", "(with -serve) where to write the CPU profile of the measured span")
	flag.Parse()
	if *serveDB != "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err := serve(*serveDB, *servePeople, *serveProfile); err != nil {
			fmt.Fprintln(os.Stderr, "bench chat server:", err)
			os.Exit(1)
		}
		return
	}
	if *cpuOnly {
		if err := cpuOnlyRun(os.Stdout, *turns, *clients); err != nil {
			fmt.Fprintln(os.Stderr, "bench chat:", err)
			os.Exit(1)
		}
		return
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench chat: cpu profile:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil))) // the access log would swamp the output
	if err := run(os.Stdout, *turns, *clients, *ttftRuns); err != nil {
		fmt.Fprintln(os.Stderr, "bench chat:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(w io.Writer, turns, clients, ttftRuns int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bench-chat-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	p50, p99, n, _, err := serverTime(ctx, filepath.Join(dir, "paced.db"), turns, clients, pace)
	if err != nil {
		return fmt.Errorf("server time: %w", err)
	}
	sat50, sat99, satN, rate, err := serverTime(ctx, filepath.Join(dir, "saturated.db"), turns, clients, 0)
	if err != nil {
		return fmt.Errorf("server time, saturated: %w", err)
	}
	cpuMany, cpuOne, err := cpuBoth(ctx, dir, turns, clients, 0)
	if err != nil {
		return err
	}
	cpuMany1, cpuOne1, err := cpuBoth(ctx, dir, turns, clients, 1)
	if err != nil {
		return err
	}
	one50, one99, oneN, _, err := serverTime(ctx, filepath.Join(dir, "serial.db"), max(turns/8, 100), 1, 0)
	if err != nil {
		return fmt.Errorf("server time, one client: %w", err)
	}
	calls, err := storeCalls(ctx, filepath.Join(dir, "calls.db"))
	if err != nil {
		return fmt.Errorf("store calls: %w", err)
	}
	direct, stream, err := firstToken(ctx, filepath.Join(dir, "ttft.db"), ttftRuns)
	if err != nil {
		return fmt.Errorf("time to first token: %w", err)
	}
	ratio := float64(stream) / float64(direct)

	fmt.Fprintln(w, "## Chat")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Offline model, SQLite store (WAL) in a temporary directory, chat routes over loopback HTTP. "+
		"Server time is measured around the handler (own twin, each client in its own session). The target rows use %d concurrent clients "+
		"that each send a turn every %s, as people chatting do (%d turns, %.0f turns/s offered); the saturated rows use the same clients "+
		"with no pause at all (%d turns), where the time is mostly waiting for the 2 cores (Little's law: clients / throughput). "+
		"Prompt budget %d tokens (runes/4). "+cpuMethod+"\n\n", clients, pace, n, float64(clients)/pace.Seconds(), satN, prompt.DefaultBudget)
	fmt.Fprintln(w, "| measure | value | target |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| server time per turn, %d clients, p50 | %s | 2 ms %s |\n", clients, ms(p50), verdict(p50 <= 2*time.Millisecond))
	fmt.Fprintf(w, "| server time per turn, %d clients, p99 | %s | 10 ms %s |\n", clients, ms(p99), verdict(p99 <= 10*time.Millisecond))
	fmt.Fprintf(w, "| server time per turn, %d clients saturated (no pause), p50 / p99 | %s / %s | |\n", clients, ms(sat50), ms(sat99))
	fmt.Fprintf(w, "| throughput, %d clients saturated | %.0f turns/s | |\n", clients, rate)
	for _, c := range []cpuRun{cpuMany, cpuOne, cpuMany1, cpuOne1} {
		fmt.Fprintf(w, "| server CPU per turn, %s | %s | ≤ 0.4 ms %s |\n", c.label(), c.value(), verdict(c.median() <= 400*time.Microsecond))
	}
	fmt.Fprintf(w, "| server time per turn, 1 client (%d turns), p50 / p99 | %s / %s | |\n", oneN, ms(one50), ms(one99))
	for _, c := range calls {
		ok := c.calls10 == c.calls10k && c.calls10 <= 5
		fmt.Fprintf(w, "| store calls per turn, %s, history 10 / 10,000 | %d / %d | ≤ 5, equal at both lengths %s |\n", c.name, c.calls10, c.calls10k, verdict(ok))
	}
	for _, c := range calls {
		fmt.Fprintf(w, "| prompt tokens per turn, %s, history 10 / 10,000 | %d / %d | ≤ %d %s |\n", c.name, c.tokens10, c.tokens10k,
			prompt.DefaultBudget, verdict(c.tokens10k <= prompt.DefaultBudget && c.tokens10 <= prompt.DefaultBudget))
	}
	fmt.Fprintf(w, "| time to first token, direct / through /api/chat/stream (median of %d) | %s / %s | |\n", ttftRuns, ms(direct), ms(stream))
	fmt.Fprintf(w, "| time to first token ratio, stream / direct | %.3f | ≤ 1.05 %s |\n", ratio, verdict(ratio <= 1.05))
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Store calls per turn by method, history 10,000: own twin %s; another's twin %s.\n", calls[0].methods, calls[1].methods)
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "(met)"
	}
	return "(**not met**)"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// persona returns a person with a realistic handful of shades and memories.
func persona(nick string) store.User {
	now := time.Now().UTC()
	u := store.User{ID: id.New(), Nickname: nick, Bio: "Product designer in Lisbon; weekend climber; bakes sourdough.",
		Provider: store.ProviderOIDC, Discoverable: true, AllowTwinChat: true, CreatedAt: now, UpdatedAt: now}
	for i, name := range []string{"Climbing", "Sourdough", "Design systems", "Jazz piano", "Travel", "Reading"} {
		u.Shades = append(u.Shades, store.Shade{ID: id.New(), Name: name, Confidence: store.ConfidenceHigh,
			Description: fmt.Sprintf("I care about %s and spend a lot of my free time on it.", strings.ToLower(name)),
			Content:     strings.Repeat(fmt.Sprintf("Details about %s number %d. ", name, i), 6),
			Topics:      []string{strings.ToLower(name), "hobby"},
			Public:      &store.PublicShade{Name: name, Description: "Enjoys " + strings.ToLower(name) + "."}})
	}
	for i := range 5 {
		u.Memories = append(u.Memories, store.Memory{ID: id.New(), Subject: fmt.Sprintf("memory %d", i),
			Content: "A weekend trip to the mountains with old friends.", CreatedAt: now})
	}
	return u
}

// serverTime runs turns over loopback HTTP from concurrent clients, each starting a turn every pace
// (0: as soon as the last one answered), and returns the p50 and p99 of the time spent in the handler
// and the turns per second.
func serverTime(ctx context.Context, path string, turns, clients int, pace time.Duration) (p50, p99 time.Duration, n int, rate float64, err error) {
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	defer st.Close()
	users := make([]store.User, clients)
	for i := range users {
		users[i] = persona(fmt.Sprintf("Person %d", i))
		if err := st.CreateUser(ctx, users[i]); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	svc := chat.New(st, chat.OneModel{Model: offline.New()}, chat.Options{DailyQuota: 1 << 30})
	h := chatapi.New(svc, apitest.HeaderAuth{})
	rt := api.NewRouter()
	h.Register(rt)
	var mu sync.Mutex
	var times []time.Duration
	timed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rt.ServeHTTP(w, r)
		d := time.Since(start)
		mu.Lock()
		times = append(times, d)
		mu.Unlock()
	})
	srv := httptest.NewServer(api.Wrap(timed, api.Edge{PublicURL: apitest.Origin}))
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = clients

	post := func(user, body string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/chat", strings.NewReader(body))
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
			return "", fmt.Errorf("POST /api/chat: %d %s", resp.StatusCode, b)
		}
		s := string(b)
		i := strings.Index(s, `"sessionId":"`)
		if i < 0 {
			return "", errors.New("no sessionId in the answer")
		}
		return s[i+13 : i+13+26], nil
	}
	// Each client opens its session with one turn (a warm-up: statements prepared, connections open).
	sessions := make([]string, clients)
	for i, u := range users {
		if sessions[i], err = post(u.ID, `{"message":"Hello twin, how are you?"}`); err != nil {
			return 0, 0, 0, 0, err
		}
	}
	times = times[:0]
	start := time.Now()
	per := max(turns/clients, 1)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			time.Sleep(pace * time.Duration(i) / time.Duration(clients)) // spread the clients over one period
			next := time.Now()
			for j := range per {
				if pace > 0 {
					time.Sleep(time.Until(next))
					next = next.Add(pace)
				}
				body := fmt.Sprintf(`{"message":"Tell me about climbing and sourdough, question %d","sessionId":%q,"clientMessageId":"b%d-%d"}`,
					j, sessions[i], i, j)
				if _, err := post(users[i].ID, body); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, 0, 0, 0, err
	}
	slices.Sort(times)
	return percentile(times, 0.50), percentile(times, 0.99), len(times), float64(len(times)) / elapsed.Seconds(), nil
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(float64(len(sorted))*p), len(sorted)-1)]
}

// callsResult is the store calls and prompt tokens of one turn at two history lengths.
type callsResult struct {
	name                string
	own                 bool
	calls10, calls10k   int
	tokens10, tokens10k int
	methods             string
}

// storeCalls counts the store calls and prompt tokens of one turn at history 10 and 10,000, with
// one's own twin and with another person's.
func storeCalls(ctx context.Context, path string) ([]callsResult, error) {
	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	me, other := persona("Me"), persona("Other")
	for _, u := range []store.User{me, other} {
		if err := st.CreateUser(ctx, u); err != nil {
			return nil, err
		}
	}
	count := chattest.NewCounting(st)
	svc := chat.New(count, chat.OneModel{Model: offline.New()}, chat.Options{})
	out := []callsResult{{name: "own twin", own: true}, {name: "another's twin"}}
	for i := range out {
		twinID := me.ID
		if !out[i].own {
			twinID = other.ID
		}
		for _, n := range []int{10, 10_000} {
			sid, err := seed(ctx, st, me.ID, twinID, n)
			if err != nil {
				return nil, err
			}
			count.Reset()
			res, err := svc.Turn(ctx, chat.TurnRequest{UserID: me.ID, SessionID: sid, Message: "What did we talk about?",
				ClientMessageID: "calls"}, chat.Events{})
			if err != nil {
				return nil, err
			}
			if n == 10 {
				out[i].calls10, out[i].tokens10 = count.Calls(), res.PromptTokens
			} else {
				out[i].calls10k, out[i].tokens10k = count.Calls(), res.PromptTokens
				out[i].methods = fmt.Sprint(count.ByMethod())
			}
		}
	}
	return out, nil
}

// seed stores a session with n messages of varied length and returns its id.
func seed(ctx context.Context, st *sqlitestore.Store, owner, twinID string, n int) (string, error) {
	t0 := time.Now().Add(-time.Duration(n+10) * time.Second)
	sess := store.ChatSession{ID: id.At(t0), OwnerID: owner, TwinID: twinID, CreatedAt: t0, UpdatedAt: t0}
	if err := st.CreateSession(ctx, sess); err != nil {
		return "", err
	}
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		role := store.RoleUser
		if i%2 == 1 {
			role = store.RoleAssistant
		}
		m := store.ChatMessage{ID: id.At(at), SessionID: sess.ID, Role: role,
			Content: fmt.Sprintf("message %d: %s", i, strings.Repeat("some words of the conversation ", 1+i%20)), CreatedAt: at}
		if _, err := st.PutMessage(ctx, m); err != nil {
			return "", err
		}
	}
	return sess.ID, nil
}

// firstToken returns the median time to first token calling the fake streaming model directly, and
// through POST /api/chat/stream over loopback HTTP (request sent to first `delta` event read).
func firstToken(ctx context.Context, path string, runs int) (direct, stream time.Duration, err error) {
	model := &chattest.Script{Steps: []chattest.Step{{FirstDelay: firstTokenDelay,
		Deltas: []string{"Hello", ", I", " am", " your", " twin."}}}}
	var ds []time.Duration
	for range runs {
		start := time.Now()
		var first time.Duration
		_, err := model.Generate(ctx, llm.Request{System: "s", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}},
			func(string) error {
				if first == 0 {
					first = time.Since(start)
				}
				return nil
			})
		if err != nil {
			return 0, 0, err
		}
		ds = append(ds, first)
	}

	st, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	me := persona("Me")
	if err := st.CreateUser(ctx, me); err != nil {
		return 0, 0, err
	}
	h := chatapi.New(chat.New(st, chat.OneModel{Model: model}, chat.Options{DailyQuota: 1 << 30}), apitest.HeaderAuth{})
	rt := api.NewRouter()
	h.RegisterStream(rt)
	srv := httptest.NewServer(api.Wrap(rt, api.Edge{PublicURL: apitest.Origin}))
	defer srv.Close()
	sessionID := ""
	var ss []time.Duration
	for i := range runs + 1 { // the first stream opens the session and warms up
		body := fmt.Sprintf(`{"message":"Hello, who are you?","clientMessageId":"t%d"}`, i)
		if sessionID != "" {
			body = fmt.Sprintf(`{"message":"Hello, who are you?","clientMessageId":"t%d","sessionId":%q}`, i, sessionID)
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/chat/stream", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", apitest.Origin)
		req.Header.Set(apitest.UserHeader, me.ID)
		start := time.Now()
		resp, err := srv.Client().Do(req)
		if err != nil {
			return 0, 0, err
		}
		first, sid, err := untilFirstDelta(resp.Body)
		if err == nil && first {
			if i > 0 {
				ss = append(ss, time.Since(start))
			}
			sessionID = sid
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, 0, err
		}
	}
	return median(ds), median(ss), nil
}

// untilFirstDelta reads events until the first `delta` and returns the session id seen.
func untilFirstDelta(r io.Reader) (bool, string, error) {
	br := bufio.NewReader(r)
	event, sessionID := "", ""
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return false, sessionID, fmt.Errorf("stream ended before a delta: %w", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: ") && event == chatapi.EventSession:
			data := strings.TrimPrefix(line, "data: ")
			if i := strings.Index(data, `"sessionId":"`); i >= 0 && len(data) >= i+13+26 {
				sessionID = data[i+13 : i+13+26]
			}
		case strings.HasPrefix(line, "data: ") && event == chatapi.EventDelta:
			return true, sessionID, nil
		case strings.HasPrefix(line, "data: ") && event == chatapi.EventError:
			return false, sessionID, fmt.Errorf("error event: %s", line)
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return percentile(s, 0.5)
}
