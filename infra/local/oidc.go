package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/secondme/twin/pkg/api/authapi"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/secondme"
	"github.com/secondme/twin/pkg/store"
)

// newHintPrefix makes login_hint=new:<nickname> sign up a new person.
const newHintPrefix = "new:"

// wireAuth adds the auth routes on the same pkg/auth code the auth Lambda runs. People sign in through
// a standard OpenID Connect provider: OIDC_ISSUER when set (with OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
// OIDC_SCOPES), else a mock provider (mockoidc) on 127.0.0.1 where login_hint=<persona id> signs in
// as that demo persona and login_hint=new:<nickname> signs up a new person. SecondMe sign-in is on
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
		personas, err := loadPersonas()
		if err != nil {
			return err
		}
		mock, err := startMockOIDC(personas)
		if err != nil {
			return err
		}
		s.onClose(func(context.Context) error { return mock.Shutdown() })
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

// startMockOIDC starts mockoidc on 127.0.0.1 with a fresh signing key. Its authorize endpoint signs
// in the person login_hint names: a demo persona by id (subject = the persona's id), anyone who
// signed up before by their subject, or, for new:<nickname>, a new person with a fresh subject. No
// hint signs up a new "Guest".
func startMockOIDC(personas []store.User) (*mockoidc.MockOIDC, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("mock OIDC key: %w", err)
	}
	m, err := mockoidc.NewServer(key)
	if err != nil {
		return nil, fmt.Errorf("mock OIDC: %w", err)
	}
	names := make(map[string]string, len(personas))
	for _, p := range personas {
		names[p.ID] = p.Nickname
	}
	if err := m.AddMiddleware(loginHints(m, names)); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mock OIDC: %w", err)
	}
	if err := m.Start(ln, nil); err != nil {
		return nil, fmt.Errorf("mock OIDC: %w", err)
	}
	return m, nil
}

// loginHints serializes the mock's endpoints (its stores are not safe for concurrent use) and, on
// the authorize endpoint, puts the person login_hint names in front of the mock's user queue.
func loginHints(m *mockoidc.MockOIDC, names map[string]string) func(http.Handler) http.Handler {
	var mu sync.Mutex
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if r.URL.Path == mockoidc.AuthorizationEndpoint {
				u, err := userForHint(r.URL.Query().Get("login_hint"), names)
				if err != nil {
					http.Error(w, "login_hint: "+err.Error(), http.StatusBadRequest)
					return
				}
				m.UserQueue.Lock()
				m.UserQueue.Queue = []mockoidc.User{u}
				m.UserQueue.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
}

// userForHint returns the person a login_hint names.
func userForHint(hint string, names map[string]string) (hintUser, error) {
	hint = strings.TrimSpace(hint)
	if !utf8.ValidString(hint) || strings.ContainsFunc(hint, unicode.IsControl) || len(hint) > 200 {
		return hintUser{}, fmt.Errorf("want a persona id or new:<nickname>")
	}
	if hint == "" || strings.HasPrefix(hint, newHintPrefix) {
		nick := strings.TrimSpace(strings.TrimPrefix(hint, newHintPrefix))
		if nick == "" {
			nick = "Guest"
		}
		if utf8.RuneCountInString(nick) > 64 {
			return hintUser{}, fmt.Errorf("a nickname has at most 64 characters")
		}
		return hintUser{subject: id.New(), name: nick}, nil
	}
	name := names[hint]
	if name == "" {
		name = "Returning person"
	}
	return hintUser{subject: hint, name: name}, nil
}

// hintUser is a mockoidc user with a subject and a display name.
type hintUser struct {
	subject, name string
}

var _ mockoidc.User = hintUser{}

// ID is the subject.
func (u hintUser) ID() string { return u.subject }

// Userinfo returns the subject and the name.
func (u hintUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]string{"sub": u.subject, "name": u.name, "preferred_username": u.name})
}

// Claims returns the ID token claims with the name.
func (u hintUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &hintClaims{IDTokenClaims: base, Name: u.name, PreferredUsername: u.name}, nil
}

type hintClaims struct {
	*mockoidc.IDTokenClaims
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
}
