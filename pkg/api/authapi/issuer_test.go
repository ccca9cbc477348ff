package authapi_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// issuer is an OpenID Connect provider under the test's control: discovery, JWKS, an authorize step
// the test drives, a token endpoint that checks the client and PKCE S256, and ID tokens signed with
// the test's own key. Mutate changes the claims of the next ID tokens (wrong audience, nonce, expiry).
type issuer struct {
	srv          *httptest.Server
	key          *rsa.PrivateKey
	ClientID     string
	ClientSecret string
	// Mutate edits the ID token claims before signing.
	Mutate func(claims map[string]any)
	// SignWith, when set, signs ID tokens with another key (a forged signature).
	SignWith *rsa.PrivateKey

	mu    sync.Mutex
	codes map[string]grantReq
	// Hints records the login_hint of each authorize request.
	Hints []string
}

type grantReq struct {
	nonce, challenge, method, subject, name string
}

// issuerKey is the signing key of every test issuer (made once: RSA key generation is slow).
var issuerKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func newIssuer(tb testing.TB) *issuer {
	tb.Helper()
	key, err := issuerKey()
	if err != nil {
		tb.Fatal(err)
	}
	is := &issuer{key: key, ClientID: "twin-app", ClientSecret: "s3cret", codes: map[string]grantReq{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": is.URL(), "authorization_endpoint": is.URL() + "/authorize", "token_endpoint": is.URL() + "/token",
			"jwks_uri": is.URL() + "/jwks", "userinfo_endpoint": is.URL() + "/userinfo",
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &is.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", is.token)
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"sub": r.Header.Get("Authorization")[len("Bearer at-"):], "name": "From Userinfo"})
	})
	is.srv = httptest.NewServer(mux)
	tb.Cleanup(is.srv.Close)
	return is
}

// URL is the issuer.
func (is *issuer) URL() string { return is.srv.URL }

// Authorize plays the person approving at the provider: it reads the authorization URL and returns
// the redirect back with a code (and the state), signing in as subject with a display name.
func (is *issuer) Authorize(tb testing.TB, authURL, subject, name string) *url.URL {
	tb.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	if q.Get("client_id") != is.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		tb.Fatalf("authorization request %s lacks client_id, code, S256 PKCE, nonce or state", authURL)
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	code := base64.RawURLEncoding.EncodeToString(b)
	is.mu.Lock()
	is.codes[code] = grantReq{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"), subject: subject, name: name}
	is.Hints = append(is.Hints, q.Get("login_hint"))
	is.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	return back
}

func (is *issuer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", 400)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != is.ClientID || secret != is.ClientSecret {
		w.WriteHeader(401)
		writeJSON(w, map[string]string{"error": "invalid_client"})
		return
	}
	is.mu.Lock()
	g, ok := is.codes[r.PostForm.Get("code")]
	delete(is.codes, r.PostForm.Get("code"))
	is.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		writeJSON(w, map[string]string{"error": "invalid_grant"})
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": is.URL(), "sub": g.subject, "aud": is.ClientID, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(),
		"nonce": g.nonce, "name": g.name, "picture": "https://cdn.example.com/" + g.subject + ".png",
	}
	if is.Mutate != nil {
		is.Mutate(claims)
	}
	key := is.key
	if is.SignWith != nil {
		key = is.SignWith
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	raw, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	writeJSON(w, map[string]any{"access_token": "at-" + g.subject, "token_type": "Bearer", "expires_in": 3600, "id_token": raw})
}

func writeJSON(w http.ResponseWriter, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	_ = json.NewEncoder(w).Encode(v)
}
