package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/infra/demo"
	"github.com/secondme/twin/infra/devserver"
	"github.com/secondme/twin/pkg/awstest"
	"github.com/secondme/twin/pkg/queue/sqsqueue"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// drainTimeout bounds each step of the graceful shutdown: in-flight requests, then the pollers'
// batches in flight.
const drainTimeout = 15 * time.Second

// config is the gateway's configuration, from flags and the environment (as for make run).
type config struct {
	// addr is where the gateway listens: ADDR, else 127.0.0.1:PORT (PORT defaults to 8080).
	addr string
	// dataDir is DATA_DIR (default ./.data); the gateway keeps its state in DATA_DIR/gateway.
	dataDir string
	// rematchNow delivers every schedule once when the gateway is ready (-rematch-now).
	rematchNow bool
	// scheduleInterval, when set, delivers every schedule at that interval (-schedule-interval).
	scheduleInterval time.Duration
	// offlinePace is OFFLINE_PACE, the offline model's pause between streamed words, given to every
	// function (as make run takes it), so that a reply is seen being written.
	offlinePace string
	// logs receives the functions' output (the gateway's stderr).
	logs io.Writer
	// measureCold and measureWarm, when measureCold > 0, make the gateway measure every function's
	// cold starts and warm invocations, print them as Markdown and exit (-measure-cold, -measure-warm;
	// make bench).
	measureCold, measureWarm int
	// binDir is where the bootstraps are built, DATA_DIR/gateway/bin unless set. go build relinks
	// only a bootstrap whose inputs changed.
	binDir string
}

func configFrom(args []string, getenv func(string) string) (config, error) {
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	rematchNow := fs.Bool("rematch-now", false, "run the template's schedules (the nightly rematch) once, as soon as the gateway is ready")
	interval := fs.Duration("schedule-interval", 0, "run the template's schedules at this interval (default: only on demand)")
	measureCold := fs.Int("measure-cold", 0, "measure this many cold starts of every function and -measure-warm warm invocations, print them as Markdown, then exit")
	measureWarm := fs.Int("measure-warm", 200, "warm invocations per function with -measure-cold")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *measureCold < 0 || *measureWarm < 1 {
		return config{}, fmt.Errorf("-measure-cold %d -measure-warm %d: want counts of at least 0 and 1", *measureCold, *measureWarm)
	}
	if *interval < 0 {
		return config{}, fmt.Errorf("-schedule-interval %s: want a positive duration", *interval)
	}
	c := config{dataDir: devserver.DataDir(getenv), rematchNow: *rematchNow, scheduleInterval: *interval,
		measureCold: *measureCold, measureWarm: *measureWarm,
		offlinePace: getenv("OFFLINE_PACE"), logs: os.Stderr}
	if c.offlinePace != "" {
		if _, err := time.ParseDuration(c.offlinePace); err != nil {
			return config{}, fmt.Errorf("OFFLINE_PACE %q: want a duration such as 25ms", c.offlinePace)
		}
	}
	addr, err := devserver.Addr(getenv)
	if err != nil {
		return config{}, err
	}
	c.addr = addr
	return c, nil
}

// gateway is the running gateway: what shutdown stops, in order.
type gateway struct {
	url     string
	dataDir string
	// edgeSecret is what the distribution sends in X-Origin-Verify.
	edgeSecret string
	srv        *http.Server
	pools      map[string]*pool
	bgStop     context.CancelFunc
	bg         sync.WaitGroup
	closers    []func() error // run last, in reverse order
	serveErr   chan error
}

// run starts the gateway and serves until ctx ends, then shuts down gracefully. It prints the ready
// line and the builds to stdout.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := configFrom(args, getenv)
	if err != nil {
		return err
	}
	if cfg.measureCold > 0 {
		return measureAndExit(ctx, cfg, stdout)
	}
	g, err := start(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Second Me (gateway) is running at %s\n", g.url)
	select {
	case <-ctx.Done():
	case err := <-g.serveErr:
		g.shutdown()
		return fmt.Errorf("serve: %w", err)
	}
	slog.Info("shutting down: draining requests, pollers and functions")
	return g.shutdown()
}

// measureAndExit starts the gateway, measures every function and prints the figures as Markdown on
// stdout (the builds are reported on stderr), then shuts down.
func measureAndExit(ctx context.Context, cfg config, stdout io.Writer) error {
	g, err := start(ctx, cfg, os.Stderr)
	if err != nil {
		return err
	}
	ms, err := g.measure(ctx, cfg.measureCold, cfg.measureWarm)
	if err == nil {
		writeMeasurements(stdout, ms, cfg.measureCold, cfg.measureWarm)
	}
	return errors.Join(err, g.shutdown())
}

// start builds and starts everything the template declares.
func start(ctx context.Context, cfg config, stdout io.Writer) (_ *gateway, err error) {
	g := &gateway{dataDir: cfg.dataDir, pools: map[string]*pool{}, serveErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			g.shutdown()
		}
	}()
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	state := filepath.Join(cfg.dataDir, "gateway")
	if err := os.MkdirAll(state, 0o755); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	g.closers = append(g.closers, func() error { ln.Close(); return nil })
	g.url = devserver.BrowserURL(ln.Addr())
	host := strings.TrimPrefix(g.url, "http://")
	sqsLn, err := listenLocal(g)
	if err != nil {
		return nil, err
	}
	secretsLn, err := listenLocal(g)
	if err != nil {
		return nil, err
	}
	sqsEndpoint, secretsEndpoint := "http://"+sqsLn.Addr().String(), "http://"+secretsLn.Addr().String()

	// The demo sign-in: personas and the mock OpenID Connect provider, as make run has them.
	personas, err := demo.Personas()
	if err != nil {
		return nil, err
	}
	provider, err := demo.StartProvider(personas)
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, provider.Close)
	secret, err := loadSecret(filepath.Join(state, "secret.json"), provider.ClientSecret)
	if err != nil {
		return nil, fmt.Errorf("the application secret: %w", err)
	}
	g.edgeSecret = secret["originVerify"]

	src, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	params := map[string]string{"PublicUrl": g.url, "OidcIssuer": provider.Issuer(), "OidcClientId": provider.ClientID}
	for p, field := range secretParams {
		params[p] = fieldARN(field)
	}
	tm, err := loadTemplate(src, templateInputs{
		Params:      params,
		SQSEndpoint: sqsEndpoint, PublicHost: host, SecretARN: secretARN, Secret: secret, Secrets: ownSecrets(secret),
	})
	if err != nil {
		return nil, fmt.Errorf("template.yaml: %w", err)
	}
	if len(tm.Notes) > 0 {
		slog.Info("declared in template.yaml without effect on this machine: " + strings.Join(tm.Notes, "; "))
	}

	binDir := cfg.binDir
	if binDir == "" {
		binDir = filepath.Join(state, "bin")
	}
	bins, err := buildFunctions(ctx, root, binDir, tm.Functions, stdout)
	if err != nil {
		return nil, err
	}

	dynamoEndpoint, stopDynalite, err := startDynalite(ctx, root, filepath.Join(state, "dynalite"))
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, stopDynalite)
	awsCfg := aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider("gateway", "gateway", "")}
	ddb := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dynamoEndpoint) })
	for _, t := range tm.Tables {
		if err := createTable(ctx, ddb, t.Name, t.Properties); err != nil {
			return nil, fmt.Errorf("table %s: %w", t.ID, err)
		}
	}

	queues, err := newSQS(tm.Queues)
	if err != nil {
		return nil, err
	}
	serveLocal(g, sqsLn, queues)
	held := ownSecrets(secret)
	held[secretARN] = mustJSON(secret)
	serveLocal(g, secretsLn, awstest.NewSecrets(held))
	sqsClient := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(sqsEndpoint) })

	env := runtimeEnv{DynamoEndpoint: dynamoEndpoint, SQSEndpoint: sqsEndpoint, SecretsEndpoint: secretsEndpoint, Logs: cfg.logs}
	if cfg.offlinePace != "" {
		env.Local = append(env.Local, "OFFLINE_PACE="+cfg.offlinePace)
	}
	// Media (avatars) are files here instead of the bucket; the web function serves them at /media/.
	env.Local = append(env.Local, "MEDIA_DIR="+filepath.Join(state, "media"))
	invokers := map[string]invoker{}
	for _, f := range tm.Functions {
		p := newPool(f, bins[f.Name], env)
		g.pools[f.Name], invokers[f.Name] = p, p
	}

	if err := seed(ctx, tm, personas, awsCfg, dynamoEndpoint, sqsClient); err != nil {
		return nil, err
	}

	handler, err := publicOrigin(tm, invokers)
	if err != nil {
		return nil, err
	}
	sched, err := newScheduler(tm.Functions, invokers)
	if err != nil {
		return nil, err
	}
	personaList := demo.PersonaList(personas)
	g.srv = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.URL.Path == "/local/personas":
				personaList.ServeHTTP(w, r)
			case strings.HasPrefix(r.URL.Path, schedulePath):
				sched.ServeHTTP(w, r)
			default:
				handler.ServeHTTP(w, r)
			}
		}),
	}
	go func() { g.serveErr <- g.srv.Serve(ln) }()

	// The event source mappings and the schedules run until shutdown.
	bg, stop := context.WithCancel(context.Background())
	g.bgStop = stop
	for _, f := range tm.Functions {
		p := g.pools[f.Name]
		for _, ev := range f.SQS {
			if !ev.Enabled {
				slog.Info("SQS event source disabled in the template", "function", f.Name, "event", ev.Event)
				continue
			}
			m := sqsMapping{
				QueueURL: awstest.QueueURL(sqsEndpoint, ev.Queue), QueueARN: awstest.QueueARN(ev.Queue), BatchSize: ev.BatchSize,
				Window: ev.Window, ReportBatchItemFailures: ev.ReportBatchItemFailures, MaxConcurrency: ev.MaxConcurrency,
			}
			g.background(func() { m.poll(bg, sqsClient, invokeAll(p)) })
		}
	}
	if cfg.scheduleInterval > 0 {
		g.background(func() { sched.every(bg, cfg.scheduleInterval) })
	} else if len(sched.order) > 0 {
		slog.Info("schedules run on demand: -rematch-now, -schedule-interval or POST "+schedulePath+"<EventName>", "schedules", strings.Join(sched.order, ", "))
	}
	if cfg.rematchNow {
		g.background(func() { sched.runAll(bg) })
	}
	return g, nil
}

// background runs f until shutdown.
func (g *gateway) background(f func()) {
	g.bg.Add(1)
	go func() {
		defer g.bg.Done()
		f()
	}()
}

// shutdown stops accepting connections and drains in-flight requests, stops the pollers and the
// schedules (their batches in flight finish), stops every function instance, then the local
// services and dynalite.
func (g *gateway) shutdown() error {
	var errs []error
	if g.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		if err := g.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("drain requests: %w", err))
			g.srv.Close()
		}
		cancel()
	}
	if g.bgStop != nil {
		g.bgStop()
		done := make(chan struct{})
		go func() { g.bg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(drainTimeout):
			errs = append(errs, errors.New("the pollers did not finish their batches in time"))
		}
	}
	var wg sync.WaitGroup
	for _, p := range g.pools {
		wg.Add(1)
		go func() { defer wg.Done(); p.Close() }()
	}
	wg.Wait()
	for i := len(g.closers) - 1; i >= 0; i-- {
		if err := g.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	g.closers = nil
	return errors.Join(errs...)
}

// publicOrigin is what browsers reach: the template's distribution, or, in a template without one,
// its only HTTP API.
func publicOrigin(tm *Template, invokers map[string]invoker) (http.Handler, error) {
	origins := map[string]http.Handler{}
	var only http.Handler
	for _, a := range tm.APIs {
		h := newHTTPAPI(a, tm.Functions, invokers)
		origins[a.Host()], only = h, h
	}
	for _, f := range tm.Functions {
		if f.URL != nil {
			origins[f.URL.Host] = &functionURL{fn: f.Name, url: f.URL, invoke: invokers[f.Name], now: time.Now}
		}
	}
	if tm.Distribution != nil {
		return newEdge(tm.Distribution, origins)
	}
	if len(tm.APIs) != 1 {
		return nil, fmt.Errorf("template.yaml has no CloudFront distribution and %d HTTP APIs: the gateway cannot tell which one is the public origin", len(tm.APIs))
	}
	slog.Info("template.yaml has no CloudFront distribution: its HTTP API is the public origin")
	return only, nil
}

// newSQS is the SQS fake with the template's queues.
func newSQS(queues []*Queue) (s *awstest.SQS, err error) {
	var cfgs []awstest.QueueConfig
	for _, q := range queues {
		cfgs = append(cfgs, awstest.QueueConfig{Name: q.Name, VisibilityTimeout: q.VisibilityTimeout,
			MaxReceiveCount: q.MaxReceiveCount, DeadLetterQueue: q.DeadLetterQueue})
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the template's queues: %v", r)
		}
	}()
	return awstest.NewSQS(cfgs...), nil
}

// seed stores the demo personas in the table the functions use (the TABLE_NAME and COMPAT_QUEUE_URL
// the template gives them) and sends their matching jobs to the queue, as make run does.
func seed(ctx context.Context, tm *Template, personas []store.User, awsCfg aws.Config, dynamoEndpoint string, sqsClient *sqs.Client) error {
	var table, queueURL string
	for _, f := range tm.Functions {
		if table == "" {
			table = f.Env["TABLE_NAME"]
		}
		if queueURL == "" {
			queueURL = f.Env["COMPAT_QUEUE_URL"]
		}
	}
	if table == "" || queueURL == "" {
		slog.Warn("no function has TABLE_NAME and COMPAT_QUEUE_URL: the demo personas are not seeded")
		return nil
	}
	st := dynamostore.New(dynamo.New(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dynamoEndpoint) }), table)
	n, err := demo.Seed(ctx, st, rematch.NewRematcher(sqsqueue.New(sqsClient, queueURL)), personas)
	if err != nil {
		return fmt.Errorf("seed the demo personas: %w", err)
	}
	if n > 0 {
		slog.Info("demo personas seeded", "created", n, "table", table)
	}
	return nil
}

// invokeAll invokes a function and reads its whole answer, for the event sources.
func invokeAll(p *pool) func(ctx context.Context, event []byte) ([]byte, error) {
	return func(ctx context.Context, event []byte) ([]byte, error) {
		resp, err := p.Invoke(ctx, event)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(io.LimitReader(resp.Body, maxBufferedAnswer))
	}
}

// listenLocal listens on a free loopback port, closed at shutdown.
func listenLocal(g *gateway) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, func() error { ln.Close(); return nil })
	return ln, nil
}

// serveLocal serves a local AWS service on ln until shutdown.
func serveLocal(g *gateway, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	g.closers = append(g.closers, srv.Close)
}

// moduleRoot is the directory of go.mod and template.yaml, from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod with a template.yaml beside it in the working directory or above: run the gateway from the repository")
		}
		dir = parent
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
