package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/functions/app/awsapp"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/awstest"
	"github.com/secondme/twin/pkg/llm/llmtest"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// TestRotatedSecretsReachTheAuthFunction runs the auth function over the Secrets Manager fake and a
// fake clock, and rotates its secret as an operator does (docs/auth.md): once SECRETS_TTL has passed,
// the login-state cookie is sealed with the new key (its version byte says which), deliveries signed
// with the new or the previous webhook secret are accepted and a forged one is not; a malformed ring
// put in the secret later leaves the working one in use.
func TestRotatedSecretsReachTheAuthFunction(t *testing.T) {
	ctx := context.Background()
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	k1, k2 := strings.Repeat("1f", 32), strings.Repeat("2f", 32)
	secret := func(fields map[string]string) string {
		fields["secondmeClientSecret"] = "cs"
		b, _ := json.Marshal(fields)
		return string(b)
	}
	fake := awstest.NewSecrets(map[string]string{"app": secret(map[string]string{"sealingKey": k1, "secondmeWebhookSecret": "w1"})})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)

	var mu sync.Mutex
	now := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	later := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	cfg, err := app.Load(env(map[string]string{"SECRETS_ARN": "app", "SECRETS_TTL": "5m", "PUBLIC_URL": "https://twin.example",
		"SECONDME_CLIENT_ID": "cid", "SECONDME_REDIRECT_URL": "https://twin.example/api/auth/callback"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.AWS.Secrets.Now = clock
	adapters, err := awsapp.New(ctx, cfg.AWS)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	served, err := app.Auth(ctx, app.New(cfg, app.Deps{Store: st, Secrets: adapters.Secrets}))
	if err != nil {
		t.Fatal(err)
	}

	sealedWith := func() byte {
		t.Helper()
		rec := httptest.NewRecorder()
		served.HTTP.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://twin.example/api/auth/login?provider=secondme", nil))
		for _, c := range rec.Result().Cookies() {
			if c.Name == auth.StateCookie {
				b, err := base64.RawURLEncoding.DecodeString(c.Value)
				if err != nil || len(b) == 0 {
					t.Fatalf("login-state cookie %q: %v", c.Value, err)
				}
				return b[0]
			}
		}
		t.Fatalf("login: %d %s, no login-state cookie", rec.Code, rec.Body)
		return 0
	}
	deliver := func(webhookSecret string) int {
		body := []byte(`{"eventId":"e-` + webhookSecret + `","reason":"test_delivery"}`)
		signer, _ := auth.NewWebhook(nil, auth.WebhookConfig{Secret: []byte(webhookSecret)})
		r := httptest.NewRequest(http.MethodPost, "https://twin.example/api/webhooks/secondme", strings.NewReader(string(body)))
		r.Header.Set(auth.DefaultSignatureHeader, signer.Sign(body))
		r.Header.Set(auth.DefaultTimestampHeader, strconv.FormatInt(time.Now().Unix(), 10))
		rec := httptest.NewRecorder()
		served.HTTP.ServeHTTP(rec, r)
		return rec.Code
	}

	if v := sealedWith(); v != 1 {
		t.Errorf("before the rotation the cookie is sealed with version %d, want 1 (a bare key)", v)
	}
	fake.Set("app", secret(map[string]string{"sealingKey": "2:" + k2 + " 1:" + k1, "secondmeWebhookSecret": "w2", "secondmeWebhookPreviousSecret": "w1"}))
	later(time.Minute)
	if v := sealedWith(); v != 1 {
		t.Errorf("within SECRETS_TTL the cookie is sealed with version %d, want 1 (the kept ring)", v)
	}
	if code := deliver("w2"); code != http.StatusUnauthorized {
		t.Errorf("within SECRETS_TTL, a delivery signed with the new secret: %d, want 401 (not read yet)", code)
	}
	later(5 * time.Minute)
	if v := sealedWith(); v != 2 {
		t.Errorf("after SECRETS_TTL the cookie is sealed with version %d, want 2", v)
	}
	for secret, want := range map[string]int{"w1": http.StatusOK, "w2": http.StatusOK, "forged": http.StatusUnauthorized} {
		if code := deliver(secret); code != want {
			t.Errorf("delivery signed with %s: %d, want %d", secret, code, want)
		}
	}
	fake.Set("app", secret(map[string]string{"sealingKey": "3:short", "secondmeWebhookSecret": "w2"}))
	later(6 * time.Minute)
	if v := sealedWith(); v != 2 {
		t.Errorf("after a malformed ring the cookie is sealed with version %d, want 2 (the ring in use)", v)
	}
	if code := deliver("w1"); code != http.StatusUnauthorized {
		t.Errorf("after the previous webhook secret was removed, a delivery signed with it: %d, want 401", code)
	}
}

// TestRotatedModelKey rotates the model's key in the secrets: after Refresh, calls carry the new key.
func TestRotatedModelKey(t *testing.T) {
	ctx := context.Background()
	f := llmtest.NewGemini(t)
	secrets := app.SecretMap{"GEMINI_API_KEY": "key-1"}
	a := newApp(t, map[string]string{"GEMINI_API_KEY_SECRET_ARN": "arn:gemini", "GEMINI_BASE_URL": f.URL(), "GEMINI_MODEL": "gemini-test"}, secrets)
	m, err := a.Model(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"key-1", "key-2"} {
		if i == 1 {
			secrets["GEMINI_API_KEY"] = "key-2"
			a.Refresh(ctx)
		}
		if _, err := m.Generate(ctx, hi, nil); err != nil {
			t.Fatal(err)
		}
		reqs := f.Requests()
		if got := reqs[len(reqs)-1].Header.Get("x-goog-api-key"); got != want {
			t.Errorf("call %d: x-goog-api-key = %q, want %q", i+1, got, want)
		}
	}
}
