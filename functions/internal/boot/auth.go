package boot

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/secondme"
)

// Sessions returns the login sessions over st. SESSION_TTL (a duration, default 720h) is how long
// an unused session lives. It needs no secret: any function that only checks sign-in uses it.
func Sessions(getenv func(string) string, st auth.SessionStore) (*auth.Sessions, error) {
	var ttl time.Duration
	if v := getenv("SESSION_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour {
			return nil, fmt.Errorf("SESSION_TTL=%q: want a duration of at least 1h, such as 720h", v)
		}
		ttl = d
	}
	return auth.NewSessions(st, ttl, nil), nil
}

// Auth returns the sign-in service of docs/auth.md. Its secrets come from Secrets Manager, read
// once at init (see readSecrets): the sealing key (always), the SecondMe client secret (with
// SECONDME_CLIENT_ID) and the OIDC client secret (with OIDC_ISSUER). SecondMe sign-in is on when
// SECONDME_CLIENT_ID is set, OIDC sign-in when OIDC_ISSUER is set. rematch may be nil.
func Auth(ctx context.Context, getenv func(string) string, st auth.Store, rematch auth.Rematcher) (*auth.Service, error) {
	sec, err := readSecrets(ctx, getenv, authSecrets(getenv))
	if err != nil {
		return nil, err
	}
	return newAuth(getenv, st, rematch, sec)
}

// AuthWithWebhook is Auth plus the SecondMe revocation webhook receiver, for the auth function, with
// every secret read once; SecondMe sign-in there also needs SECONDME_REDIRECT_URL. The webhook secret comes from SECONDME_WEBHOOK_SECRET_ARN or the field
// secondmeWebhookSecret of SECRETS_ARN (neither: every delivery is refused with 503). The header
// names come from SECONDME_WEBHOOK_SIGNATURE_HEADER and SECONDME_WEBHOOK_TIMESTAMP_HEADER, the
// algorithm from SECONDME_WEBHOOK_ALGORITHM (hmac-sha256-hex or hmac-sha256-base64).
func AuthWithWebhook(ctx context.Context, getenv func(string) string, st auth.Store, rematch auth.Rematcher) (*auth.Service, *auth.Webhook, error) {
	if getenv("SECONDME_CLIENT_ID") != "" && getenv("SECONDME_REDIRECT_URL") == "" {
		return nil, nil, fmt.Errorf("SECONDME_REDIRECT_URL is not set (SECONDME_CLIENT_ID is)")
	}
	want := authSecrets(getenv)
	want["SECONDME_WEBHOOK_SECRET_ARN"] = optional
	if getenv("SECONDME_WEBHOOK_SECRET_ARN") != "" {
		want["SECONDME_WEBHOOK_SECRET_ARN"] = required
	}
	sec, err := readSecrets(ctx, getenv, want)
	if err != nil {
		return nil, nil, err
	}
	svc, err := newAuth(getenv, st, rematch, sec)
	if err != nil {
		return nil, nil, err
	}
	wh, err := auth.NewWebhook(st, auth.WebhookConfig{
		Secret:          []byte(sec["SECONDME_WEBHOOK_SECRET_ARN"]),
		SignatureHeader: getenv("SECONDME_WEBHOOK_SIGNATURE_HEADER"),
		TimestampHeader: getenv("SECONDME_WEBHOOK_TIMESTAMP_HEADER"),
		Algorithm:       getenv("SECONDME_WEBHOOK_ALGORITHM"),
	})
	if err != nil {
		return nil, nil, err
	}
	return svc, wh, nil
}

// authSecrets are the secrets Auth needs.
func authSecrets(getenv func(string) string) map[string]need {
	want := map[string]need{"SEALING_KEY_SECRET_ARN": required}
	if getenv("SECONDME_CLIENT_ID") != "" {
		want["SECONDME_CLIENT_SECRET_ARN"] = required
	}
	if getenv("OIDC_ISSUER") != "" {
		want["OIDC_CLIENT_SECRET_ARN"] = required
	}
	return want
}

// newAuth builds the sign-in service from the environment and the secrets read.
func newAuth(getenv func(string) string, st auth.Store, rematch auth.Rematcher, sec map[string]string) (*auth.Service, error) {
	smOn, oidcOn := getenv("SECONDME_CLIENT_ID") != "", getenv("OIDC_ISSUER") != ""
	key, err := auth.ParseKey(sec["SEALING_KEY_SECRET_ARN"])
	if err != nil {
		return nil, fmt.Errorf("the sealing key (SEALING_KEY_SECRET_ARN, or sealingKey in SECRETS_ARN): %w", err)
	}
	sealer, err := auth.NewSealer(key)
	if err != nil {
		return nil, err
	}
	sessions, err := Sessions(getenv, st)
	if err != nil {
		return nil, err
	}
	opts := auth.Options{Rematcher: rematch}
	if smOn {
		cfg, err := SecondMeConfig(getenv)
		if err != nil {
			return nil, err
		}
		cfg.ClientSecret = sec["SECONDME_CLIENT_SECRET_ARN"]
		opts.SecondMe = secondme.New(cfg)
	}
	if oidcOn {
		for _, k := range []string{"OIDC_CLIENT_ID", "OIDC_REDIRECT_URL"} {
			if getenv(k) == "" {
				return nil, fmt.Errorf("%s is not set (OIDC_ISSUER is)", k)
			}
		}
		opts.OIDC = auth.NewOIDC(auth.OIDCConfig{
			Issuer: getenv("OIDC_ISSUER"), ClientID: getenv("OIDC_CLIENT_ID"), ClientSecret: sec["OIDC_CLIENT_SECRET_ARN"],
			RedirectURL: getenv("OIDC_REDIRECT_URL"), Scopes: strings.FieldsFunc(getenv("OIDC_SCOPES"), func(r rune) bool { return r == ' ' || r == ',' }),
		})
	}
	return auth.New(st, sealer, sessions, opts), nil
}

// SecondMeConfig reads the SecondMe client settings but its secret: SECONDME_CLIENT_ID (required),
// SECONDME_REDIRECT_URL (needed for sign-in, not for refresh and sync), SECONDME_BASE_URL and
// SECONDME_AUTHORIZE_URL (defaults of docs/secondme-api.md).
func SecondMeConfig(getenv func(string) string) (secondme.Config, error) {
	if getenv("SECONDME_CLIENT_ID") == "" {
		return secondme.Config{}, fmt.Errorf("SECONDME_CLIENT_ID is not set")
	}
	return secondme.Config{
		BaseURL:      getenv("SECONDME_BASE_URL"),
		AuthorizeURL: getenv("SECONDME_AUTHORIZE_URL"),
		ClientID:     getenv("SECONDME_CLIENT_ID"),
		RedirectURL:  getenv("SECONDME_REDIRECT_URL"),
	}, nil
}

// secretFields name, for each secret variable, its field in the SECRETS_ARN JSON object.
var secretFields = map[string]string{
	"SEALING_KEY_SECRET_ARN":      "sealingKey",
	"SECONDME_CLIENT_SECRET_ARN":  "secondmeClientSecret",
	"OIDC_CLIENT_SECRET_ARN":      "oidcClientSecret",
	"SECONDME_WEBHOOK_SECRET_ARN": "secondmeWebhookSecret",
	"ORIGIN_VERIFY_SECRET_ARN":    "originVerify",
}

// need says whether a secret must be there.
type need int

const (
	required need = iota
	optional
)

// readSecrets reads the wanted secrets, each from the secret its own variable names (a plain string)
// or else from its field of the application secret SECRETS_ARN (one JSON object). The reads run
// concurrently and each secret is read once in the process, however many calls want its fields (see
// secretValues). The result maps each variable found to its value; a required one missing is an error.
func readSecrets(ctx context.Context, getenv func(string) string, want map[string]need) (map[string]string, error) {
	keys := slices.Sorted(maps.Keys(want)) // a fixed order, so the same configuration gives the same error
	arns := map[string]string{}            // secret ARN -> a variable read from it
	var names []string
	for _, k := range keys {
		n := want[k]
		arn := getenv(k)
		if arn == "" {
			arn = getenv("SECRETS_ARN")
		}
		if arn == "" {
			if n == optional {
				continue
			}
			return nil, fmt.Errorf("%s is not set, nor SECRETS_ARN (with the field %q)", k, secretFields[k])
		}
		if _, ok := arns[arn]; !ok {
			names = append(names, arn)
		}
		arns[arn] = k
	}
	values, err := secretValues(ctx, getenv, names)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var app map[string]string
	for _, k := range keys {
		n := want[k]
		if arn := getenv(k); arn != "" {
			out[k] = strings.TrimSpace(values[arn])
			continue
		}
		if getenv("SECRETS_ARN") == "" {
			continue // optional and nowhere
		}
		if app == nil {
			if err := json.Unmarshal([]byte(values[getenv("SECRETS_ARN")]), &app); err != nil {
				return nil, fmt.Errorf("SECRETS_ARN: the secret is not a JSON object of strings")
			}
		}
		v := strings.TrimSpace(app[secretFields[k]])
		if v == "" && n == optional {
			continue
		}
		if v == "" {
			return nil, fmt.Errorf("SECRETS_ARN: the secret has no %q (or set %s)", secretFields[k], k)
		}
		out[k] = v
	}
	return out, nil
}

// secretsRead holds the value of every secret this process has read, by ARN: a function whose wiring
// wants fields of one secret in two places (the sign-in service and the edge) reads it once, at init.
var secretsRead = struct {
	sync.Mutex
	values map[string]string
}{values: map[string]string{}}

// secretValues returns the values of the secrets arns, reading concurrently those not read before.
func secretValues(ctx context.Context, getenv func(string) string, arns []string) (map[string]string, error) {
	values := map[string]string{}
	var unread []string
	secretsRead.Lock()
	for _, arn := range arns {
		if v, ok := secretsRead.values[arn]; ok {
			values[arn] = v
		} else {
			unread = append(unread, arn)
		}
	}
	secretsRead.Unlock()
	if len(unread) == 0 {
		return values, nil
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = map[string]error{}
	)
	for _, arn := range unread {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := SecretString(ctx, cfg, arn)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[arn] = err
				return
			}
			values[arn] = v
		}()
	}
	wg.Wait()
	for _, arn := range unread {
		if err := errs[arn]; err != nil {
			return nil, err
		}
	}
	secretsRead.Lock()
	for _, arn := range unread {
		secretsRead.values[arn] = values[arn]
	}
	secretsRead.Unlock()
	return values, nil
}
