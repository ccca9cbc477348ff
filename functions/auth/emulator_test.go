package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secondme/twin/infra/lambdatest"
)

// secretsServer is a Secrets Manager on 127.0.0.1 that speaks the JSON protocol of GetSecretValue
// and counts the reads of each secret.
type secretsServer struct {
	*httptest.Server
	mu     sync.Mutex
	values map[string]string
	reads  map[string]int
}

func newSecretsServer(t *testing.T, values map[string]string) *secretsServer {
	t.Helper()
	s := &secretsServer{values: values, reads: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || json.NewDecoder(r.Body).Decode(&in) != nil {
			http.Error(w, `{"__type":"InvalidRequestException"}`, http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		v, ok := s.values[in.SecretId]
		s.reads[in.SecretId]++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if !ok {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"ResourceNotFoundException","message":"no such secret"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": in.SecretId, "Name": in.SecretId, "SecretString": v, "VersionId": "v1"})
	}))
	t.Cleanup(s.Close)
	return s
}

const (
	arnPrefix     = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
	webhookSecret = "whsec_emulator"
	// edgeSecret is the application secret's originVerify, which the edge sends in X-Origin-Verify
	// (every fixture carries it, as CloudFront adds it).
	edgeSecret = "emulator-edge-secret"
)

// TestUnderEmulator runs the auth bootstrap under the Runtime Interface Emulator with real API
// Gateway v2 events, its secrets read once from the application secret (SECRETS_ARN, as
// template.yaml sets it) on a Secrets Manager on 127.0.0.1.
func TestUnderEmulator(t *testing.T) {
	bootstrap := lambdatest.Build(t, "./functions/auth")
	app, _ := json.Marshal(map[string]string{
		"sealingKey":            strings.Repeat("ab", 32),
		"secondmeClientSecret":  "secondme-client-secret",
		"secondmeWebhookSecret": webhookSecret,
		"originVerify":          edgeSecret,
	})
	secrets := newSecretsServer(t, map[string]string{arnPrefix + "app": string(app)})
	emu := lambdatest.Start(t, bootstrap, []string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + secrets.URL,
		"TABLE_NAME=twin-emulator",
		"DYNAMO_ENDPOINT=http://127.0.0.1:9",
		"SECRETS_ARN=" + arnPrefix + "app",
		"PUBLIC_URL=https://twin.example",
		"SECONDME_CLIENT_ID=client_emulator",
		"SECONDME_REDIRECT_URL=https://twin.example/api/auth/callback",
		"SECONDME_AUTHORIZE_URL=https://go.second.me/oauth/",
	})
	invoke := func(t *testing.T, name string, edit func(string) string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		ev, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		s := string(ev)
		if edit != nil {
			s = edit(s)
		}
		return emu.InvokeHTTP(t, []byte(s))
	}
	errorField := func(t *testing.T, body string) map[string]string {
		t.Helper()
		var v struct {
			Error struct{ Fields map[string]string }
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("not a JSON error: %s", body)
		}
		return v.Error.Fields
	}

	t.Run("health", func(t *testing.T) {
		resp := invoke(t, "apigw_health.json", nil)
		if resp.StatusCode != 200 || strings.TrimSpace(resp.Body) != `{"status":"ok"}` {
			t.Errorf("health: %d %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("login redirects to SecondMe with the state cookie", func(t *testing.T) {
		resp := invoke(t, "apigw_login_secondme.json", nil)
		loc, _ := url.Parse(resp.Headers["Location"])
		q := loc.Query()
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Headers["Location"], "https://go.second.me/oauth/?") ||
			q.Get("client_id") != "client_emulator" || q.Get("redirect_uri") != "https://twin.example/api/auth/callback" ||
			q.Get("response_type") != "code" || len(q.Get("state")) != 43 {
			t.Fatalf("login: %d to %s", resp.StatusCode, resp.Headers["Location"])
		}
		cookies := strings.Join(resp.Cookies, "\n") + resp.Headers["Set-Cookie"]
		for _, want := range []string{"sm_login=", "Path=/api/auth", "Max-Age=600", "HttpOnly", "Secure", "SameSite=Lax"} {
			if !strings.Contains(cookies, want) {
				t.Errorf("state cookie %q lacks %s", cookies, want)
			}
		}
	})
	t.Run("login with an unknown provider", func(t *testing.T) {
		resp := invoke(t, "apigw_login_bad_provider.json", nil)
		if resp.StatusCode != 400 || errorField(t, resp.Body)["provider"] == "" {
			t.Errorf("login: %d %s, want 400 naming provider", resp.StatusCode, resp.Body)
		}
	})
	t.Run("callback with a bad state", func(t *testing.T) {
		resp := invoke(t, "apigw_callback_bad_state.json", nil)
		if resp.StatusCode != 400 || errorField(t, resp.Body)["state"] == "" || strings.Contains(strings.Join(resp.Cookies, ""), "sm_session=") {
			t.Errorf("callback: %d %s, want 400 naming state and no session", resp.StatusCode, resp.Body)
		}
	})
	t.Run("webhook with a bad signature", func(t *testing.T) {
		resp := invoke(t, "apigw_webhook_bad_signature.json", nil)
		if resp.StatusCode != 401 {
			t.Errorf("webhook: %d %s, want 401", resp.StatusCode, resp.Body)
		}
	})
	signed := func(ev string) string {
		var e events.APIGatewayV2HTTPRequest
		_ = json.Unmarshal([]byte(ev), &e)
		m := hmac.New(sha256.New, []byte(webhookSecret))
		m.Write([]byte(e.Body))
		ev = strings.Replace(ev, "{{SIGNATURE}}", hex.EncodeToString(m.Sum(nil)), 1)
		return strings.Replace(ev, "{{TIMESTAMP}}", strconv.FormatInt(time.Now().Unix(), 10), 1)
	}
	t.Run("webhook test delivery signed with the secret", func(t *testing.T) {
		resp := invoke(t, "apigw_webhook_test_delivery.json", signed)
		if resp.StatusCode != 200 {
			t.Errorf("webhook: %d %s, want 200", resp.StatusCode, resp.Body)
		}
	})
	t.Run("around the edge", func(t *testing.T) {
		noEdge := func(ev string) string {
			return strings.Replace(ev, `"x-origin-verify": "`+edgeSecret+`",`, "", 1)
		}
		for name, edit := range map[string]func(string) string{
			"apigw_health.json":                noEdge,
			"apigw_login_secondme.json":        noEdge,
			"apigw_webhook_test_delivery.json": func(ev string) string { return noEdge(signed(ev)) },
		} {
			resp := invoke(t, name, edit)
			if resp.StatusCode != 403 || !strings.Contains(resp.Body, `"permission_denied"`) {
				t.Errorf("%s without X-Origin-Verify: %d %s, want 403 permission_denied", name, resp.StatusCode, resp.Body)
			}
		}
	})
	t.Run("cross-site logout", func(t *testing.T) {
		if resp := invoke(t, "apigw_logout_cross_site.json", nil); resp.StatusCode != 403 {
			t.Errorf("logout: %d %s, want 403", resp.StatusCode, resp.Body)
		}
	})
	secrets.mu.Lock()
	defer secrets.mu.Unlock()
	for arn, n := range secrets.reads {
		if n != 1 {
			t.Errorf("secret %s read %d times, want once (at init)", arn, n)
		}
	}
	if len(secrets.reads) != 1 {
		t.Errorf("%d secrets read, want the application secret", len(secrets.reads))
	}
}
