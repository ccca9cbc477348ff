package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/secondme/twin/infra/devserver"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/usersapi"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/queue"
	"github.com/secondme/twin/pkg/queue/memqueue"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// drainTimeout bounds the graceful shutdown: in-flight requests, background tasks and queued jobs.
const drainTimeout = 15 * time.Second

// webhookPath authenticates by its signature, so the same-origin check does not apply to it.
const webhookPath = "/api/webhooks/secondme"

// groups wire the route groups into the stack, in this order: a group that provides something to
// others (auth: s.auth and s.sync; matches: s.rematch, s.jobs and s.nightly) comes before the groups
// that use it. matches and auth need each other: whichever comes first gets a late-bound s.auth or
// s.rematch (lateAuth, lateRematch) that reaches the real one once it is set. Each owner adds one line
// here and keeps the rest in infra/local/<topic>.go.
var groups = []func(ctx context.Context, s *stack) error{
	wireMatches,
	wireAuth,
	wireUsers,
	wireChat,
	wireWeb,
}

// config is the local stack's configuration, from flags and the environment.
type config struct {
	// addr is where the server listens: ADDR, else 127.0.0.1:PORT (PORT defaults to 8080).
	addr string
	// dataDir holds the SQLite database and other local state: DATA_DIR, default ./.data.
	dataDir string
	// rematchOnce runs the nightly rematch once instead of serving (-rematch-once).
	rematchOnce bool
}

func configFrom(args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	rematchOnce := fs.Bool("rematch-once", false, "run the nightly rematch once on the local store, then exit")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	addr, err := devserver.Addr(getenv)
	if err != nil {
		return config{}, err
	}
	return config{addr: addr, dataDir: devserver.DataDir(getenv), rematchOnce: *rematchOnce}, nil
}

// stack is the local stack being assembled: what the route groups share. Fields marked "set by"
// are filled in by the group that provides them.
type stack struct {
	getenv  func(string) string
	dataDir string
	// baseURL is where browsers reach the server, such as http://127.0.0.1:8080.
	baseURL string
	store   *sqlitestore.Store
	queue   *memqueue.Queue
	router  *api.Router

	// auth finds the signed-in person; set by the auth group.
	auth api.Authenticator
	// sync re-imports a person from SecondMe; set by the auth group.
	sync usersapi.Syncer
	// rematch schedules compatibility jobs for a person; set by the matches group.
	rematch usersapi.Rematcher
	// jobs runs the queue's jobs; set by the matches group.
	jobs queue.Handler
	// nightly runs the nightly rematch once (make rematch); set by the matches group.
	nightly func(ctx context.Context) error

	bgCtx   context.Context
	bgStop  context.CancelFunc
	bg      sync.WaitGroup
	closers []func(ctx context.Context) error
}

// background runs f until the stack shuts down (after in-flight requests have finished); f must
// return soon after its context ends. A ticker in place of EventBridge is one such task.
func (s *stack) background(f func(ctx context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		f(s.bgCtx)
	}()
}

// onClose registers a cleanup that runs at shutdown, after the queue has drained, in reverse order
// of registration, before the store closes.
func (s *stack) onClose(f func(ctx context.Context) error) { s.closers = append(s.closers, f) }

// lateAuth is s.auth until the auth group sets it, for a group wired before (matches, which provides
// the rematch hook auth uses): at request time it asks whatever authenticator the stack holds then.
type lateAuth struct{ s *stack }

func (l *lateAuth) Authenticate(w http.ResponseWriter, r *http.Request) (string, error) {
	if a := l.s.auth; a != nil && a != api.Authenticator(l) {
		return a.Authenticate(w, r)
	}
	return "", fault.Errorf(fault.CodeUnauthenticated, "sign-in is not wired into the local stack")
}

// lateRematch is s.rematch until the matches group sets it, for a group wired before: each call goes
// to the rematch hook the stack holds then.
type lateRematch struct{ s *stack }

func (l *lateRematch) Rematch(ctx context.Context, userID string) error {
	if m := l.s.rematch; m != nil && m != usersapi.Rematcher(l) {
		return m.Rematch(ctx, userID)
	}
	return errors.New("matching is not wired into the local stack")
}

// runJob hands a queued job to the handler the matches group set.
func (s *stack) runJob(ctx context.Context, body []byte) error {
	if s.jobs == nil {
		return errors.New("no job handler is wired into the local stack")
	}
	return s.jobs(ctx, body)
}

// run builds the local stack and serves it until ctx ends, then shuts down gracefully: it stops
// accepting connections, lets in-flight requests, background tasks and queued jobs finish (within
// drainTimeout) and closes the store. With -rematch-once it runs the nightly rematch instead.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := configFrom(args, getenv)
	if err != nil {
		return err
	}
	st, err := sqlitestore.Open(ctx, filepath.Join(cfg.dataDir, "secondme.db"))
	if err != nil {
		return err
	}
	var ln net.Listener
	baseURL := "http://" + cfg.addr
	if !cfg.rematchOnce {
		if ln, err = net.Listen("tcp", cfg.addr); err != nil {
			st.Close()
			return fmt.Errorf("listen on %s: %w", cfg.addr, err)
		}
		baseURL = devserver.BrowserURL(ln.Addr())
	}
	s := &stack{getenv: getenv, dataDir: cfg.dataDir, baseURL: baseURL, store: st, router: api.NewRouter()}
	s.bgCtx, s.bgStop = context.WithCancel(context.Background())
	s.queue = memqueue.New(s.runJob, memqueue.Config{})
	s.auth, s.rematch = &lateAuth{s}, &lateRematch{s}
	s.router.HandleFunc("GET /api/health", api.Health)

	serveErr := make(chan error, 1)
	err = func() error {
		for _, wire := range groups {
			if err := wire(ctx, s); err != nil {
				return err
			}
		}
		if cfg.rematchOnce {
			if s.nightly == nil {
				return errors.New("-rematch-once: the matches group is not wired into the local stack")
			}
			return s.nightly(ctx)
		}
		srv := newServer(api.Wrap(s.router, api.Edge{PublicURL: s.baseURL}, webhookPath), localTimeouts)
		go func() { serveErr <- srv.Serve(ln) }()
		fmt.Fprintf(stdout, "Second Me is running at %s\n", s.baseURL)
		select {
		case <-ctx.Done():
		case err := <-serveErr:
			return fmt.Errorf("serve: %w", err)
		}
		slog.Info("shutting down: draining requests and jobs")
		dctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		if err := srv.Shutdown(dctx); err != nil {
			srv.Close()
			return fmt.Errorf("drain requests: %w", err)
		}
		return nil
	}()
	if ln != nil {
		ln.Close() // in case Serve never ran
	}
	return errors.Join(err, s.shutdown())
}

// shutdown stops the background tasks, drains the queue, runs the cleanups and closes the store.
func (s *stack) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	s.bgStop()
	s.bg.Wait()
	errs := []error{s.queue.Close(ctx)}
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i](ctx))
	}
	errs = append(errs, s.store.Close())
	return errors.Join(errs...)
}
