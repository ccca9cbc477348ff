package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config sizes a soak run.
type Config struct {
	// People sign up through the mock provider; Clients share them out (client c is person c mod People),
	// each in a session of its own with the person's own twin.
	People, Clients int
	// Turns is the number of turns of the load phase.
	Turns int
	// RetryAfter turns are each sent again once their answer came back; the retry must replay it.
	RetryAfter int
	// RetryInFlight turns are each sent again while the first try runs; the retry must get 409 or the
	// same reply.
	RetryInFlight int
	// KillAfter is how many turns of the kill phase are answered before the server gets SIGKILL
	// (0: no kill phase); TermAfter likewise before SIGTERM (0: no SIGTERM phase).
	KillAfter, TermAfter int
	// Pace is the server's OFFLINE_PACE, the pause between the offline model's words, so that a turn
	// lasts long enough for a retry to overlap it.
	Pace time.Duration
	// Dir holds the server binary and its DATA_DIR.
	Dir string
	// Progress receives a line per phase; the server's own output goes to Dir/server.log.
	Progress io.Writer
}

func (c Config) validate() error {
	switch {
	case c.People < 1 || c.Clients < c.People:
		return fmt.Errorf("want at least one person and at least as many clients as people (people %d, clients %d)", c.People, c.Clients)
	case c.Turns < 0 || c.RetryAfter < 0 || c.RetryInFlight < 0 || c.KillAfter < 0 || c.TermAfter < 0:
		return errors.New("counts must not be negative")
	case c.Pace < 0:
		return errors.New("pace must not be negative")
	case c.Dir == "":
		return errors.New("no directory for the server")
	}
	return nil
}

// Check is one audit of the store through the API, after a phase.
type Check struct {
	After        string
	Acked        int // turns acknowledged so far (a 200 with a message and a reply)
	Messages     int // messages listed
	LostMessages int // acknowledged person's messages not listed
	LostReplies  int // acknowledged replies not listed
	Duplicates   int // assistant messages beyond the first with the same replyTo
	Unanswered   int // person's messages without a reply (turns never acknowledged)
}

// Result is what a soak run measured.
type Result struct {
	Config  Config
	Started time.Time
	Elapsed time.Duration

	FirstStart time.Duration // process start to healthy, on an empty DATA_DIR
	Checks     []Check
	Statuses   map[int]int // every POST /api/chat answer by status (0: no answer)
	Unexpected []string    // answers a phase did not allow, a few of them

	LoadTurns          int
	LoadP50, LoadP99   time.Duration
	LoadRate           float64 // turns per second
	RetryAfterReplayed int     // retries after the answer that replayed the same reply
	RetryAfterSent     int

	Races, Overlapped, RaceConflicts, RaceSameReply, RaceSecondReply int

	KillAnswered, KillInterrupted      int
	KillRetryAnswered, KillRetryHeld   int // interrupted turns retried after the restart: answered, 409
	KillRestart                        time.Duration
	TermInFlight, TermFinished         int // requests in flight at SIGTERM, and those that got their answer
	TermNotReceived, TermCut           int // of the unanswered: no trace in the store, or started by the server
	TermExit                           string
	TermDrain, TermRestart             time.Duration
	WALPeak, WALIdle                   int64
	WALIdleAfter                       time.Duration
	FinalExit                          string
	killRan, termRan, raceRan, loadRan bool
}

// last is the final audit.
func (r *Result) last() Check {
	if len(r.Checks) == 0 {
		return Check{}
	}
	return r.Checks[len(r.Checks)-1]
}

// walLimit is the write-ahead log's bound (docs/storage-sqlite.md).
const walLimit = 64 << 20

// Failures lists the targets the run missed: anything lost or duplicated, any 5xx, an answer a phase
// does not allow, an in-flight request the SIGTERM drain did not finish, a phase that did not test
// what it is for, the write-ahead log over its bound, a server that did not exit cleanly.
func (r *Result) Failures() []string {
	var f []string
	add := func(cond bool, format string, args ...any) {
		if cond {
			f = append(f, fmt.Sprintf(format, args...))
		}
	}
	for _, c := range r.Checks {
		add(c.LostMessages > 0, "after %s: %d acknowledged messages lost", c.After, c.LostMessages)
		add(c.LostReplies > 0, "after %s: %d acknowledged replies lost", c.After, c.LostReplies)
		add(c.Duplicates > 0, "after %s: %d duplicate replies", c.After, c.Duplicates)
	}
	fivexx := 0
	for s, n := range r.Statuses {
		if s >= 500 {
			fivexx += n
		}
	}
	add(fivexx > 0, "%d answers were 5xx", fivexx)
	add(len(r.Unexpected) > 0, "unexpected answers: %v", r.Unexpected)
	add(r.RetryAfterReplayed != r.RetryAfterSent, "%d of %d retries after the answer did not replay it", r.RetryAfterSent-r.RetryAfterReplayed, r.RetryAfterSent)
	add(r.RaceSecondReply > 0, "%d retries in flight got a second reply", r.RaceSecondReply)
	add(r.KillRetryHeld > 0, "%d turns interrupted by kill -9 were still held (409) when retried after the restart", r.KillRetryHeld)
	add(r.raceRan && r.Overlapped == 0, "no retry overlapped its first try: the in-flight case was not tested")
	add(r.termRan && r.TermCut > 0, "%d requests in flight at SIGTERM were started but not answered (the drain cut them)", r.TermCut)
	add(r.termRan && r.TermInFlight == 0, "no request was in flight at SIGTERM: the drain was not tested")
	add(r.termRan && r.TermExit != "exit 0", "after SIGTERM the server ended with %s", r.TermExit)
	add(r.FinalExit != "exit 0", "at the end the server ended with %s", r.FinalExit)
	add(r.WALPeak > walLimit, "the write-ahead log reached %s (bound %s)", mb(r.WALPeak), mb(walLimit))
	return f
}

// soak is one run in progress.
type soak struct {
	cfg     Config
	srv     *server
	people  []*person
	clients []*client
	wal     walWatch

	mu    sync.Mutex
	acked map[turnKey]outcome
	res   Result
}

// client is one of the load's clients: a person and a session.
type client struct {
	n       int
	p       *person
	session string
}

// Run builds and starts the local stack, runs the phases and audits the store after each, and
// returns the figures. An error means the run could not be carried out; missed targets are in
// Result.Failures.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("soak config: %w", err)
	}
	s := &soak{cfg: cfg, acked: map[turnKey]outcome{}}
	s.res = Result{Config: cfg, Started: time.Now(), Statuses: map[int]int{}}
	logs, err := os.Create(cfg.Dir + "/server.log")
	if err != nil {
		return nil, err
	}
	defer logs.Close()
	s.progress("build infra/local")
	if s.srv, err = buildServer(ctx, cfg.Dir, cfg.Pace, logs); err != nil {
		return nil, err
	}
	walCtx, stopWAL := context.WithCancel(ctx)
	defer stopWAL()
	go s.wal.run(walCtx, s.srv.walPath(), 20*time.Millisecond)

	if s.res.FirstStart, err = s.srv.start(ctx); err != nil {
		return nil, err
	}
	defer s.srv.kill() // after a failure; a finished run has stopped it already
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	phases := []struct {
		name string
		run  func(context.Context) error
		on   bool
	}{
		{"load", s.load, cfg.Turns > 0},
		{"retries after the answer", s.retryAfter, cfg.RetryAfter > 0},
		{"retries in flight", s.retryInFlight, cfg.RetryInFlight > 0},
		{"kill -9 and restart", s.killPhase, cfg.KillAfter > 0},
		{"SIGTERM and restart", s.termPhase, cfg.TermAfter > 0},
	}
	for _, ph := range phases {
		if !ph.on {
			continue
		}
		s.progress("phase: %s", ph.name)
		if err := ph.run(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", ph.name, err)
		}
		if err := s.audit(ctx, ph.name); err != nil {
			return nil, fmt.Errorf("audit after %s: %w", ph.name, err)
		}
		c := s.res.last()
		s.progress("  audit: %d acknowledged, %d messages, lost %d/%d, duplicates %d", c.Acked, c.Messages, c.LostMessages, c.LostReplies, c.Duplicates)
	}
	s.res.WALIdle, s.res.WALIdleAfter = s.idleWAL(10 * time.Second)
	s.res.FinalExit = exitText(s.srv.stop())
	stopWAL()
	s.res.WALPeak = s.wal.max()
	s.res.Elapsed = time.Since(s.res.Started)
	return &s.res, nil
}

func (s *soak) progress(format string, args ...any) {
	if s.cfg.Progress != nil {
		fmt.Fprintf(s.cfg.Progress, "soak: "+format+"\n", args...)
	}
}

// setup signs the people up and opens each client's session.
func (s *soak) setup(ctx context.Context) error {
	rt := &http.Transport{MaxIdleConns: 4 * s.cfg.Clients, MaxIdleConnsPerHost: 4 * s.cfg.Clients, IdleConnTimeout: time.Minute}
	for i := range s.cfg.People {
		p := newPerson(fmt.Sprintf("Soak %02d", i+1), s.srv.url(), rt)
		if err := p.signIn(ctx); err != nil {
			return err
		}
		s.people = append(s.people, p)
	}
	for c := range s.cfg.Clients {
		p := s.people[c%len(s.people)]
		sid, err := p.newSession(ctx)
		if err != nil {
			return err
		}
		s.clients = append(s.clients, &client{n: c, p: p, session: sid})
	}
	return nil
}

// record counts an answer and remembers an acknowledged turn; allowed lists the statuses the phase
// accepts besides 200 (a missing answer is allowed only where the server is being stopped).
func (s *soak) record(o outcome, phase string, allowed ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.res.Statuses[o.status]++
	if o.ok() {
		s.acked[o.key] = o
		return
	}
	if o.status != http.StatusOK && slices.Contains(allowed, o.status) {
		return
	}
	if len(s.res.Unexpected) < 10 {
		what := fmt.Sprint(o.status)
		if o.status == 0 {
			what = o.err.Error()
		}
		s.res.Unexpected = append(s.res.Unexpected, phase+": "+what)
	} else if len(s.res.Unexpected) == 10 {
		s.res.Unexpected = append(s.res.Unexpected, "…")
	}
}

// spread runs n jobs over the clients, each client running its share one after another.
func (s *soak) spread(n int, job func(c *client, i int)) {
	var wg sync.WaitGroup
	for _, c := range s.clients {
		wg.Go(func() {
			for i := c.n; i < n; i += len(s.clients) {
				job(c, i)
			}
		})
	}
	wg.Wait()
}

func say(i int) string {
	topics := []string{"climbing", "sourdough", "jazz", "the weekend", "your work", "books", "travel", "chess"}
	return fmt.Sprintf("Turn %d: what do you think about %s?", i, topics[i%len(topics)])
}

// load sends Turns turns from every client at once, each client's next as soon as the last is answered.
func (s *soak) load(ctx context.Context) error {
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	s.spread(s.cfg.Turns, func(c *client, i int) {
		o := c.p.chat(ctx, turnKey{c.session, fmt.Sprintf("L%d", i)}, say(i))
		s.record(o, "load")
		if o.ok() {
			mu.Lock()
			lat = append(lat, o.end.Sub(o.start))
			mu.Unlock()
		}
	})
	elapsed := time.Since(start)
	slices.Sort(lat)
	s.res.loadRan = true
	s.res.LoadTurns = len(lat)
	s.res.LoadP50, s.res.LoadP99 = percentile(lat, 0.50), percentile(lat, 0.99)
	s.res.LoadRate = float64(len(lat)) / elapsed.Seconds()
	return ctx.Err()
}

// retryAfter sends RetryAfter turns and, once each is answered, the same request again: it must be
// answered with the same reply, replayed.
func (s *soak) retryAfter(ctx context.Context) error {
	var sent, replayed atomic.Int64
	s.spread(s.cfg.RetryAfter, func(c *client, i int) {
		k := turnKey{c.session, fmt.Sprintf("A%d", i)}
		first := c.p.chat(ctx, k, say(i))
		s.record(first, "retry after the answer (first try)")
		if !first.ok() {
			return
		}
		again := c.p.chat(ctx, k, say(i))
		s.record(again, "retry after the answer")
		sent.Add(1)
		if again.ok() && again.replayed && again.replyID == first.replyID && again.messageID == first.messageID {
			replayed.Add(1)
		}
	})
	s.res.RetryAfterSent, s.res.RetryAfterReplayed = int(sent.Load()), int(replayed.Load())
	return ctx.Err()
}

// retryInFlight sends RetryInFlight turns and the same request again shortly after, while the first
// try runs: one of the two must get the reply and the other 409, or both the same reply.
func (s *soak) retryInFlight(ctx context.Context) error {
	var races, overlapped, conflicts, same, second atomic.Int64
	s.spread(s.cfg.RetryInFlight, func(c *client, i int) {
		k := turnKey{c.session, fmt.Sprintf("F%d", i)}
		firstC := make(chan outcome, 1)
		go func() { firstC <- c.p.chat(ctx, k, say(i)) }()
		time.Sleep(time.Duration(rand.Int64N(int64(2*s.cfg.Pace) + 1)))
		b := c.p.chat(ctx, k, say(i))
		a := <-firstC
		s.record(a, "retry in flight (first try)", http.StatusConflict)
		s.record(b, "retry in flight", http.StatusConflict)
		races.Add(1)
		if b.start.Before(a.end) {
			overlapped.Add(1)
		}
		switch {
		case a.ok() && b.ok() && a.replyID == b.replyID:
			same.Add(1)
		case a.ok() && b.ok():
			second.Add(1)
		case a.ok() && b.status == http.StatusConflict, b.ok() && a.status == http.StatusConflict:
			conflicts.Add(1)
		}
	})
	s.res.raceRan = true
	s.res.Races, s.res.Overlapped = int(races.Load()), int(overlapped.Load())
	s.res.RaceConflicts, s.res.RaceSameReply, s.res.RaceSecondReply = int(conflicts.Load()), int(same.Load()), int(second.Load())
	return ctx.Err()
}

// sent is a request of a phase under load, and its client.
type sent struct {
	c *client
	o outcome
}

// underLoad runs every client in a loop of turns (client message ids prefix<client>-<n>) until its
// first request without an answer, and calls stop once after turns have been answered. It returns
// every request and the moment stop was called.
func (s *soak) underLoad(ctx context.Context, prefix string, after int, stop func()) ([]sent, time.Time) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var (
		mu       sync.Mutex
		all      []sent
		answered atomic.Int64
		once     sync.Once
		stopped  time.Time
	)
	s.spread(len(s.clients), func(c *client, _ int) {
		for n := 0; ctx.Err() == nil; n++ {
			o := c.p.chat(ctx, turnKey{c.session, fmt.Sprintf("%s%d-%d", prefix, c.n, n)}, say(n))
			mu.Lock()
			all = append(all, sent{c, o})
			mu.Unlock()
			if o.status == 0 {
				return
			}
			if o.ok() && answered.Add(1) == int64(after) {
				once.Do(func() {
					mu.Lock()
					stopped = time.Now()
					mu.Unlock()
					stop()
				})
			}
		}
	})
	return all, stopped
}

// noAnswer counts a request that got no answer where the phase stops the server.
func (s *soak) noAnswer() {
	s.mu.Lock()
	s.res.Statuses[0]++
	s.mu.Unlock()
}

// killPhase kills the server (SIGKILL) under load, starts it again on the same data, and retries
// each interrupted turn once: it must be answered (the restarted store released the killed try's claim).
func (s *soak) killPhase(ctx context.Context) error {
	all, _ := s.underLoad(ctx, "K", s.cfg.KillAfter, s.srv.kill)
	var interrupted []sent
	for _, r := range all {
		if r.o.status == 0 {
			interrupted = append(interrupted, r)
			s.noAnswer()
			continue
		}
		s.record(r.o, "kill -9")
		if r.o.ok() {
			s.res.KillAnswered++
		}
	}
	s.res.killRan = true
	s.res.KillInterrupted = len(interrupted)
	var err error
	if s.res.KillRestart, err = s.srv.start(ctx); err != nil {
		return err
	}
	for _, r := range interrupted {
		o := r.c.p.chat(ctx, r.o.key, r.o.message)
		s.record(o, "retry after kill -9", http.StatusConflict)
		switch {
		case o.ok():
			s.res.KillRetryAnswered++
		case o.status == http.StatusConflict:
			s.res.KillRetryHeld++
		}
	}
	return ctx.Err()
}

// termPhase sends SIGTERM under load and waits for the server to exit: every request in flight at the
// signal must be answered (the drain). Unanswered ones must have left no trace in the store (the
// server closed their connection before reading them); the audit after the restart tells.
func (s *soak) termPhase(ctx context.Context) error {
	all, at := s.underLoad(ctx, "T", s.cfg.TermAfter, func() { _ = s.srv.signal(syscall.SIGTERM) })
	exit := s.srv.wait(30 * time.Second)
	s.res.termRan = true
	s.res.TermExit = exitText(exit)
	if !at.IsZero() {
		s.res.TermDrain = s.srv.lastExit().Sub(at)
	}
	var err error
	if s.res.TermRestart, err = s.srv.start(ctx); err != nil {
		return err
	}
	seen, err := s.userMessages(ctx)
	if err != nil {
		return err
	}
	for _, r := range all {
		o := r.o
		if o.status == 0 {
			s.noAnswer()
		} else {
			s.record(o, "SIGTERM")
		}
		if at.IsZero() || !o.start.Before(at) || o.end.Before(at) {
			continue
		}
		s.res.TermInFlight++
		switch _, traced := seen[o.key]; {
		case o.status != 0:
			s.res.TermFinished++
		case traced:
			s.res.TermCut++
		default:
			s.res.TermNotReceived++
		}
	}
	return ctx.Err()
}

// userMessages lists every person's message in the store by its turn key.
func (s *soak) userMessages(ctx context.Context) (map[turnKey]message, error) {
	out := map[turnKey]message{}
	err := s.each(ctx, func(m message) {
		if m.Role == "user" && m.ClientMessageID != "" {
			out[turnKey{m.SessionID, m.ClientMessageID}] = m
		}
	})
	return out, err
}

// each calls f with every message of every person's sessions, read through the API.
func (s *soak) each(ctx context.Context, f func(m message)) error {
	for _, p := range s.people {
		ids, err := p.sessions(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			msgs, err := p.messages(ctx, id)
			if err != nil {
				return err
			}
			for _, m := range msgs {
				f(m)
			}
		}
	}
	return nil
}

// audit reads the whole store through the API and counts what the acknowledged turns lost.
func (s *soak) audit(ctx context.Context, after string) error {
	byID := map[string]message{}
	replies := map[string]int{}
	if err := s.each(ctx, func(m message) {
		byID[m.ID] = m
		if m.Role == "assistant" && m.ReplyTo != "" {
			replies[m.SessionID+"/"+m.ReplyTo]++
		}
	}); err != nil {
		return err
	}
	c := Check{After: after, Messages: len(byID)}
	s.mu.Lock()
	c.Acked = len(s.acked)
	for _, o := range s.acked {
		if _, ok := byID[o.messageID]; !ok {
			c.LostMessages++
		}
		if r, ok := byID[o.replyID]; !ok || r.ReplyTo != o.messageID {
			c.LostReplies++
		}
	}
	s.mu.Unlock()
	for _, n := range replies {
		c.Duplicates += n - 1
	}
	for _, m := range byID {
		if m.Role == "user" && replies[m.SessionID+"/"+m.ID] == 0 {
			c.Unanswered++
		}
	}
	s.res.Checks = append(s.res.Checks, c)
	return nil
}

// idleWAL waits, with no load, until the write-ahead log is at most 1 MB or limit has passed, and
// returns its size then and the time it took.
func (s *soak) idleWAL(limit time.Duration) (int64, time.Duration) {
	start := time.Now()
	for {
		var size int64
		if fi, err := os.Stat(s.srv.walPath()); err == nil {
			size = fi.Size()
		}
		if size <= 1<<20 || time.Since(start) >= limit {
			return size, time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func exitText(err error) string {
	var ee interface{ ExitCode() int }
	switch {
	case err == nil:
		return "exit 0"
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return fmt.Sprintf("exit %d", ee.ExitCode())
	}
	return err.Error()
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(int(float64(len(sorted))*p), len(sorted)-1)]
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
