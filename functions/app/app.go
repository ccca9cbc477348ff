// Package app is the composition root: the one place that reads the environment (Config, Load),
// takes the adapters as dependencies (Deps: the AWS set of package awsapp, or the local stack's) and
// builds the services in dependency order, each once and only when a function serves it. Every
// Lambda function's main is one call of Main; the local stack (infra/local) builds the same App with
// its local adapters. See docs/architecture.md.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/secondme/twin/pkg/account"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/avatar"
	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/queue"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/runware"
	"github.com/secondme/twin/pkg/secondme"
	"github.com/secondme/twin/pkg/store"
)

// Deps are the adapters: what differs between AWS and the local stack.
type Deps struct {
	// Store is the storage (DynamoDB or SQLite); nil when the function has none configured.
	Store store.Store
	// Queue sends compat jobs (SQS or the in-process queue); nil when none is configured.
	Queue queue.Sender
	// NightlyQueue sends the nightly fan-out's shard tasks and pair jobs (NIGHTLY_QUEUE_URL); nil:
	// Queue.
	NightlyQueue queue.Sender
	// Secrets gives secrets by name (Secrets Manager, or the local key file and variables).
	Secrets Secrets
	// Logger is the process's logger.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// HTTPClient is the model providers' client; nil means a fresh one.
	HTTPClient *http.Client
	// Metrics records model calls and matching budgets (pkg/metrics): EMF lines on stdout on AWS, a
	// Counter in the local stack (GET /local/metrics); nil records nothing.
	Metrics metrics.Recorder
	// Blob is the media storage (the S3 bucket, or files under a directory); nil when none is
	// configured.
	Blob blob.Store
}

// Secrets gives secrets by name (SecretSealingKey, ..., or a model provider's secret setting).
type Secrets interface {
	// Secrets returns the values of the names that are set; the others are left out.
	Secrets(ctx context.Context, names ...string) (map[string]string, error)
}

// SecretMap is Secrets held in memory: the local stack's.
type SecretMap map[string]string

// Secrets implements Secrets.
func (m SecretMap) Secrets(_ context.Context, names ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range names {
		if v, ok := m[n]; ok {
			out[n] = v
		}
	}
	return out, nil
}

// App builds the services of Config over Deps, each on first use and then kept.
type App struct {
	cfg  Config
	deps Deps

	auth    lazy[*auth.Service]
	webhook lazy[*auth.Webhook]
	edge    lazy[api.Edge]
	model   lazy[llm.Model]
	chat    lazy[*chat.Service]
	worker  lazy[*rematch.CompatWorker]
	avatars lazy[*avatar.Service]
	account lazy[*account.Service]
	drawer  lazy[*avatar.Service]

	rotations rotations
}

// New returns the App of cfg over deps. It builds nothing yet.
func New(cfg Config, deps Deps) *App {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Secrets == nil {
		deps.Secrets = SecretMap{}
	}
	if deps.Metrics == nil {
		deps.Metrics = metrics.Nop{}
	}
	cfg.Matching.Budget.Now, cfg.Matching.Budget.Metrics = deps.Now, deps.Metrics
	return &App{cfg: cfg, deps: deps}
}

// lazy is a value built once, on first use.
type lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

func (l *lazy[T]) get(build func() (T, error)) (T, error) {
	l.once.Do(func() { l.v, l.err = build() })
	return l.v, l.err
}

// Store returns the store, or an error when none is configured.
func (a *App) Store() (store.Store, error) {
	if a.deps.Store == nil {
		return nil, errors.New("TABLE_NAME is not set")
	}
	return a.deps.Store, nil
}

// Rematcher returns the hook that schedules rematches through the queue. With a store and a queue
// that delays (SQS, the in-process queue) it is bounded: a person's edits coalesce within
// MATCH_WINDOW and refreshes count against their matching budget (docs/matching.md).
func (a *App) Rematcher() (*rematch.Rematcher, error) {
	if a.deps.Queue == nil {
		return nil, errors.New("COMPAT_QUEUE_URL is not set")
	}
	delayed, ok := a.deps.Queue.(rematch.DelayedSender)
	if !ok || a.deps.Store == nil {
		return rematch.NewRematcher(a.deps.Queue), nil
	}
	return rematch.NewBoundedRematcher(delayed, a.deps.Store, a.cfg.Matching.Budget), nil
}

// Sessions returns the login sessions: all a function that only checks sign-in needs.
func (a *App) Sessions() (*auth.Sessions, error) {
	st, err := a.Store()
	if err != nil {
		return nil, err
	}
	return auth.NewSessions(st, a.cfg.SessionTTL, a.deps.Now), nil
}

// secrets reads names, failing when one of required is not set.
func (a *App) secrets(ctx context.Context, names []string, required ...string) (map[string]string, error) {
	got, err := a.deps.Secrets.Secrets(ctx, append(names, required...)...)
	if err != nil {
		return nil, err
	}
	for _, n := range required {
		if _, ok := got[n]; !ok {
			return nil, fmt.Errorf("the secret %s is not set: set %s, or the field %q of SECRETS_ARN", n, secretVar(n), n)
		}
	}
	return got, nil
}

// secretVar is the variable that names the secret of its own of name.
func secretVar(name string) string {
	for v, n := range secretVars {
		if n == name {
			return v
		}
	}
	return name + "_SECRET_ARN"
}

// Auth returns the sign-in service of docs/auth.md: login sessions, the token sealer, SecondMe
// sign-in when SECONDME_CLIENT_ID is set, OIDC sign-in when OIDC_ISSUER is set, and the rematch
// hook when there is a queue (else sign-in schedules no rematch).
func (a *App) Auth(ctx context.Context) (*auth.Service, error) {
	return a.auth.get(func() (*auth.Service, error) {
		c := a.cfg
		required := []string{SecretSealingKey}
		if c.SecondMe.ClientID != "" {
			required = append(required, SecretSecondMeClient)
		}
		if c.OIDC.Issuer != "" {
			required = append(required, SecretOIDCClient)
			for v, s := range map[string]string{"OIDC_CLIENT_ID": c.OIDC.ClientID, "OIDC_REDIRECT_URL": c.OIDC.RedirectURL} {
				if s == "" {
					return nil, fmt.Errorf("%s is not set (OIDC_ISSUER is)", v)
				}
			}
		}
		sec, err := a.secrets(ctx, nil, required...)
		if err != nil {
			return nil, err
		}
		keys, err := auth.ParseKeys(sec[SecretSealingKey])
		if err != nil {
			return nil, fmt.Errorf("the sealing key (SEALING_KEY_SECRET_ARN, or sealingKey in SECRETS_ARN): %w", err)
		}
		sealer, err := auth.NewSealerRing(keys)
		if err != nil {
			return nil, err
		}
		a.follow([]string{SecretSealingKey}, sec, func(sec map[string]string) error {
			keys, err := auth.ParseKeys(sec[SecretSealingKey])
			if err != nil {
				return err
			}
			return sealer.SetKeys(keys)
		})
		st, err := a.Store()
		if err != nil {
			return nil, err
		}
		sessions, err := a.Sessions()
		if err != nil {
			return nil, err
		}
		opts := auth.Options{Now: a.deps.Now}
		if av, err := a.Avatars(ctx); err == nil {
			opts.Avatars = av
		}
		if rm, err := a.Rematcher(); err == nil {
			opts.Rematcher = rm
		} else {
			a.deps.Logger.WarnContext(ctx, "COMPAT_QUEUE_URL is not set: sign-in will not schedule rematches")
		}
		if c.SecondMe.ClientID != "" {
			smc := c.SecondMe
			smc.ClientSecret = sec[SecretSecondMeClient]
			opts.SecondMe = secondme.New(smc)
		}
		if c.OIDC.Issuer != "" {
			oc := c.OIDC
			oc.ClientSecret = sec[SecretOIDCClient]
			opts.OIDC = auth.NewOIDC(oc)
		}
		return auth.New(st, sealer, sessions, opts), nil
	})
}

// Webhook returns the SecondMe revocation webhook receiver. Without its secret every delivery is
// refused (503).
func (a *App) Webhook(ctx context.Context) (*auth.Webhook, error) {
	return a.webhook.get(func() (*auth.Webhook, error) {
		st, err := a.Store()
		if err != nil {
			return nil, err
		}
		names := []string{SecretWebhook, SecretWebhookPrevious}
		sec, err := a.secrets(ctx, names)
		if err != nil {
			return nil, err
		}
		wc := a.cfg.Webhook
		wc.Secret, wc.PreviousSecret = []byte(sec[SecretWebhook]), []byte(sec[SecretWebhookPrevious])
		wh, err := auth.NewWebhook(st, wc)
		if err != nil {
			return nil, err
		}
		a.follow(names, sec, func(sec map[string]string) error {
			wh.SetSecrets([]byte(sec[SecretWebhook]), []byte(sec[SecretWebhookPrevious]))
			return nil
		})
		return wh, nil
	})
}

// Edge returns what an HTTP function knows of the public origin in front of it (docs/platform.md,
// "One public origin"): PUBLIC_URL and the edge secret (originVerify), which the edge sends in
// X-Origin-Verify. Both are optional and logged when missing.
func (a *App) Edge(ctx context.Context) (api.Edge, error) {
	return a.edge.get(func() (api.Edge, error) {
		sec, err := a.secrets(ctx, []string{SecretOriginVerify})
		if err != nil {
			return api.Edge{}, err
		}
		edge := api.Edge{PublicURL: a.cfg.PublicURL, Secret: sec[SecretOriginVerify]}
		if edge.PublicURL == "" {
			a.deps.Logger.WarnContext(ctx, "PUBLIC_URL is not set: every POST, PUT, PATCH and DELETE is refused")
		}
		if edge.Secret == "" {
			a.deps.Logger.WarnContext(ctx, "no edge secret (originVerify in SECRETS_ARN): requests are not checked for X-Origin-Verify")
		}
		return edge, nil
	})
}

// Model returns the general model of the chosen provider (docs/llm.md), its secret settings read
// from the secrets.
func (a *App) Model(ctx context.Context) (llm.Model, error) {
	return a.model.get(func() (llm.Model, error) {
		mc := a.cfg.Model
		if mc.Provider.New == nil {
			return nil, errors.New("this function was given no model providers")
		}
		build := func(sec map[string]string) (llm.Model, error) {
			values := llm.Values{}
			for k, v := range mc.Values {
				values[k] = v
			}
			for k, v := range sec {
				values[k] = v
			}
			return mc.Provider.Model(values, llm.Options{Timeout: mc.Timeout, HTTPClient: a.deps.HTTPClient})
		}
		var sec map[string]string
		if len(mc.FromSecrets) > 0 {
			var err error
			if sec, err = a.secrets(ctx, nil, mc.FromSecrets...); err != nil {
				return nil, err
			}
		}
		m, err := build(sec)
		if err != nil {
			return nil, err
		}
		if len(mc.FromSecrets) > 0 {
			// A rotated key (GEMINI_API_KEY_SECRET_ARN, ...) gets a model of its own at the next Refresh.
			rm, first := &rotatingModel{}, m
			rm.cur.Store(&first)
			a.follow(mc.FromSecrets, sec, func(sec map[string]string) error {
				m, err := build(sec)
				if err == nil {
					rm.cur.Store(&m)
				}
				return err
			})
			m = rm
		}
		// Every call is counted by purpose: the request's task says it (compat conversation and
		// judge, chat, summary); a request that says none is a chat turn.
		return metrics.CountCalls(m, a.deps.Metrics, metrics.PurposeChat), nil
	})
}

// Chat returns the chat service (docs/chat.md). When SecondMe twins are on, a person's own SecondMe
// speaks as their twin in their own chats, with tokens from the sign-in service.
func (a *App) Chat(ctx context.Context) (*chat.Service, error) {
	return a.chat.get(func() (*chat.Service, error) {
		st, err := a.Store()
		if err != nil {
			return nil, err
		}
		model, err := a.Model(ctx)
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		var models chat.ModelChooser = chat.OneModel{Model: model}
		if mc := a.cfg.Model; mc.SecondMeTwins {
			tokens, err := a.Auth(ctx)
			if err != nil {
				return nil, fmt.Errorf("SecondMe twins need the sign-in service: %w", err)
			}
			sm := llm.NewSecondMe(mc.SecondMe, llm.Options{Timeout: mc.Timeout, HTTPClient: a.deps.HTTPClient}, tokens, model)
			models = chat.SecondMeTwins{SecondMe: sm, Default: model}
		}
		opts := a.cfg.Chat
		opts.Now = a.deps.Now
		return chat.New(st, models, opts), nil
	})
}

// Worker returns the compat worker (docs/matching.md): it runs the queue's pair and user jobs,
// scoring with the model, and fans user jobs out through the queue.
func (a *App) Worker(ctx context.Context) (*rematch.CompatWorker, error) {
	return a.worker.get(func() (*rematch.CompatWorker, error) {
		st, err := a.Store()
		if err != nil {
			return nil, err
		}
		if a.deps.Queue == nil {
			return nil, errors.New("COMPAT_QUEUE_URL is not set")
		}
		model, err := a.Model(ctx)
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		return rematch.NewCompatWorker(st, compat.New(model, a.cfg.Compat), a.deps.Queue, a.cfg.Matching.Config), nil
	})
}

// Nightly returns the nightly rematch, sending its jobs through sender (the queue on AWS).
func (a *App) Nightly(sender rematch.Sender) (*rematch.Nightly, error) {
	st, err := a.Store()
	if err != nil {
		return nil, err
	}
	return rematch.NewNightly(st, sender, a.cfg.Matching), nil
}

// Fanout returns the nightly rematch as a fan-out of shard tasks (docs/scale.md), sending its tasks
// and pair jobs through sender (the nightly queue).
func (a *App) Fanout(sender rematch.Sender) (*rematch.Fanout, error) {
	st, err := a.Store()
	if err != nil {
		return nil, err
	}
	return rematch.NewFanout(st, sender, a.cfg.Matching, 0), nil
}

// nightlyQueue is the queue of the nightly fan-out: NightlyQueue, else Queue.
func (a *App) nightlyQueue() queue.Sender {
	if a.deps.NightlyQueue != nil {
		return a.deps.NightlyQueue
	}
	return a.deps.Queue
}

// rotations are the services that follow their secrets' rotation: the sealing-key ring, the webhook
// secrets. Refresh runs them.
type rotations struct {
	mu     sync.Mutex
	follow []func(ctx context.Context) error
}

// follow makes Refresh read the secrets names again and call apply with them when one changed since
// the values built (the secrets adapter keeps values for SECRETS_TTL, so most Refreshes read nothing).
// A value apply refuses is logged once and the service keeps what it had.
func (a *App) follow(names []string, built map[string]string, apply func(map[string]string) error) {
	var mu sync.Mutex
	last := pick(built, names)
	a.rotations.mu.Lock()
	defer a.rotations.mu.Unlock()
	a.rotations.follow = append(a.rotations.follow, func(ctx context.Context) error {
		got, err := a.deps.Secrets.Secrets(ctx, names...)
		if err != nil {
			return err
		}
		got = pick(got, names)
		mu.Lock()
		defer mu.Unlock()
		if maps.Equal(got, last) {
			return nil
		}
		last = got
		if err := apply(got); err != nil {
			return fmt.Errorf("a rotated secret (%s) was refused, the previous value stays in use: %w", strings.Join(names, ", "), err)
		}
		a.deps.Logger.InfoContext(ctx, "rotated secrets applied", "secrets", names)
		return nil
	})
}

// rotatingModel is the model built from the latest values of its secrets: Refresh swaps in the one
// built from a rotated key.
type rotatingModel struct {
	cur atomic.Pointer[llm.Model]
}

// Generate implements llm.Model with the current model.
func (m *rotatingModel) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	return (*m.cur.Load()).Generate(ctx, req, onDelta)
}

// pick returns the values of names in m.
func pick(m map[string]string, names []string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		if v, ok := m[n]; ok {
			out[n] = v
		}
	}
	return out
}

// Refresh hands secrets rotated since they were read to the services built from them. Every HTTP
// function runs it before each request (Wrap). A failure is logged: the services keep their secrets.
func (a *App) Refresh(ctx context.Context) {
	a.rotations.mu.Lock()
	follow := slices.Clone(a.rotations.follow)
	a.rotations.mu.Unlock()
	for _, f := range follow {
		if err := f(ctx); err != nil {
			a.deps.Logger.ErrorContext(ctx, "secret refresh failed", "err", err)
		}
	}
}

// Blob returns the media storage, or an error when none is configured.
func (a *App) Blob() (blob.Store, error) {
	if a.deps.Blob == nil {
		return nil, errors.New("MEDIA_BUCKET is not set")
	}
	return a.deps.Blob, nil
}

// Avatars returns the portrait service of the routes (docs/avatars.md): it queues jobs, reports
// them, copies profile pictures and erases a person's images. It draws nothing, so it needs no
// Runware key.
func (a *App) Avatars(ctx context.Context) (*avatar.Service, error) {
	return a.avatars.get(func() (*avatar.Service, error) { return a.avatarService(ctx, nil) })
}

// AvatarWorker returns the portrait service that runs the jobs: with Runware when its key is set
// (RUNWARE_API_KEY, or runwareApiKey in the secrets), else drawing offline.
func (a *App) AvatarWorker(ctx context.Context) (*avatar.Service, error) {
	return a.drawer.get(func() (*avatar.Service, error) {
		sec, err := a.secrets(ctx, []string{SecretRunware})
		if err != nil {
			return nil, err
		}
		var gen avatar.Generator
		if key := sec[SecretRunware]; key != "" {
			// 45 s for the call, its retry and the image fetch: inside the compat worker's 60 s.
			cfg := runware.Config{APIKey: key, Model: a.cfg.Avatar.Model, HTTPClient: a.deps.HTTPClient, Timeout: runwareTimeout}
			if gen, err = runware.New(cfg); err != nil {
				return nil, err
			}
		} else {
			a.deps.Logger.WarnContext(ctx, "no Runware key (RUNWARE_API_KEY): portraits are drawn offline")
		}
		return a.avatarService(ctx, gen)
	})
}

// runwareTimeout bounds one portrait's Runware call.
const runwareTimeout = 45 * time.Second

func (a *App) avatarService(ctx context.Context, gen avatar.Generator) (*avatar.Service, error) {
	st, err := a.Store()
	if err != nil {
		return nil, err
	}
	blobs, err := a.Blob()
	if err != nil {
		return nil, err
	}
	var sender avatar.Sender
	if a.deps.Queue != nil {
		sender = a.deps.Queue
	}
	return avatar.NewService(st, blobs, sender, gen, avatar.Config{Daily: a.cfg.Avatar.Daily, Now: a.deps.Now,
		Metrics: a.deps.Metrics, Logger: a.deps.Logger}), nil
}

// Config returns the configuration the App was built with.
func (a *App) Config() Config { return a.cfg }
