package authapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/authapi"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/secondme"
	"github.com/secondme/twin/pkg/secondme/secondmetest"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

const webhookSecret = "whsec_test"

// clock is a settable clock for the service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// rematcher records the people it was asked to rematch.
type rematcher struct {
	mu    sync.Mutex
	users []string
}

func (r *rematcher) Rematch(ctx context.Context, userID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users = append(r.users, userID)
	return nil
}

// harness is the auth routes on a real HTTP server (127.0.0.1) over SQLite, with the SecondMe fake,
// a test OIDC issuer, a settable clock and the logs captured.
type harness struct {
	st      store.Store
	dbPath  string
	sm      *secondmetest.Server
	oidc    *issuer
	svc     *auth.Service
	webhook *auth.Webhook
	srv     *httptest.Server
	clock   *clock
	rematch *rematcher
	logs    *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHarness builds the harness over st (nil: a fresh SQLite file).
func newHarness(t *testing.T, st store.Store) *harness { return newHarnessWith(t, st, nil) }

// newHarnessWith is newHarness with change applied to the service's options before it is built.
func newHarnessWith(t *testing.T, st store.Store, change func(*auth.Options)) *harness {
	t.Helper()
	h := &harness{clock: &clock{t: time.Now()}, rematch: &rematcher{}, logs: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if st == nil {
		h.dbPath = filepath.Join(t.TempDir(), "twin.db")
		sq, err := sqlitestore.Open(context.Background(), h.dbPath)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sq.Close() })
		st = sq
	}
	h.st = st
	var handler http.Handler
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(h.srv.Close)
	callback := h.srv.URL + "/api/auth/callback"

	h.sm = secondmetest.New(t)
	h.sm.RedirectURL = callback
	h.oidc = newIssuer(t)
	sealer, err := auth.NewSealer(auth.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	sessions := auth.NewSessions(st, 0, h.clock.Now)
	opts := auth.Options{
		SecondMe: secondme.New(secondme.Config{BaseURL: h.sm.URL, AuthorizeURL: h.sm.AuthorizeURL(), ClientID: h.sm.ClientID,
			ClientSecret: h.sm.ClientSecret, RedirectURL: callback, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}),
		OIDC: auth.NewOIDC(auth.OIDCConfig{Issuer: h.oidc.URL(), ClientID: h.oidc.ClientID, ClientSecret: h.oidc.ClientSecret,
			RedirectURL: callback, Logger: logger}),
		Rematcher: h.rematch,
		Now:       h.clock.Now,
		Logger:    logger,
	}
	if change != nil {
		change(&opts)
	}
	h.svc = auth.New(st, sealer, sessions, opts)
	h.webhook, err = auth.NewWebhook(st, auth.WebhookConfig{Secret: []byte(webhookSecret), Now: h.clock.Now, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	rt := api.NewRouter()
	rt.HandleFunc("GET /api/health", api.Health)
	authapi.New(h.svc, h.webhook).Register(rt)
	rt.HandleFunc("GET /test/me", api.RequireUser(sessions, func(w http.ResponseWriter, r *http.Request) error {
		api.WriteJSON(w, http.StatusOK, map[string]string{"userId": api.UserID(r.Context())})
		return nil
	}))
	handler = api.Middleware{Edge: api.Edge{PublicURL: h.srv.URL}, Exempt: []string{authapi.WebhookPath}, Logger: logger}.Wrap(rt)
	return h
}

// browser returns an HTTP client with a cookie jar that does not follow redirects.
func (h *harness) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get makes a GET and returns the answer with its body read.
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post makes a same-origin POST.
func (h *harness) post(t *testing.T, c *http.Client, path string, hdr http.Header, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Origin", h.srv.URL)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// startLogin calls GET /api/auth/login and returns the provider URL it redirects to.
func (h *harness) startLogin(t *testing.T, c *http.Client, query url.Values) string {
	t.Helper()
	resp, body := get(t, c, h.srv.URL+"/api/auth/login?"+query.Encode())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login: %d %s, want 302", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// signInSecondMe runs the whole SecondMe sign-in for the fake's default user and returns the
// callback's answer.
func (h *harness) signInSecondMe(t *testing.T, c *http.Client, returnTo string) *http.Response {
	t.Helper()
	authURL := h.startLogin(t, c, url.Values{"provider": {"secondme"}, "returnTo": {returnTo}})
	back := h.sm.Approve(t, authURL, secondmetest.DefaultUser().UserID)
	resp, _ := get(t, c, back.String())
	return resp
}

// me returns the signed-in user id of the browser ("" and the status when not signed in).
func (h *harness) me(t *testing.T, c *http.Client) (string, int) {
	t.Helper()
	resp, body := get(t, c, h.srv.URL+"/test/me")
	if resp.StatusCode != http.StatusOK {
		return "", resp.StatusCode
	}
	var v struct{ UserID string }
	_ = json.Unmarshal([]byte(body), &v)
	return v.UserID, resp.StatusCode
}

// secondMeIdentity returns the stored identity of the fake's default user.
func (h *harness) secondMeIdentity(t *testing.T) store.Identity {
	t.Helper()
	ident, err := h.st.GetIdentity(context.Background(), store.ProviderSecondMe, secondmetest.DefaultUser().AppScopedUserID)
	if err != nil {
		t.Fatalf("get identity: %v", err)
	}
	return ident
}

// errorOf decodes the JSON error of an answer.
func errorOf(t *testing.T, body string) fault.Error {
	t.Helper()
	var v struct{ Error fault.Error }
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("not a JSON error: %s", body)
	}
	return v.Error
}

// sessionCookie returns the sm_session Set-Cookie of an answer, nil if none.
func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == auth.SessionCookie && c.MaxAge >= 0 && c.Value != "" {
			return c
		}
	}
	return nil
}

// userCount counts users through the identities a test knows of (the store has no listing).
func (h *harness) users(t *testing.T) []store.User {
	t.Helper()
	page, err := h.st.ScanUsers(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}
