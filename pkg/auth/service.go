// Package auth signs people in and keeps them signed in: SecondMe OAuth2 and generic OpenID Connect
// (go-oidc, PKCE S256), a sealed single-use login state, login sessions in the sm_session cookie, the
// sealing of provider tokens at rest (AES-256-GCM), their single-flight refresh, the re-import of a
// person's SecondMe profile, and the signed revocation webhook.
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/secondme"
	"github.com/secondme/twin/pkg/store"
)

// Where the callback sends a browser whose sign-in the provider refused.
const (
	DeniedRedirect = "/?error=access_denied"
	FailedRedirect = "/?error=sign_in_failed"
)

// Options are the optional parts of a Service.
type Options struct {
	// SecondMe enables sign-in with SecondMe (nil: disabled).
	SecondMe *secondme.Client
	// OIDC enables sign-in with an OpenID Connect provider (nil: disabled).
	OIDC *OIDC
	// Rematcher is told after every sign-in (nil: nobody).
	Rematcher Rematcher
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives the service's log lines (slog.Default() when nil).
	Logger *slog.Logger
	// Avatars copies the profile picture of a new person and of a sync into our own media storage
	// (avatar.Service); nil keeps the picture's URL as the provider gave it.
	Avatars AvatarImporter
}

// AvatarImporter copies a profile picture into our own media storage.
type AvatarImporter interface {
	// Import returns the avatar a person keeps for the picture at src, given their current one: a copy
	// on our origin, or current (a portrait they made here). On an error the caller keeps current.
	Import(ctx context.Context, userID, current, src string) (string, error)
}

// Service runs the sign-in flows, keeps SecondMe tokens fresh and re-imports SecondMe profiles.
type Service struct {
	st       Store
	sealer   *Sealer
	sessions *Sessions
	sm       *secondme.Client
	oidc     *OIDC
	rematch  Rematcher
	now      func() time.Time
	log      *slog.Logger
	flight   singleflight.Group
	avatars  AvatarImporter
}

// New returns a Service.
func New(st Store, sealer *Sealer, sessions *Sessions, opts Options) *Service {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Service{st: st, sealer: sealer, sessions: sessions, sm: opts.SecondMe, oidc: opts.OIDC,
		rematch: opts.Rematcher, now: now, log: loggerOr(opts.Logger), avatars: opts.Avatars}
}

// importAvatar returns the avatar to keep for the provider's picture src: its copy in our storage,
// or current when the copy fails (logged; the picture is never hot-linked then).
func (s *Service) importAvatar(ctx context.Context, userID, current, src string) string {
	if s.avatars == nil {
		return src
	}
	got, err := s.avatars.Import(ctx, userID, current, src)
	if err != nil {
		s.log.WarnContext(ctx, "profile picture not copied; the avatar stays as it was", "user_id", userID, "err", err)
		return current
	}
	return got
}

// Authenticate finds the signed-in person through the service's login sessions (Sessions.Authenticate),
// so that one value can serve as the authenticator, the SecondMe token source and the syncer.
func (s *Service) Authenticate(w http.ResponseWriter, r *http.Request) (string, error) {
	return s.sessions.Authenticate(w, r)
}

// LoginRequest is a validated GET /api/auth/login.
type LoginRequest struct {
	// Provider is store.ProviderSecondMe or store.ProviderOIDC.
	Provider string
	// ReturnTo is where to go after sign-in; anything but a same-site path becomes "/".
	ReturnTo string
	// LoginHint is passed to an OIDC provider as login_hint.
	LoginHint string
}

// Providers names the sign-in providers configured here, in the order a sign-in page offers them.
func (s *Service) Providers() []string {
	providers := []string{}
	if s.sm != nil {
		providers = append(providers, store.ProviderSecondMe)
	}
	if s.oidc != nil {
		providers = append(providers, store.ProviderOIDC)
	}
	return providers
}

// Login starts a sign-in: it puts a fresh state (and for OIDC a nonce and a PKCE verifier) with the
// returnTo in the sealed login-state cookie and redirects (302) to the provider.
func (s *Service) Login(w http.ResponseWriter, r *http.Request, req LoginRequest) error {
	st := loginState{State: randomToken(), Provider: req.Provider, ReturnTo: SafeReturnTo(req.ReturnTo),
		Expires: s.now().Add(StateTTL).Unix()}
	var target string
	switch req.Provider {
	case store.ProviderSecondMe:
		if s.sm == nil {
			return fault.Invalid("provider", "sign-in with SecondMe is not configured here")
		}
		target = s.sm.AuthCodeURL(st.State)
	case store.ProviderOIDC:
		if s.oidc == nil {
			return fault.Invalid("provider", "sign-in with OpenID Connect is not configured here")
		}
		st.Nonce, st.Verifier = randomToken(), oauth2.GenerateVerifier()
		var err error
		if target, err = s.oidc.AuthCodeURL(r.Context(), st.State, st.Nonce, st.Verifier, req.LoginHint); err != nil {
			return err
		}
	default:
		return fault.Invalid("provider", "must be secondme or oidc")
	}
	writeState(w, r, s.sealer, st)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// Callback finishes a sign-in (GET /api/auth/callback). The state must match the login-state cookie
// and may be used once (400 otherwise). A refusal by the person (error=access_denied) redirects to
// DeniedRedirect, another provider error to FailedRedirect, both without a session. Then the code is
// exchanged, the person found or created, a session started, a rematch scheduled and the browser
// sent to its returnTo.
func (s *Service) Callback(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	st, err := readState(w, r, s.sealer, s.now())
	if err != nil {
		return err
	}
	if err := s.st.ClaimEvent(ctx, stateEventID(st.State), time.Unix(st.Expires, 0).Add(time.Minute)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return errStateUsed
		}
		return fmt.Errorf("claim login state: %w", err)
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		s.log.InfoContext(ctx, "sign-in refused by the provider", "provider", st.Provider, "oauth_error", clipText(e, 64, false))
		target := FailedRedirect
		if e == "access_denied" {
			target = DeniedRedirect
		}
		http.Redirect(w, r, target, http.StatusFound)
		return nil
	}
	code := q.Get("code")
	if code == "" {
		return fault.Invalid("code", "required")
	}
	var userID string
	var created bool
	switch st.Provider {
	case store.ProviderSecondMe:
		if s.sm == nil {
			return fault.Invalid("provider", "sign-in with SecondMe is not configured here")
		}
		userID, created, err = s.secondMeSignIn(ctx, code)
	case store.ProviderOIDC:
		if s.oidc == nil {
			return fault.Invalid("provider", "sign-in with OpenID Connect is not configured here")
		}
		userID, created, err = s.oidcSignIn(ctx, code, st)
	default:
		return errNoState
	}
	if err != nil {
		return err
	}
	if err := s.sessions.Start(ctx, w, r, userID); err != nil {
		return err
	}
	s.log.InfoContext(ctx, "signed in", "provider", st.Provider, "user_id", userID, "new", created)
	if s.rematch != nil {
		if err := s.rematch.Rematch(ctx, userID); err != nil {
			s.log.WarnContext(ctx, "rematch after sign-in failed", "user_id", userID, "err", err)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, st.ReturnTo, http.StatusFound)
	return nil
}

// Logout ends the browser's login session server-side and clears the cookie.
func (s *Service) Logout(w http.ResponseWriter, r *http.Request) error {
	return s.sessions.End(w, r)
}

// secondMeSignIn exchanges the code, reads the app-scoped identity and finds or creates the person.
// A new person's profile, shades and memories are imported; a returning person keeps their profile
// (POST /api/user/sync re-imports it) and gets fresh tokens.
func (s *Service) secondMeSignIn(ctx context.Context, code string) (userID string, created bool, err error) {
	tok, err := s.sm.ExchangeCode(ctx, code)
	if err != nil {
		return "", false, s.exchangeError(ctx, err)
	}
	me, err := s.sm.Me(ctx, tok.AccessToken)
	if err != nil {
		return "", false, s.upstreamError(ctx, "read your SecondMe identity", err)
	}
	now := s.now().UTC()
	subject := me.Subject()
	sealed, expires, err := s.sealTokens(subject, storedTokensOf(tok, "", now))
	if err != nil {
		return "", false, err
	}
	ident, err := s.st.GetIdentity(ctx, store.ProviderSecondMe, subject)
	switch {
	case err == nil:
		ident.SealedTokens, ident.TokenExpiresAt, ident.Revoked, ident.UpdatedAt = sealed, expires, false, now
		if err := s.st.PutIdentity(ctx, ident); err != nil {
			return "", false, fmt.Errorf("store secondme tokens: %w", err)
		}
		made, err := s.ensureUser(ctx, ident.UserID, func() (store.User, error) { return s.newSecondMeUser(ctx, ident.UserID, tok.AccessToken) })
		return ident.UserID, made, err
	case !errors.Is(err, store.ErrNotFound):
		return "", false, fmt.Errorf("get secondme identity: %w", err)
	}
	userID = id.New()
	u, err := s.newSecondMeUser(ctx, userID, tok.AccessToken)
	if err != nil {
		return "", false, err
	}
	ident = store.Identity{Provider: store.ProviderSecondMe, Subject: subject, UserID: userID, SealedTokens: sealed,
		TokenExpiresAt: expires, CreatedAt: now, UpdatedAt: now}
	userID, err = s.claimIdentity(ctx, ident)
	if err != nil {
		return "", false, err
	}
	if userID != u.ID { // another sign-in of the same person won the race
		made, err := s.ensureUser(ctx, userID, func() (store.User, error) { u.ID = userID; return u, nil })
		return userID, made, err
	}
	made, err := s.ensureUser(ctx, userID, func() (store.User, error) { return u, nil })
	return userID, made, err
}

// newSecondMeUser builds a new person from their SecondMe profile, shades and memories.
func (s *Service) newSecondMeUser(ctx context.Context, userID, accessToken string) (store.User, error) {
	now := s.now().UTC()
	imp, err := s.fetch(ctx, accessToken, userID, now)
	if err != nil {
		return store.User{}, err
	}
	imp.Avatar = s.importAvatar(ctx, userID, "", imp.Avatar)
	return newUser(userID, store.ProviderSecondMe, imp, now), nil
}

// oidcSignIn verifies the OIDC sign-in and finds or creates the person. Provider tokens are not kept:
// nothing calls the OIDC provider after sign-in.
func (s *Service) oidcSignIn(ctx context.Context, code string, st loginState) (string, bool, error) {
	p, err := s.oidc.Exchange(ctx, code, st.Verifier, st.Nonce)
	if err != nil {
		return "", false, err
	}
	if p.Subject == "" {
		return "", false, fault.Errorf(fault.CodeUnauthenticated, "the identity token has no subject")
	}
	now := s.now().UTC()
	build := func(userID string) func() (store.User, error) {
		return func() (store.User, error) {
			nick := clipText(p.Name, 64, false)
			if nick == "" {
				nick = "New person"
			}
			pic := s.importAvatar(ctx, userID, "", p.Picture)
			return newUser(userID, store.ProviderOIDC, imported{Nickname: nick, Avatar: pic}, now), nil
		}
	}
	ident, err := s.st.GetIdentity(ctx, store.ProviderOIDC, p.Subject)
	switch {
	case err == nil:
		made, err := s.ensureUser(ctx, ident.UserID, build(ident.UserID))
		return ident.UserID, made, err
	case !errors.Is(err, store.ErrNotFound):
		return "", false, fmt.Errorf("get oidc identity: %w", err)
	}
	userID, err := s.claimIdentity(ctx, store.Identity{Provider: store.ProviderOIDC, Subject: p.Subject, UserID: id.New(),
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		return "", false, err
	}
	made, err := s.ensureUser(ctx, userID, build(userID))
	return userID, made, err
}

// claimIdentity creates an identity conditionally and returns its user id. When the identity exists
// already (a concurrent sign-in of the same person), it returns the stored one's user id instead, so
// one identity never makes two people.
func (s *Service) claimIdentity(ctx context.Context, ident store.Identity) (string, error) {
	err := s.st.CreateIdentity(ctx, ident)
	if err == nil {
		return ident.UserID, nil
	}
	if !errors.Is(err, store.ErrConflict) {
		return "", fmt.Errorf("create identity: %w", err)
	}
	cur, err := s.st.GetIdentity(ctx, ident.Provider, ident.Subject)
	if err != nil {
		return "", fmt.Errorf("re-read identity: %w", err)
	}
	if len(ident.SealedTokens) > 0 {
		cur.SealedTokens, cur.TokenExpiresAt, cur.Revoked, cur.UpdatedAt = ident.SealedTokens, ident.TokenExpiresAt, false, ident.UpdatedAt
		if err := s.st.PutIdentity(ctx, cur); err != nil {
			return "", fmt.Errorf("store tokens: %w", err)
		}
	}
	return cur.UserID, nil
}

// ensureUser makes sure the identity's person exists, creating it with build when it does not (the
// first sign-in, or a retry after a failure between the identity and the user). It reports whether
// it created the person.
func (s *Service) ensureUser(ctx context.Context, userID string, build func() (store.User, error)) (bool, error) {
	_, err := s.st.GetUser(ctx, userID)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("get user: %w", err)
	}
	u, err := build()
	if err != nil {
		return false, err
	}
	if err := s.st.CreateUser(ctx, u); err != nil && !errors.Is(err, store.ErrConflict) {
		return false, fmt.Errorf("create user: %w", err)
	}
	return true, nil
}

// newUser returns a new person. New people are private until they choose otherwise: not
// discoverable and their twin not open to others (docs/auth.md).
func newUser(userID, provider string, imp imported, now time.Time) store.User {
	return store.User{
		ID: userID, Nickname: imp.Nickname, Avatar: imp.Avatar, Bio: imp.Bio, Provider: provider,
		Shades: imp.Shades, Memories: imp.Memories, ProfileVersion: 1, ProfileChangedAt: now,
		CreatedAt: now, UpdatedAt: now,
	}
}

// exchangeError turns a refused code exchange into a clear client error.
func (s *Service) exchangeError(ctx context.Context, err error) error {
	sub := secondme.SubCodeOf(err)
	switch {
	case secondme.IsCodeInvalid(err):
		s.log.InfoContext(ctx, "secondme code refused", "sub_code", sub)
		why := map[string]string{
			secondme.SubCodeExpired: "expired (codes last 5 minutes)",
			secondme.SubCodeUsed:    "already used",
		}[sub]
		if why == "" {
			why = "not valid"
		}
		return fault.Invalid("code", "SecondMe says the sign-in code is "+why+" ("+sub+"); sign in again")
	case secondme.IsMisconfigured(err):
		s.log.ErrorContext(ctx, "secondme refused this app's configuration", "sub_code", sub, "err", err)
		return fault.Errorf(fault.CodeUpstreamUnavailable, "SecondMe refused this app's sign-in settings (%s); the operator must fix the configuration", sub)
	}
	return s.upstreamError(ctx, "exchange the sign-in code with SecondMe", err)
}

// upstreamError turns a failed SecondMe call into upstream_unavailable (503 when it may pass).
func (s *Service) upstreamError(ctx context.Context, what string, err error) error {
	s.log.WarnContext(ctx, "secondme call failed", "what", what, "sub_code", secondme.SubCodeOf(err), "err", err)
	return &fault.Error{Code: fault.CodeUpstreamUnavailable, Message: "could not " + what + "; try again",
		Temporary: secondme.IsTemporary(err) || ctx.Err() != nil}
}

// loggerOr returns l, or slog.Default() when l is nil.
func loggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
