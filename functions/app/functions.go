package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-lambda-go/lambdaurl"

	"github.com/secondme/twin/functions/app/awsapp"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/authapi"
	"github.com/secondme/twin/pkg/api/chatapi"
	"github.com/secondme/twin/pkg/api/matchesapi"
	"github.com/secondme/twin/pkg/api/mediaapi"
	"github.com/secondme/twin/pkg/api/usersapi"
	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/lambdahttp"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/web"
)

// Served is what one Lambda function serves: exactly one field is set.
type Served struct {
	// HTTP is served behind the HTTP API (payload format 2.0).
	HTTP http.Handler
	// Stream is served on a Function URL in RESPONSE_STREAM mode.
	Stream http.Handler
	// Event is a handler function for lambda.Start (an SQS batch, a schedule).
	Event any
}

// Function builds what one Lambda function serves from the App.
type Function func(ctx context.Context, a *App) (Served, error)

// Main runs a Lambda function: the Lambda logger (JSON at AWS_LAMBDA_LOG_LEVEL, with each
// invocation's request id) as slog's default, the configuration from the environment, the AWS
// adapters, then fn's handler, started; it never returns. providers are the model providers the
// function links (models.All for the functions that ask a model, else none). A failure at start is
// logged and exits 1.
func Main(name string, fn Function, providers ...llm.Provider) {
	logger := lambdacontext.NewLogger()
	slog.SetDefault(logger)
	served, err := Build(context.Background(), os.Getenv, logger, fn, providers...)
	if err != nil {
		logger.Error(name+" function failed to start", "err", err)
		os.Exit(1)
	}
	served.Start()
}

// Build is Main without the start: the configuration of getenv, the AWS adapters and fn's handler.
func Build(ctx context.Context, getenv func(string) string, logger *slog.Logger, fn Function, providers ...llm.Provider) (Served, error) {
	cfg, err := Load(getenv, providers...)
	if err != nil {
		return Served{}, err
	}
	cfg.AWS.Secrets.Logger = logger
	aws, err := awsapp.New(ctx, cfg.AWS)
	if err != nil {
		return Served{}, err
	}
	deps := Deps{Store: aws.Store, Queue: aws.Queue, NightlyQueue: aws.NightlyQueue, Secrets: aws.Secrets, Logger: logger, Metrics: metrics.NewEMF(os.Stdout)}
	if aws.Blob != nil {
		deps.Blob = aws.Blob
	}
	if dir := cfg.Avatar.MediaDir; dir != "" {
		if deps.Blob, err = blob.NewDir(dir); err != nil {
			return Served{}, err
		}
	}
	return fn(ctx, New(cfg, deps))
}

// Start serves s under the Lambda runtime; it never returns.
func (s Served) Start() {
	switch {
	case s.Stream != nil:
		lambdahttp.StartStream(s.Stream)
	case s.HTTP != nil:
		lambdahttp.Start(s.HTTP)
	default:
		lambda.Start(s.Event)
	}
}

// Routes registers one function's route group on rt.
type Routes func(ctx context.Context, a *App, rt *api.Router) error

// The route groups, one per HTTP function. They are functions, not variables, so that a function's
// binary links only the groups it serves.

// UsersRoutes adds the users routes: a person's own profile, shades, sync, export and erase, public
// profiles, blocks.
func UsersRoutes(ctx context.Context, a *App, rt *api.Router) error {
	st, err := a.Store()
	if err != nil {
		return err
	}
	rm, err := a.Rematcher()
	if err != nil {
		return err
	}
	svc, err := a.Auth(ctx)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	var opts []usersapi.Option
	if av, err := a.Avatars(ctx); err == nil {
		opts = append(opts, usersapi.WithAvatars(av))
	} else {
		a.deps.Logger.WarnContext(ctx, "portraits are off", "err", err)
	}
	acc, err := a.Account(ctx)
	if err != nil {
		return fmt.Errorf("account jobs: %w", err)
	}
	opts = append(opts, usersapi.WithAccount(acc))
	usersapi.New(st, svc, rm, svc, opts...).Register(rt)
	return nil
}

// AuthRoutes adds sign-in, callback, sign-out and the SecondMe webhook.
func AuthRoutes(ctx context.Context, a *App, rt *api.Router) error {
	if a.cfg.SecondMe.ClientID != "" && a.cfg.SecondMe.RedirectURL == "" {
		return fmt.Errorf("SECONDME_REDIRECT_URL is not set (SECONDME_CLIENT_ID is)")
	}
	svc, err := a.Auth(ctx)
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	wh, err := a.Webhook(ctx)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	authapi.New(svc, wh).Register(rt)
	return nil
}

// ChatRoutes adds sessions, history and the JSON chat turn.
func ChatRoutes(ctx context.Context, a *App, rt *api.Router) error {
	return a.chatRoutes(ctx, rt, (*chatapi.Handler).Register)
}

// ChatStreamRoutes adds POST /api/chat/stream, the chat turn as Server-Sent Events.
func ChatStreamRoutes(ctx context.Context, a *App, rt *api.Router) error {
	return a.chatRoutes(ctx, rt, (*chatapi.Handler).RegisterStream)
}

// MatchesRoutes adds the ranked list, one match with its evidence, refresh.
func MatchesRoutes(ctx context.Context, a *App, rt *api.Router) error {
	st, err := a.Store()
	if err != nil {
		return err
	}
	sessions, err := a.Sessions()
	if err != nil {
		return err
	}
	rm, err := a.Rematcher()
	if err != nil {
		return err
	}
	matchesapi.New(st, sessions, rm).Register(rt)
	return nil
}

// WebRoutes adds the browser client at / and /assets/*, and the stored media at /media/*.
func WebRoutes(ctx context.Context, a *App, rt *api.Router) error {
	web.New().Register(rt)
	if blobs, err := a.Blob(); err == nil {
		mediaapi.New(blobs).Register(rt)
	} else {
		a.deps.Logger.WarnContext(ctx, "media are not served", "err", err)
	}
	return nil
}

// chatRoutes adds the chat routes register registers: the chat service, signed in by login sessions.
func (a *App) chatRoutes(ctx context.Context, rt *api.Router, register func(*chatapi.Handler, *api.Router)) error {
	svc, err := a.Chat(ctx)
	if err != nil {
		return err
	}
	sessions, err := a.Sessions()
	if err != nil {
		return err
	}
	register(chatapi.New(svc, sessions), rt)
	return nil
}

// Handler returns the HTTP handler of route groups behind the public origin: GET /api/health and
// the groups' routes, wrapped with the middleware of every function (Wrap) and the edge.
func (a *App) Handler(ctx context.Context, groups ...Routes) (http.Handler, error) {
	rt := api.NewRouter()
	if err := a.Register(ctx, rt, groups...); err != nil {
		return nil, err
	}
	edge, err := a.Edge(ctx)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	return a.Wrap(rt, edge), nil
}

// Wrap puts h behind the middleware of every function (access log through Deps.Logger, the edge
// check, same origin for unsafe methods but on the signed webhook) and, before each request, Refresh
// (rotated secrets reach the services).
func (a *App) Wrap(h http.Handler, edge api.Edge) http.Handler {
	refreshed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.Refresh(r.Context())
		h.ServeHTTP(w, r)
	})
	return api.Middleware{Edge: edge, Exempt: []string{authapi.WebhookPath}, Logger: a.deps.Logger}.Wrap(refreshed)
}

// Register adds GET /api/health and the routes of groups to rt.
func (a *App) Register(ctx context.Context, rt *api.Router, groups ...Routes) error {
	rt.HandleFunc("GET /api/health", api.Health)
	for _, g := range groups {
		if err := g(ctx, a, rt); err != nil {
			return err
		}
	}
	return nil
}

// serveHTTP serves route groups behind the HTTP API.
func (a *App) serveHTTP(ctx context.Context, groups ...Routes) (Served, error) {
	h, err := a.Handler(ctx, groups...)
	return Served{HTTP: h}, err
}

// The Lambda functions (template.yaml), one per functions/<name>. Each is a Function.

// Users serves the users routes.
func Users(ctx context.Context, a *App) (Served, error) { return a.serveHTTP(ctx, UsersRoutes) }

// Auth serves the sign-in routes and the SecondMe webhook.
func Auth(ctx context.Context, a *App) (Served, error) { return a.serveHTTP(ctx, AuthRoutes) }

// Chat serves the chat routes but the stream.
func Chat(ctx context.Context, a *App) (Served, error) { return a.serveHTTP(ctx, ChatRoutes) }

// Matches serves the matches routes.
func Matches(ctx context.Context, a *App) (Served, error) { return a.serveHTTP(ctx, MatchesRoutes) }

// Web serves the browser client.
func Web(ctx context.Context, a *App) (Served, error) { return a.serveHTTP(ctx, WebRoutes) }

// ChatStream serves the chat stream on a Function URL, whose events carry the cookies apart.
func ChatStream(ctx context.Context, a *App) (Served, error) {
	h, err := a.Handler(ctx, ChatStreamRoutes)
	return Served{Stream: withEventCookies(h)}, err
}

// CompatWorker runs the compat queue's jobs from SQS batches, reporting the messages that failed.
func CompatWorker(ctx context.Context, a *App) (Served, error) {
	jobs, err := a.Jobs(ctx)
	if err != nil {
		return Served{}, err
	}
	return Served{Event: BatchHandler{Handle: jobs, Workers: rematch.BatchSize, Logger: a.deps.Logger}.HandleBatch}, nil
}

// Rematch plans the nightly rematch on each scheduled event: it writes the run's first shard task to
// its queue (COMPAT_QUEUE_URL, the nightly queue), and the compat worker runs the tasks.
func Rematch(ctx context.Context, a *App) (Served, error) {
	if a.deps.Queue == nil {
		return Served{}, fmt.Errorf("COMPAT_QUEUE_URL is not set")
	}
	n, err := a.Fanout(a.deps.Queue)
	if err != nil {
		return Served{}, err
	}
	return Served{Event: NightlyHandler(n, a.deps.Logger, a.deps.Metrics)}, nil
}

// withEventCookies puts the cookies of a Lambda Function URL event (payload 2.0 carries them in
// "cookies", not in the headers, and lambdaurl copies only the headers) back into the Cookie header,
// where the sign-in cookie is read.
func withEventCookies(next http.Handler) http.Handler {
	if next == nil {
		return nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ev, ok := lambdaurl.RequestFromContext(r.Context()); ok && len(ev.Cookies) > 0 && r.Header.Get("Cookie") == "" {
			r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
		}
		next.ServeHTTP(w, r)
	})
}

// NightlyResult is what a nightly invocation returns: the run's figures.
type NightlyResult struct {
	Indexed  int  `json:"indexed"`
	Changed  int  `json:"changed"`
	Slice    int  `json:"slice"`
	PairJobs int  `json:"pairJobs"`
	UserJobs int  `json:"userJobs"`
	Resumed  bool `json:"resumed"`
}

// NightlyRunner is a nightly run: rematch.Fanout (which plans the run) or rematch.Nightly.
type NightlyRunner interface {
	Run(ctx context.Context) (rematch.Stats, error)
}

// NightlyHandler runs the nightly rematch for a scheduled event and counts the run in rec
// (NightlyRuns, by Result). A failure fails the invocation, so that Lambda retries it (the template's
// EventInvokeConfig); the retry continues where the run stopped.
func NightlyHandler(n NightlyRunner, logger *slog.Logger, rec metrics.Recorder) func(ctx context.Context, ev events.EventBridgeEvent) (NightlyResult, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (NightlyResult, error) {
		logger.InfoContext(ctx, "scheduled rematch", "event_id", ev.ID, "time", ev.Time, "rule", ev.Resources)
		st, err := n.Run(ctx)
		if err != nil {
			recordNightly(rec, metrics.ResultFailed)
		} else if st.Finished {
			recordNightly(rec, metrics.ResultOK)
		}
		if err != nil {
			return NightlyResult{}, fmt.Errorf("nightly rematch: %w", err)
		}
		return NightlyResult{Indexed: st.Indexed, Changed: st.Changed, Slice: st.Slice, PairJobs: st.PairJobs, UserJobs: st.UserJobs, Resumed: st.Resumed}, nil
	}
}

// recordNightly counts a nightly run that failed or finished (NightlyRuns, by Result): the fan-out's
// plan counts only a failure, its last task the finish (App.Jobs).
func recordNightly(rec metrics.Recorder, result string) {
	rec.Record(metrics.Sample{Dimension: metrics.DimResult, Value: result, Counts: []metrics.Count{{Name: metrics.NightlyRuns, Value: 1}}})
}
