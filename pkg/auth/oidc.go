package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/secondme/twin/pkg/fault"
)

// OIDCConfig configures sign-in with any OpenID Connect provider (Cognito, Google, Keycloak, the
// local mock provider...).
type OIDCConfig struct {
	// Issuer is the issuer URL; discovery reads Issuer + "/.well-known/openid-configuration".
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this app's callback, GET /api/auth/callback.
	RedirectURL string
	// Scopes default to openid, profile and email ("openid" is always asked for).
	Scopes []string
	// HTTPClient makes discovery, token, key and userinfo calls (a client with a 15 s timeout when nil).
	HTTPClient *http.Client
	// Logger receives the sign-in's log lines (slog.Default() when nil).
	Logger *slog.Logger
}

// OIDCProfile is what sign-in learns of a person from the ID token and the userinfo endpoint.
type OIDCProfile struct {
	Subject string
	Name    string
	Picture string
	Email   string
}

// OIDC runs the authorization code flow with PKCE S256 against a discovered provider and verifies
// the ID token with go-oidc (signature, issuer, audience, expiry) and the nonce. Discovery happens on
// first use and is retried until it succeeds, so a provider that is down at start-up is not fatal.
type OIDC struct {
	cfg    OIDCConfig
	client *http.Client
	log    *slog.Logger

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    *oauth2.Config
}

// NewOIDC returns an OIDC sign-in for cfg.
func NewOIDC(cfg OIDCConfig) *OIDC {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	scopes := []string{oidc.ScopeOpenID}
	for _, s := range cfg.Scopes {
		if s != oidc.ScopeOpenID && s != "" {
			scopes = append(scopes, s)
		}
	}
	if len(cfg.Scopes) == 0 {
		scopes = append(scopes, "profile", "email")
	}
	cfg.Scopes = scopes
	return &OIDC{cfg: cfg, client: hc, log: loggerOr(cfg.Logger)}
}

// discover returns the provider's configuration, discovering it on first use.
func (o *OIDC) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, *oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.oauth, o.verifier, o.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.client), o.cfg.Issuer)
	if err != nil {
		o.log.ErrorContext(ctx, "oidc discovery failed", "issuer", o.cfg.Issuer, "err", err)
		return nil, nil, nil, fault.Unavailable("the sign-in provider cannot be reached; try again")
	}
	o.provider = p
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	o.oauth = &oauth2.Config{
		ClientID:     o.cfg.ClientID,
		ClientSecret: o.cfg.ClientSecret,
		Endpoint:     p.Endpoint(),
		RedirectURL:  o.cfg.RedirectURL,
		Scopes:       o.cfg.Scopes,
	}
	return o.oauth, o.verifier, o.provider, nil
}

// AuthCodeURL returns the provider's authorization URL with state, nonce, the PKCE S256 challenge of
// verifier and, when given, login_hint.
func (o *OIDC) AuthCodeURL(ctx context.Context, state, nonce, verifier, loginHint string) (string, error) {
	oc, _, _, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return oc.AuthCodeURL(state, opts...), nil
}

// Exchange trades the code (with the PKCE verifier) for tokens, verifies the ID token and its nonce,
// and returns the person's profile from the ID token, completed from userinfo when it lacks a name.
// A refused code is a 400, a token that fails verification a 401, an unreachable provider a 502/503.
func (o *OIDC) Exchange(ctx context.Context, code, verifier, nonce string) (OIDCProfile, error) {
	oc, v, p, err := o.discover(ctx)
	if err != nil {
		return OIDCProfile{}, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, o.client)
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			o.log.WarnContext(ctx, "oidc code refused", "status", re.Response.StatusCode, "oauth_error", re.ErrorCode)
			return OIDCProfile{}, fault.Invalid("code", "the sign-in provider refused the code; sign in again")
		}
		o.log.ErrorContext(ctx, "oidc code exchange failed", "err", err)
		return OIDCProfile{}, fault.Errorf(fault.CodeUpstreamUnavailable, "the sign-in provider did not answer; try again")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return OIDCProfile{}, fault.Errorf(fault.CodeUpstreamUnavailable, "the sign-in provider sent no ID token")
	}
	idt, err := v.Verify(oidc.ClientContext(ctx, o.client), raw)
	if err != nil {
		o.log.WarnContext(ctx, "oidc id token refused", "err", err)
		return OIDCProfile{}, fault.Errorf(fault.CodeUnauthenticated, "the identity token could not be verified; sign in again")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 || nonce == "" {
		o.log.WarnContext(ctx, "oidc id token nonce mismatch")
		return OIDCProfile{}, fault.Errorf(fault.CodeUnauthenticated, "the identity token is not for this sign-in; sign in again")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return OIDCProfile{}, fault.Errorf(fault.CodeUnauthenticated, "the identity token does not match the access token")
		}
	}
	var c profileClaims
	if err := idt.Claims(&c); err != nil {
		return OIDCProfile{}, fault.Errorf(fault.CodeUnauthenticated, "the identity token has malformed claims")
	}
	if c.name() == "" && p.UserInfoEndpoint() != "" {
		if ui, err := p.UserInfo(oidc.ClientContext(ctx, o.client), oauth2.StaticTokenSource(tok)); err == nil && ui.Subject == idt.Subject {
			var more profileClaims
			if ui.Claims(&more) == nil {
				c = c.merge(more)
			}
		} else if err != nil {
			o.log.WarnContext(ctx, "oidc userinfo failed; going on with the ID token", "err", err)
		}
	}
	return OIDCProfile{Subject: idt.Subject, Name: c.name(), Picture: httpsOrEmpty(c.Picture), Email: c.Email}, nil
}

// profileClaims are the standard claims sign-in reads.
type profileClaims struct {
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Nickname          string `json:"nickname"`
	GivenName         string `json:"given_name"`
	Picture           string `json:"picture"`
	Email             string `json:"email"`
}

// name picks the display name: name, preferred_username, nickname, given_name, then the email's local part.
func (c profileClaims) name() string {
	for _, s := range []string{c.Name, c.PreferredUsername, c.Nickname, c.GivenName} {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	if local, _, ok := strings.Cut(c.Email, "@"); ok {
		return strings.TrimSpace(local)
	}
	return ""
}

// merge fills c's empty claims from more.
func (c profileClaims) merge(more profileClaims) profileClaims {
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&c.Name, more.Name)
	fill(&c.PreferredUsername, more.PreferredUsername)
	fill(&c.Nickname, more.Nickname)
	fill(&c.GivenName, more.GivenName)
	fill(&c.Picture, more.Picture)
	fill(&c.Email, more.Email)
	return c
}

// httpsOrEmpty keeps an absolute https URL and drops anything else (avatars must be https).
func httpsOrEmpty(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(s) > 2048 {
		return ""
	}
	return u.String()
}
