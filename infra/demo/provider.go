package demo

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// newHintPrefix makes login_hint=new:<nickname> sign up a new person.
const newHintPrefix = "new:"

// Provider is a mock OpenID Connect provider (mockoidc) on 127.0.0.1 with a fresh signing key and
// client credentials. Its authorize endpoint signs in, without asking anything, the person
// login_hint names:
//   - a demo persona by id (subject = the persona's id, name = its nickname);
//   - anyone who signed up before, by their subject;
//   - new:<nickname>, a new person with a fresh subject and that name (at most 64 characters);
//   - no hint, a new person named "Guest".
type Provider struct {
	// ClientID and ClientSecret are the credentials the relying party uses.
	ClientID, ClientSecret string

	m *mockoidc.MockOIDC
}

// StartProvider starts a mock provider that knows the personas by id.
func StartProvider(personas []store.User) (*Provider, error) {
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
	return &Provider{ClientID: m.ClientID, ClientSecret: m.ClientSecret, m: m}, nil
}

// Issuer is the provider's issuer URL, where its discovery document is.
func (p *Provider) Issuer() string { return p.m.Issuer() }

// Close stops the provider.
func (p *Provider) Close() error { return p.m.Shutdown() }

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
