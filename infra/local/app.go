package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/functions/app/models"
	"github.com/secondme/twin/infra/demo"
	"github.com/secondme/twin/infra/devserver"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/queue"
	"github.com/secondme/twin/pkg/queue/memqueue"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// drainTimeout bounds the graceful shutdown: in-flight requests, background tasks and queued jobs.
const drainTimeout = 15 * time.Second

// config is where the local stack listens and keeps its data, from flags and infra/devserver; the
// application's own settings are app.Config.
type config struct {
	// addr is where the server listens: ADDR, else 127.0.0.1:PORT (PORT defaults to 8080).
	addr string
	// dataDir holds the SQLite database and the sealing key: DATA_DIR, default ./.data.
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

// stack is the local stack: the App of functions/app over the local adapters, and every function's
// routes on one router.
type stack struct {
	app    *app.App
	store  *sqlitestore.Store
	queue  *memqueue.Queue
	router *api.Router
	// handle is what the queue's workers run: the job handler of the App, avatar jobs and the compat
	// worker's (a test may swap it while jobs run, hence atomic).
	handle atomic.Pointer[queue.Handler]

	bgCtx   context.Context
	bgStop  context.CancelFunc
	bg      sync.WaitGroup
	closers []func() error
}

// localMatchWindow is the local stack's coalescing window of a person's rematches when MATCH_WINDOW
// is unset (the functions' default is rematch.DefaultWindow).
const localMatchWindow = 2 * time.Second

// newStack builds the App with the local adapters: SQLite in dataDir, the in-process queue whose
// jobs the compat worker runs, the sealing key kept in dataDir/sealing.key, the secrets of the
// environment (SECONDME_CLIENT_SECRET, OIDC_CLIENT_SECRET, SECONDME_WEBHOOK_SECRET) and, when
// OIDC_ISSUER is unset, the demo's mock OpenID Connect provider (infra/demo), where login_hint=<persona
// id> signs in as that demo persona and login_hint=new:<nickname> signs up a new person. This server is
// the public origin (PUBLIC_URL) and the sign-in callback of SecondMe and OIDC. On an error, what
// was built is shut down.
func newStack(ctx context.Context, lc config, baseURL string, getenv func(string) string) (_ *stack, err error) {
	cfg, err := app.Load(getenv, models.All...)
	if err != nil {
		return nil, err
	}
	s := &stack{router: api.NewRouter()}
	s.bgCtx, s.bgStop = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			err = errors.Join(err, s.shutdown())
		}
	}()
	if s.store, err = sqlitestore.Open(ctx, filepath.Join(lc.dataDir, "secondme.db")); err != nil {
		return nil, err
	}
	key, err := auth.LoadOrCreateKeyFile(filepath.Join(lc.dataDir, "sealing.key"))
	if err != nil {
		return nil, err
	}
	secrets := app.SecretMap{app.SecretSealingKey: hex.EncodeToString(key)}
	for k, v := range cfg.Secrets {
		secrets[k] = v
	}
	cfg.PublicURL = baseURL
	cfg.SecondMe.RedirectURL = baseURL + "/api/auth/callback"
	cfg.OIDC.RedirectURL = cfg.SecondMe.RedirectURL
	personas, err := demo.Personas()
	if err != nil {
		return nil, err
	}
	if cfg.OIDC.Issuer == "" {
		mock, err := demo.StartProvider(personas)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, mock.Close)
		cfg.OIDC.Issuer, cfg.OIDC.ClientID, secrets[app.SecretOIDCClient] = mock.Issuer(), mock.ClientID, mock.ClientSecret
		slog.InfoContext(ctx, "mock OpenID Connect provider ready", "issuer", mock.Issuer())
	}

	// The in-process queue's jobs are the compat worker's, and the worker sends its fan-out to the
	// queue: the queue runs s.handle, set to the worker's Handle once the worker is built.
	s.queue = memqueue.New(func(ctx context.Context, body []byte) error { return (*s.handle.Load())(ctx, body) }, memqueue.Config{})
	fanout := &fanoutSender{q: s.queue}
	if cfg.Matching.Budget.Window == 0 {
		// One person at a laptop: their edits reach the model part of their matches within seconds.
		cfg.Matching.Budget.Window = localMatchWindow
	}
	counters := metrics.NewCounter()
	// Media (avatars) are files under dataDir/media, served at /media/ as the bucket is on AWS.
	media, err := blob.NewDir(filepath.Join(lc.dataDir, "media"))
	if err != nil {
		return nil, err
	}
	s.app = app.New(cfg, app.Deps{Store: s.store, Queue: fanout, Secrets: secrets, Logger: slog.Default(), Metrics: counters, Blob: media})
	jobs, err := s.app.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	handle := queue.Handler(jobs)
	s.handle.Store(&handle)
	fanout.handle = jobs

	err = s.app.Register(ctx, s.router, app.UsersRoutes, app.AuthRoutes, app.ChatRoutes, app.ChatStreamRoutes, app.MatchesRoutes, app.WebRoutes)
	if err != nil {
		return nil, err
	}
	// Local only: the demo personas (seeded once, kept across restarts) and their list.
	rematcher, err := s.app.Rematcher()
	if err != nil {
		return nil, err
	}
	n, err := demo.Seed(ctx, s.store, rematcher, personas)
	if err != nil {
		return nil, err
	}
	s.router.Handle("GET /local/personas", demo.PersonaList(personas))
	// Local only: the counters the functions write as CloudWatch metrics on AWS, by the same names.
	s.router.HandleFunc("GET /local/metrics", func(w http.ResponseWriter, r *http.Request) error {
		api.WriteJSON(w, http.StatusOK, counters)
		return nil
	})
	slog.InfoContext(ctx, "local stack ready", "provider", cfg.Model.Provider.Name, "secondme_twins", cfg.Model.SecondMeTwins,
		"personas", len(personas), "created", n, "nightly_interval", cfg.NightlyInterval)
	return s, nil
}

// nightlyEvery runs the nightly rematch every interval in place of EventBridge, until shutdown: as on
// AWS, it plans the run (rematch.Fanout), and the queue's handler runs its shard tasks.
func (s *stack) nightlyEvery(interval time.Duration) error {
	nightly, err := s.app.Fanout(patientSender{s.queue})
	if err != nil {
		return err
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.bgCtx.Done():
				return
			case <-t.C:
				if _, err := nightly.Run(s.bgCtx); err != nil && s.bgCtx.Err() == nil {
					slog.ErrorContext(s.bgCtx, "nightly rematch failed", "err", err)
				}
			}
		}
	}()
	return nil
}

// rematchOnce is make rematch: one nightly pass that computes every pair before it returns.
func (s *stack) rematchOnce(ctx context.Context) error {
	nightly, err := s.app.Nightly(inlineSender(*s.handle.Load()))
	if err != nil {
		return err
	}
	_, err = nightly.Run(ctx)
	return err
}

// run builds the local stack and serves it until ctx ends, then shuts down gracefully: it stops
// accepting connections, lets in-flight requests, background tasks and queued jobs finish (within
// drainTimeout) and closes the store. With -rematch-once it runs the nightly rematch instead.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return runWith(ctx, args, getenv, stdout, nil)
}

// runWith is run; extend, when not nil, changes the stack before it serves (tests add routes and jobs).
func runWith(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, extend func(*stack)) error {
	lc, err := configFrom(args, getenv)
	if err != nil {
		return err
	}
	var ln net.Listener
	baseURL := "http://" + lc.addr
	if !lc.rematchOnce {
		if ln, err = net.Listen("tcp", lc.addr); err != nil {
			return fmt.Errorf("listen on %s: %w", lc.addr, err)
		}
		defer ln.Close() // in case Serve never ran
		baseURL = devserver.BrowserURL(ln.Addr())
	}
	s, err := newStack(ctx, lc, baseURL, getenv)
	if err != nil {
		return err
	}
	if extend != nil {
		extend(s)
	}
	err = func() error {
		if lc.rematchOnce {
			return s.rematchOnce(ctx)
		}
		edge, err := s.app.Edge(ctx)
		if err != nil {
			return err
		}
		if err := s.nightlyEvery(s.app.Config().NightlyInterval); err != nil {
			return err
		}
		srv := newServer(s.app.Wrap(s.router, edge), localTimeouts)
		serveErr := make(chan error, 1)
		go func() { serveErr <- srv.Serve(ln) }()
		fmt.Fprintf(stdout, "Second Me is running at %s\n", baseURL)
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
	return errors.Join(err, s.shutdown())
}

// shutdown stops the background tasks, drains the queue, runs the cleanups and closes the store.
func (s *stack) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	s.bgStop()
	s.bg.Wait()
	var errs []error
	if s.queue != nil {
		errs = append(errs, s.queue.Close(ctx))
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
	}
	return errors.Join(errs...)
}
