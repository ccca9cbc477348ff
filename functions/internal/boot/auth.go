package boot

import (
	"context"
	"fmt"
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
// once, concurrently: SEALING_KEY_SECRET_ARN (required), SECONDME_CLIENT_SECRET_ARN (with
// SECONDME_CLIENT_ID) and OIDC_CLIENT_SECRET_ARN (with OIDC_ISSUER). SecondMe sign-in is on when
// SECONDME_CLIENT_ID is set, OIDC sign-in when OIDC_ISSUER is set. rematch may be nil.
func Auth(ctx context.Context, getenv func(string) string, st auth.Store, rematch auth.Rematcher) (*auth.Service, error) {
	smOn, oidcOn := getenv("SECONDME_CLIENT_ID") != "", getenv("OIDC_ISSUER") != ""
	want := map[string]bool{"SEALING_KEY_SECRET_ARN": true, "SECONDME_CLIENT_SECRET_ARN": smOn, "OIDC_CLIENT_SECRET_ARN": oidcOn}
	sec, err := readSecrets(ctx, getenv, want)
	if err != nil {
		return nil, err
	}
	key, err := auth.ParseKey(sec["SEALING_KEY_SECRET_ARN"])
	if err != nil {
		return nil, fmt.Errorf("SEALING_KEY_SECRET_ARN: %w", err)
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

// SecondMeConfig reads the SecondMe client settings but its secret: SECONDME_CLIENT_ID and
// SECONDME_REDIRECT_URL (required), SECONDME_BASE_URL and SECONDME_AUTHORIZE_URL (defaults of
// SECONDME_API.md).
func SecondMeConfig(getenv func(string) string) (secondme.Config, error) {
	for _, k := range []string{"SECONDME_CLIENT_ID", "SECONDME_REDIRECT_URL"} {
		if getenv(k) == "" {
			return secondme.Config{}, fmt.Errorf("%s is not set", k)
		}
	}
	return secondme.Config{
		BaseURL:      getenv("SECONDME_BASE_URL"),
		AuthorizeURL: getenv("SECONDME_AUTHORIZE_URL"),
		ClientID:     getenv("SECONDME_CLIENT_ID"),
		RedirectURL:  getenv("SECONDME_REDIRECT_URL"),
	}, nil
}

// Webhook returns the SecondMe revocation webhook receiver: the secret from
// SECONDME_WEBHOOK_SECRET_ARN (unset: every delivery is refused with 503), the header names from
// SECONDME_WEBHOOK_SIGNATURE_HEADER and SECONDME_WEBHOOK_TIMESTAMP_HEADER, the algorithm from
// SECONDME_WEBHOOK_ALGORITHM (hmac-sha256-hex or hmac-sha256-base64).
func Webhook(ctx context.Context, getenv func(string) string, st auth.IdentityStore) (*auth.Webhook, error) {
	cfg := auth.WebhookConfig{
		SignatureHeader: getenv("SECONDME_WEBHOOK_SIGNATURE_HEADER"),
		TimestampHeader: getenv("SECONDME_WEBHOOK_TIMESTAMP_HEADER"),
		Algorithm:       getenv("SECONDME_WEBHOOK_ALGORITHM"),
	}
	if getenv("SECONDME_WEBHOOK_SECRET_ARN") != "" {
		sec, err := readSecrets(ctx, getenv, map[string]bool{"SECONDME_WEBHOOK_SECRET_ARN": true})
		if err != nil {
			return nil, err
		}
		cfg.Secret = []byte(sec["SECONDME_WEBHOOK_SECRET_ARN"])
	}
	return auth.NewWebhook(st, cfg)
}

// readSecrets reads, concurrently, the secrets whose ARNs the wanted variables name; a wanted
// variable that is unset is an error. The result maps each variable to its secret's value.
func readSecrets(ctx context.Context, getenv func(string) string, want map[string]bool) (map[string]string, error) {
	var names []string
	for k, on := range want {
		if !on {
			continue
		}
		if getenv(k) == "" {
			return nil, fmt.Errorf("%s is not set", k)
		}
		names = append(names, k)
	}
	if len(names) == 0 {
		return map[string]string{}, nil
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		out  = map[string]string{}
		errs []error
	)
	for _, k := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := SecretString(ctx, cfg, getenv(k))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
				return
			}
			out[k] = strings.TrimSpace(v)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return out, nil
}
