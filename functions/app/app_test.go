package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/functions/app/models"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/llm/llmtest"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

var testKey = strings.Repeat("0f", 32)

// newApp is the App of env over a fresh SQLite store and secrets.
func newApp(t *testing.T, vars map[string]string, secrets app.SecretMap) *app.App {
	t.Helper()
	cfg, err := app.Load(env(vars), models.All...)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return app.New(cfg, app.Deps{Store: st, Secrets: secrets})
}

func TestAuthNeedsItsSecretsAndSettings(t *testing.T) {
	ctx := context.Background()
	sm := map[string]string{"SECONDME_CLIENT_ID": "cid", "SECONDME_REDIRECT_URL": "https://twin.example/api/auth/callback"}
	for _, tt := range []struct {
		name    string
		env     map[string]string
		secrets app.SecretMap
		wantErr string
	}{
		{"sealing key alone", nil, app.SecretMap{app.SecretSealingKey: testKey}, ""},
		{"no sealing key", nil, app.SecretMap{}, "SEALING_KEY_SECRET_ARN"},
		{"short sealing key", nil, app.SecretMap{app.SecretSealingKey: "abcd"}, "sealing key"},
		{"SecondMe with its secret", sm, app.SecretMap{app.SecretSealingKey: testKey, app.SecretSecondMeClient: "cs"}, ""},
		{"SecondMe without its secret", sm, app.SecretMap{app.SecretSealingKey: testKey}, "secondmeClientSecret"},
		{"OIDC without a client id", map[string]string{"OIDC_ISSUER": "https://id.example", "OIDC_REDIRECT_URL": "https://t/cb"},
			app.SecretMap{app.SecretSealingKey: testKey, app.SecretOIDCClient: "o"}, "OIDC_CLIENT_ID"},
		{"OIDC without its secret", map[string]string{"OIDC_ISSUER": "https://id.example", "OIDC_CLIENT_ID": "c", "OIDC_REDIRECT_URL": "https://t/cb"},
			app.SecretMap{app.SecretSealingKey: testKey}, "OIDC_CLIENT_SECRET_ARN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newApp(t, tt.env, tt.secrets).Auth(ctx)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Auth: %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestAuthFunctionNeedsTheSecondMeRedirect(t *testing.T) {
	a := newApp(t, map[string]string{"SECONDME_CLIENT_ID": "cid"}, app.SecretMap{app.SecretSealingKey: testKey, app.SecretSecondMeClient: "cs"})
	if _, err := app.Auth(context.Background(), a); err == nil || !strings.Contains(err.Error(), "SECONDME_REDIRECT_URL") {
		t.Errorf("auth function without SECONDME_REDIRECT_URL: %v", err)
	}
	if _, err := app.Users(context.Background(), a); err == nil || !strings.Contains(err.Error(), "COMPAT_QUEUE_URL") {
		t.Errorf("users function without a queue: %v, want an error naming COMPAT_QUEUE_URL (sync needs no redirect)", err)
	}
}

func TestWebhookWithoutItsSecretRefuses(t *testing.T) {
	wh, err := newApp(t, nil, app.SecretMap{}).Webhook(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = wh.Receive(context.Background(), http.Header{}, []byte("{}"))
	if e := api.FromError(err); api.Status(e) != http.StatusServiceUnavailable {
		t.Errorf("delivery without a secret: %v, want 503", err)
	}
}

func TestEdge(t *testing.T) {
	for _, tt := range []struct {
		name    string
		env     map[string]string
		secrets app.SecretMap
		want    api.Edge
	}{
		{"public URL and edge secret", map[string]string{"PUBLIC_URL": "https://twin.example"}, app.SecretMap{app.SecretOriginVerify: "ov"},
			api.Edge{PublicURL: "https://twin.example", Secret: "ov"}},
		{"no edge secret: no edge check", map[string]string{"PUBLIC_URL": "https://twin.example"}, nil, api.Edge{PublicURL: "https://twin.example"}},
		{"no public URL", nil, app.SecretMap{app.SecretOriginVerify: "ov"}, api.Edge{Secret: "ov"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newApp(t, tt.env, tt.secrets).Edge(context.Background())
			if err != nil || got != tt.want {
				t.Errorf("Edge = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestSessionTTLIsHonoured checks SESSION_TTL reaches the sessions (the local stack once passed 0).
func TestSessionTTLIsHonoured(t *testing.T) {
	ctx := context.Background()
	for _, ttl := range []time.Duration{2 * time.Hour, 48 * time.Hour} {
		a := newApp(t, map[string]string{"SESSION_TTL": ttl.String()}, nil)
		sessions, err := a.Sessions()
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if err := sessions.Start(ctx, rec, httptest.NewRequest(http.MethodGet, "/", nil), "01J9Z3M8Q4W6T2R5Y7P1K3N5B0"); err != nil {
			t.Fatal(err)
		}
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 {
			t.Fatalf("cookies %v, want the session cookie", cookies)
		}
		if got := time.Duration(cookies[0].MaxAge) * time.Second; got != ttl {
			t.Errorf("SESSION_TTL=%s: the session cookie lives %s", ttl, got)
		}
	}
}

func TestGeminiKeyFromItsSecret(t *testing.T) {
	f := llmtest.NewGemini(t)
	a := newApp(t, map[string]string{"GEMINI_API_KEY_SECRET_ARN": "arn:gemini", "GEMINI_BASE_URL": f.URL(), "GEMINI_MODEL": "gemini-test"},
		app.SecretMap{"GEMINI_API_KEY": "gemini-secret"})
	m, err := a.Model(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if reply, err := m.Generate(context.Background(), hi, nil); err != nil || reply.Model != "gemini-test" {
		t.Fatalf("reply %+v, %v", reply, err)
	}
	if got := f.Requests()[0].Header.Get("x-goog-api-key"); got != "gemini-secret" {
		t.Errorf("x-goog-api-key = %q, want the secret", got)
	}
}
