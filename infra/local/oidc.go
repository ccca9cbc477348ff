package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/secondme/twin/infra/demo"
	"github.com/secondme/twin/pkg/api/authapi"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/secondme"
)

// wireAuth adds the auth routes on the same pkg/auth code the auth Lambda runs. People sign in through
// a standard OpenID Connect provider: OIDC_ISSUER when set (with OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
// OIDC_SCOPES), else the demo's mock provider (infra/demo) on 127.0.0.1 where login_hint=<persona id>
// signs in as that demo persona and login_hint=new:<nickname> signs up a new person. SecondMe sign-in is on
// when SECONDME_CLIENT_ID is set (with SECONDME_CLIENT_SECRET, SECONDME_BASE_URL,
// SECONDME_AUTHORIZE_URL). The sealing key is made once and kept in DATA_DIR/sealing.key; the
// webhook secret is SECONDME_WEBHOOK_SECRET. It sets the stack's authenticator and syncer.
func wireAuth(ctx context.Context, s *stack) error {
	key, err := auth.LoadOrCreateKeyFile(filepath.Join(s.dataDir, "sealing.key"))
	if err != nil {
		return err
	}
	sealer, err := auth.NewSealer(key)
	if err != nil {
		return err
	}
	callback := s.baseURL + "/api/auth/callback"
	oidcCfg := auth.OIDCConfig{
		Issuer: s.getenv("OIDC_ISSUER"), ClientID: s.getenv("OIDC_CLIENT_ID"), ClientSecret: s.getenv("OIDC_CLIENT_SECRET"),
		RedirectURL: callback, Scopes: strings.Fields(strings.ReplaceAll(s.getenv("OIDC_SCOPES"), ",", " ")),
	}
	if oidcCfg.Issuer == "" {
		personas, err := demo.Personas()
		if err != nil {
			return err
		}
		mock, err := demo.StartProvider(personas)
		if err != nil {
			return err
		}
		s.onClose(func(context.Context) error { return mock.Close() })
		oidcCfg.Issuer, oidcCfg.ClientID, oidcCfg.ClientSecret = mock.Issuer(), mock.ClientID, mock.ClientSecret
		slog.InfoContext(ctx, "mock OpenID Connect provider ready", "issuer", mock.Issuer())
	}
	opts := auth.Options{OIDC: auth.NewOIDC(oidcCfg), Rematcher: s.rematch}
	if s.getenv("SECONDME_CLIENT_ID") != "" {
		opts.SecondMe = secondme.New(secondme.Config{
			BaseURL: s.getenv("SECONDME_BASE_URL"), AuthorizeURL: s.getenv("SECONDME_AUTHORIZE_URL"),
			ClientID: s.getenv("SECONDME_CLIENT_ID"), ClientSecret: s.getenv("SECONDME_CLIENT_SECRET"), RedirectURL: callback,
		})
	}
	svc := auth.New(s.store, sealer, auth.NewSessions(s.store, 0, nil), opts)
	webhook, err := auth.NewWebhook(s.store, auth.WebhookConfig{
		Secret:          []byte(s.getenv("SECONDME_WEBHOOK_SECRET")),
		SignatureHeader: s.getenv("SECONDME_WEBHOOK_SIGNATURE_HEADER"),
		TimestampHeader: s.getenv("SECONDME_WEBHOOK_TIMESTAMP_HEADER"),
		Algorithm:       s.getenv("SECONDME_WEBHOOK_ALGORITHM"),
	})
	if err != nil {
		return err
	}
	authapi.New(svc, webhook).Register(s.router)
	s.auth, s.sync = svc, svc
	return nil
}
