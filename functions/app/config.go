package app

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secondme/twin/functions/app/awsapp"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/secondme"
)

// Config is every setting of the application, parsed once from the environment by Load. It is the
// only place that reads the environment (besides infra/devserver's ADDR, PORT and DATA_DIR).
type Config struct {
	// AWS is where the store, the queue and the secrets are on AWS: TABLE_NAME, DYNAMO_ENDPOINT,
	// COMPAT_QUEUE_URL, SQS_ENDPOINT, SECRETS_ARN and the per-secret *_SECRET_ARN variables, and how
	// long a secret is kept before it is read again (SECRETS_TTL, at least 1s, default 5m).
	AWS awsapp.Config
	// PublicURL is the origin browsers use, scheme://host[:port] (PUBLIC_URL); empty refuses every
	// unsafe request.
	PublicURL string
	// SessionTTL is how long an unused login session lives (SESSION_TTL, at least 1h; zero: pkg/auth's
	// default).
	SessionTTL time.Duration
	// SecondMe is the SecondMe app (SECONDME_CLIENT_ID: empty turns SecondMe off, SECONDME_REDIRECT_URL,
	// SECONDME_BASE_URL, SECONDME_AUTHORIZE_URL); its secret comes from the secrets.
	SecondMe secondme.Config
	// OIDC is the OpenID Connect provider (OIDC_ISSUER: empty turns it off, OIDC_CLIENT_ID,
	// OIDC_REDIRECT_URL, OIDC_SCOPES); its secret comes from the secrets.
	OIDC auth.OIDCConfig
	// Webhook is the SecondMe revocation webhook (SECONDME_WEBHOOK_SIGNATURE_HEADER,
	// SECONDME_WEBHOOK_TIMESTAMP_HEADER, SECONDME_WEBHOOK_ALGORITHM); its secret comes from the secrets.
	Webhook auth.WebhookConfig
	// Secrets are the secrets given as plain variables, by name (the local stack's
	// SECONDME_CLIENT_SECRET, OIDC_CLIENT_SECRET, SECONDME_WEBHOOK_SECRET and
	// SECONDME_WEBHOOK_PREVIOUS_SECRET); on AWS they come from
	// Secrets Manager instead.
	Secrets map[string]string
	// Chat are the chat settings (CHAT_DAILY_QUOTA, CHAT_PROMPT_BUDGET, CHAT_HISTORY,
	// CHAT_MODEL_TIMEOUT, CHAT_MAX_REPLY_TOKENS).
	Chat chat.Options
	// Matching tunes candidates, the top M given the model part and the nightly run (MATCH_K,
	// MATCH_MODEL_TOP, MATCH_MODEL_BAND, REMATCH_SLICE).
	Matching rematch.NightlyConfig
	// Compat tunes the scorer (COMPAT_MESSAGES, COMPAT_MODEL_WEIGHT, COMPAT_MODEL_RANGE).
	Compat compat.Config
	// Model is the model and how it is called.
	Model ModelConfig
	// NightlyInterval is how often the local stack runs the nightly rematch (NIGHTLY_INTERVAL,
	// default 24h; on AWS the schedule decides).
	NightlyInterval time.Duration
	// Avatar is the portraits' daily budget per person (AVATAR_DAILY) and where media is kept:
	// MEDIA_DIR (files: the gateway's) when set, else the S3 bucket AWS.MediaBucket (MEDIA_BUCKET).
	Avatar AvatarConfig
}

// AvatarConfig tunes portraits (docs/avatars.md). The Runware key is a secret (SecretRunware).
type AvatarConfig struct {
	// Daily is how many portraits one person may ask for per UTC day; 0 takes pkg/avatar's default.
	Daily int
	// MediaDir, when set, keeps media in files under it instead of the bucket.
	MediaDir string
	// Model is the Runware model's AIR identifier (RUNWARE_MODEL); runware.DefaultModel when empty.
	Model string
}

// ModelConfig is the model of the functions that ask one (docs/llm.md).
type ModelConfig struct {
	// Provider is the chosen provider: LLM_PROVIDER names it, else the first of the list given to Load
	// whose settings choose it. Zero when Load was given no providers.
	Provider llm.Provider
	// Values are the chosen provider's settings as set.
	Values llm.Values
	// FromSecrets are the settings of the provider to read from a secret (unset, with their
	// *_SECRET_ARN set): their ARNs are in AWS.SecretARNs under the setting's name.
	FromSecrets []string
	// Timeout bounds one model call, its retry included (LLM_TIMEOUT).
	Timeout time.Duration
	// SecondMeTwins makes the twins of people who linked SecondMe speak through their own SecondMe
	// (LLM_SECONDME_TWINS, or a provider that implies it such as LLM_PROVIDER=secondme).
	SecondMeTwins bool
	// SecondMe is where and how SecondMe twins speak (SECONDME_BASE_URL, SECONDME_MODEL).
	SecondMe llm.SecondMeConfig
}

// DefaultNightlyInterval is the local stack's nightly rematch period.
const DefaultNightlyInterval = 24 * time.Hour

// Names of the secrets (the fields of the application secret SECRETS_ARN).
const (
	SecretSealingKey     = "sealingKey"
	SecretSecondMeClient = "secondmeClientSecret"
	SecretOIDCClient     = "oidcClientSecret"
	SecretWebhook        = "secondmeWebhookSecret"
	// SecretWebhookPrevious is the webhook secret before a rotation, accepted until it is removed.
	SecretWebhookPrevious = "secondmeWebhookPreviousSecret"
	SecretOriginVerify    = "originVerify"
	// SecretRunware is the Runware API key; without it portraits are drawn offline.
	SecretRunware = "runwareApiKey"
)

// secretVars name, for each variable holding the ARN of a secret of its own, the secret it gives
// (which is otherwise the field of that name in SECRETS_ARN).
var secretVars = map[string]string{
	"SEALING_KEY_SECRET_ARN":               SecretSealingKey,
	"SECONDME_CLIENT_SECRET_ARN":           SecretSecondMeClient,
	"OIDC_CLIENT_SECRET_ARN":               SecretOIDCClient,
	"SECONDME_WEBHOOK_SECRET_ARN":          SecretWebhook,
	"SECONDME_WEBHOOK_PREVIOUS_SECRET_ARN": SecretWebhookPrevious,
	"ORIGIN_VERIFY_SECRET_ARN":             SecretOriginVerify,
	"RUNWARE_API_KEY_SECRET_ARN":           SecretRunware,
}

// Load parses the configuration from getenv (os.Getenv in Main). providers are the model providers
// the function links (none for a function that asks no model), in order of preference. Every error
// names its variable; all are reported together.
func Load(getenv func(string) string, providers ...llm.Provider) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		AWS: awsapp.Config{
			Table: getenv("TABLE_NAME"), DynamoEndpoint: getenv("DYNAMO_ENDPOINT"),
			QueueURL: getenv("COMPAT_QUEUE_URL"), NightlyQueueURL: getenv("NIGHTLY_QUEUE_URL"), SQSEndpoint: getenv("SQS_ENDPOINT"),
			SecretsARN: getenv("SECRETS_ARN"), SecretARNs: map[string]string{},
			MediaBucket: getenv("MEDIA_BUCKET"),
		},
		PublicURL:  p.publicURL("PUBLIC_URL"),
		SessionTTL: p.duration("SESSION_TTL", time.Hour),
		SecondMe: secondme.Config{
			ClientID: getenv("SECONDME_CLIENT_ID"), RedirectURL: getenv("SECONDME_REDIRECT_URL"),
			BaseURL: getenv("SECONDME_BASE_URL"), AuthorizeURL: getenv("SECONDME_AUTHORIZE_URL"),
		},
		OIDC: auth.OIDCConfig{
			Issuer: getenv("OIDC_ISSUER"), ClientID: getenv("OIDC_CLIENT_ID"), RedirectURL: getenv("OIDC_REDIRECT_URL"),
			Scopes: strings.FieldsFunc(getenv("OIDC_SCOPES"), func(r rune) bool { return r == ' ' || r == ',' }),
		},
		Webhook: auth.WebhookConfig{
			SignatureHeader: getenv("SECONDME_WEBHOOK_SIGNATURE_HEADER"),
			TimestampHeader: getenv("SECONDME_WEBHOOK_TIMESTAMP_HEADER"),
			Algorithm:       getenv("SECONDME_WEBHOOK_ALGORITHM"),
		},
		Secrets: map[string]string{
			SecretSecondMeClient:  getenv("SECONDME_CLIENT_SECRET"),
			SecretOIDCClient:      getenv("OIDC_CLIENT_SECRET"),
			SecretWebhook:         getenv("SECONDME_WEBHOOK_SECRET"),
			SecretWebhookPrevious: getenv("SECONDME_WEBHOOK_PREVIOUS_SECRET"),
			SecretRunware:         getenv("RUNWARE_API_KEY"),
		},
		Chat: chat.Options{
			DailyQuota: p.int("CHAT_DAILY_QUOTA", 1, 1<<30), History: p.int("CHAT_HISTORY", 1, 1<<30),
			MaxReplyTokens: p.int("CHAT_MAX_REPLY_TOKENS", 1, 1<<30), ModelTimeout: p.duration("CHAT_MODEL_TIMEOUT", time.Nanosecond),
		},
		Matching: rematch.NightlyConfig{Config: rematch.Config{K: p.int("MATCH_K", 1, 100), ModelTop: p.int("MATCH_MODEL_TOP", 1, 100), ModelBand: p.int("MATCH_MODEL_BAND", 1, 100)}, Slice: p.int("REMATCH_SLICE", 1, 10_000_000)},
		Compat:   compat.Config{Messages: p.int("COMPAT_MESSAGES", 2, 20), ModelWeight: p.fraction("COMPAT_MODEL_WEIGHT"), ModelRange: p.int("COMPAT_MODEL_RANGE", 1, 50)},
		Model: ModelConfig{
			Timeout: p.duration("LLM_TIMEOUT", time.Nanosecond), SecondMeTwins: p.bool("LLM_SECONDME_TWINS"),
			SecondMe: llm.SecondMeConfig{BaseURL: getenv("SECONDME_BASE_URL"), Model: getenv("SECONDME_MODEL")},
		},
		NightlyInterval: cmp.Or(p.duration("NIGHTLY_INTERVAL", time.Nanosecond), DefaultNightlyInterval),
		Avatar:          AvatarConfig{Daily: p.int("AVATAR_DAILY", 1, 1000), MediaDir: getenv("MEDIA_DIR"), Model: getenv("RUNWARE_MODEL")},
	}
	c.Chat.Prompt.Budget = p.int("CHAT_PROMPT_BUDGET", 1, 1<<30)
	c.Matching.Budget = rematch.BudgetConfig{
		Window: p.duration("MATCH_WINDOW", time.Second), PersonCalls: p.int("MATCH_PERSON_CALLS", 1, 1<<30),
		NightlyCalls: p.int("MATCH_NIGHTLY_CALLS", 1, 1<<30), CallsPerPair: p.int("MATCH_CALLS_PER_PAIR", 1, 100),
	}
	if w := c.Matching.Budget.Window; w > rematch.MaxWindow {
		p.fail("MATCH_WINDOW", w.String(), "a duration of at most "+rematch.MaxWindow.String()+" (the longest SQS delay)")
	}
	c.AWS.Secrets.TTL = p.duration("SECRETS_TTL", time.Second)
	for _, v := range slices.Sorted(maps.Keys(secretVars)) {
		if arn := getenv(v); arn != "" {
			c.AWS.SecretARNs[secretVars[v]] = arn
		}
	}
	if len(providers) > 0 {
		p.model(&c, providers)
	}
	if err := errors.Join(p.errs...); err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// model chooses the provider and reads its settings, and whether SecondMe twins are on.
func (p *parser) model(c *Config, providers []llm.Provider) {
	set := llm.Values{} // every provider's settings as set, a secret's counting as set
	for _, pr := range providers {
		for name := range pr.Settings {
			if v := p.getenv(name); v != "" {
				set[name] = v
			}
		}
		for arnVar, name := range pr.Secrets {
			if arn := p.getenv(arnVar); arn != "" && set[name] == "" {
				set[name] = arn
				c.AWS.SecretARNs[name] = arn
				c.Model.FromSecrets = append(c.Model.FromSecrets, name)
			}
		}
	}
	chosen, err := llm.Choose(providers, p.getenv("LLM_PROVIDER"), set)
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("LLM_PROVIDER: %w", err))
		return
	}
	c.Model.Provider, c.Model.Values = chosen, llm.Values{}
	var fromSecrets []string
	for name := range chosen.Settings {
		if slices.Contains(c.Model.FromSecrets, name) {
			fromSecrets = append(fromSecrets, name)
		} else if v := p.getenv(name); v != "" {
			c.Model.Values[name] = v
		}
	}
	slices.Sort(fromSecrets)
	c.Model.FromSecrets = fromSecrets
	c.Model.SecondMeTwins = c.Model.SecondMeTwins || chosen.SecondMeTwins
	if c.Model.SecondMeTwins {
		if err := c.Model.SecondMe.Validate(); err != nil {
			p.errs = append(p.errs, fmt.Errorf("SECONDME_MODEL: %w", err))
		}
	}
}

// parser reads variables and collects what is wrong with them.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, v, want string) {
	p.errs = append(p.errs, fmt.Errorf("%s=%q: want %s", name, v, want))
}

// int reads a whole number from min to max; unset is 0 (the default of whoever takes it).
func (p *parser) int(name string, min, max int) int {
	v := p.getenv(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		if max == 1<<30 {
			p.fail(name, v, "a positive whole number")
		} else {
			p.fail(name, v, fmt.Sprintf("a whole number from %d to %d", min, max))
		}
		return 0
	}
	return n
}

// duration reads a duration of at least min; unset is 0.
func (p *parser) duration(name string, min time.Duration) time.Duration {
	v := p.getenv(name)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		if min >= time.Hour {
			p.fail(name, v, "a duration of at least "+strings.TrimSuffix(min.String(), "0m0s")+", such as 720h")
		} else {
			p.fail(name, v, "a positive duration such as 30s")
		}
		return 0
	}
	return d
}

// fraction reads a number above 0 and at most 1; unset is 0.
func (p *parser) fraction(name string) float64 {
	v := p.getenv(name)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 1 {
		p.fail(name, v, "a number above 0 and at most 1")
		return 0
	}
	return f
}

// bool reads true or false; unset is false.
func (p *parser) bool(name string) bool {
	v := p.getenv(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, v, "true or false")
	}
	return b
}

// publicURL reads an origin: http(s)://host[:port] with nothing after it (no path, not even "/").
func (p *parser) publicURL(name string) string {
	v := p.getenv(name)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		p.errs = append(p.errs, fmt.Errorf("%s=%q: %w", name, v, err))
	case u.Scheme != "https" && u.Scheme != "http":
		p.fail(name, v, "https://host or http://host[:port]")
	case u.Hostname() == "" || u.Host[len(u.Host)-1] == ':':
		p.fail(name, v, "a host, as in https://host[:port]")
	case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || u.ForceQuery:
		p.fail(name, v, "only scheme://host[:port], with no path, query or user")
	default:
		return v
	}
	return ""
}
