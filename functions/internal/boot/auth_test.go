package boot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/awstest"
)

// newFakeSecrets serves a Secrets Manager fake holding values on 127.0.0.1 and points the SDK at
// it (AWS_ENDPOINT_URL_SECRETS_MANAGER), with dummy credentials.
func newFakeSecrets(t *testing.T, values map[string]string) *awstest.Secrets {
	t.Helper()
	forgetSecrets() // the values served here, not those an earlier test read
	f := awstest.NewSecrets(values)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return f
}

var testKey = strings.Repeat("0f", 32)

func appSecret(t *testing.T, fields map[string]string) string {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAuthSecrets(t *testing.T) {
	ctx := context.Background()
	base := map[string]string{
		"SECONDME_CLIENT_ID": "cid", "SECONDME_REDIRECT_URL": "https://twin.example/api/auth/callback",
	}
	with := func(m map[string]string) func(string) string {
		all := map[string]string{}
		for k, v := range base {
			all[k] = v
		}
		for k, v := range m {
			all[k] = v
		}
		return env(all)
	}
	t.Run("one application secret, read once", func(t *testing.T) {
		f := newFakeSecrets(t, map[string]string{"app": appSecret(t, map[string]string{
			"sealingKey": testKey, "secondmeClientSecret": "cs", "secondmeWebhookSecret": "wh"})})
		svc, wh, err := AuthWithWebhook(ctx, with(map[string]string{"SECRETS_ARN": "app"}), nil, nil)
		if err != nil || svc == nil || wh == nil {
			t.Fatalf("AuthWithWebhook: %v", err)
		}
		if f.Reads("app") != 1 {
			t.Errorf("application secret read %d times, want 1", f.Reads("app"))
		}
		if wh.Sign([]byte("x")) == newWebhookSigner(t, "").Sign([]byte("x")) {
			t.Error("the webhook secret was not read")
		}
	})
	t.Run("own ARNs win over the application secret", func(t *testing.T) {
		f := newFakeSecrets(t, map[string]string{"app": appSecret(t, map[string]string{"secondmeClientSecret": "cs"}),
			"key": testKey + "\n", "hook": "wh"})
		_, wh, err := AuthWithWebhook(ctx, with(map[string]string{"SECRETS_ARN": "app", "SEALING_KEY_SECRET_ARN": "key",
			"SECONDME_WEBHOOK_SECRET_ARN": "hook"}), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if f.Reads("key") != 1 || f.Reads("app") != 1 || f.Reads("hook") != 1 {
			t.Errorf("reads of key, app, hook = %d, %d, %d; want each secret once", f.Reads("key"), f.Reads("app"), f.Reads("hook"))
		}
		if wh.Sign([]byte("x")) != newWebhookSigner(t, "wh").Sign([]byte("x")) {
			t.Error("the webhook secret is not the one of its own ARN")
		}
	})
	t.Run("no webhook secret: deliveries are refused", func(t *testing.T) {
		newFakeSecrets(t, map[string]string{"app": appSecret(t, map[string]string{"sealingKey": testKey, "secondmeClientSecret": "cs"})})
		_, wh, err := AuthWithWebhook(ctx, with(map[string]string{"SECRETS_ARN": "app"}), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = wh.Receive(ctx, http.Header{}, []byte("{}"))
		if e := api.FromError(err); api.Status(e) != http.StatusServiceUnavailable {
			t.Errorf("delivery without a secret: %v, want 503", err)
		}
	})
	for _, tc := range []struct {
		name    string
		secrets map[string]string
		env     map[string]string
		wantErr string
	}{
		{"no secret at all", nil, nil, "SEALING_KEY_SECRET_ARN"},
		{"application secret without the key", map[string]string{"app": `{"secondmeClientSecret":"cs"}`},
			map[string]string{"SECRETS_ARN": "app"}, "sealingKey"},
		{"application secret not JSON", map[string]string{"app": "plain"}, map[string]string{"SECRETS_ARN": "app"}, "JSON"},
		{"short key", map[string]string{"key": "abcd", "cs": "x"},
			map[string]string{"SEALING_KEY_SECRET_ARN": "key", "SECONDME_CLIENT_SECRET_ARN": "cs"}, "sealing key"},
		{"unknown secret", map[string]string{}, map[string]string{"SECRETS_ARN": "nope"}, "nope"},
		{"SecondMe without its redirect", map[string]string{"app": appSecret(t, map[string]string{"sealingKey": testKey, "secondmeClientSecret": "cs"})},
			map[string]string{"SECRETS_ARN": "app", "SECONDME_REDIRECT_URL": ""}, "SECONDME_REDIRECT_URL"},
		{"OIDC without a client id", map[string]string{"app": appSecret(t, map[string]string{"sealingKey": testKey, "secondmeClientSecret": "cs", "oidcClientSecret": "o"})},
			map[string]string{"SECRETS_ARN": "app", "OIDC_ISSUER": "https://id.example"}, "OIDC_CLIENT_ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			newFakeSecrets(t, tc.secrets)
			_, _, err := AuthWithWebhook(ctx, with(tc.env), nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("AuthWithWebhook = %v, want an error naming %s", err, tc.wantErr)
			}
		})
	}
}

func TestAuthForSyncNeedsNoRedirect(t *testing.T) {
	newFakeSecrets(t, map[string]string{"app": appSecret(t, map[string]string{"sealingKey": testKey, "secondmeClientSecret": "cs"})})
	svc, err := Auth(context.Background(), env(map[string]string{"SECRETS_ARN": "app", "SECONDME_CLIENT_ID": "cid"}), nil, nil)
	if err != nil || svc == nil {
		t.Errorf("Auth without a redirect URL: %v", err)
	}
}

func TestSessionsTTL(t *testing.T) {
	if _, err := Sessions(env(map[string]string{"SESSION_TTL": "5m"}), nil); err == nil {
		t.Error("SESSION_TTL=5m accepted")
	}
	if s, err := Sessions(env(map[string]string{"SESSION_TTL": "168h"}), nil); err != nil || s == nil {
		t.Errorf("SESSION_TTL=168h: %v", err)
	}
}

// newWebhookSigner returns a webhook receiver with secret, to compare signatures.
func newWebhookSigner(t *testing.T, secret string) interface{ Sign([]byte) string } {
	t.Helper()
	wh, err := auth.NewWebhook(nil, auth.WebhookConfig{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	return wh
}
