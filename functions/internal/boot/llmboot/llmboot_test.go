package llmboot

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/awstest"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/llmtest"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var hi = llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}

func TestNothingSetIsOffline(t *testing.T) {
	m, cfg, err := Model(context.Background(), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if reply, err := m.Generate(context.Background(), hi, nil); err != nil || !reply.Offline {
		t.Errorf("reply %+v, err %v, want the offline model", reply, err)
	}
	if cfg.SecondMeEnabled() {
		t.Errorf("SecondMe twins enabled")
	}
}

func TestGeminiFromTheEnvironment(t *testing.T) {
	f := llmtest.NewGemini(t)
	f.Reply("from the fake", 2)
	m, cfg, err := Model(context.Background(), env(map[string]string{
		"GEMINI_API_KEY":     llmtest.GeminiKey,
		"GEMINI_BASE_URL":    f.URL(),
		"GEMINI_MODEL":       "gemini-test",
		"LLM_TIMEOUT":        "2s",
		"LLM_SECONDME_TWINS": "true",
		"SECONDME_MODEL":     "secondme/pro",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if reply, err := m.Generate(context.Background(), hi, nil); err != nil || reply.Text != "from the fake" || reply.Model != "gemini-test" {
		t.Errorf("reply %+v, err %v", reply, err)
	}
	if !cfg.SecondMeEnabled() || cfg.SecondMeModel != "secondme/pro" || cfg.Timeout != 2*time.Second {
		t.Errorf("config = %+v", cfg)
	}
}

// secretsManager serves a Secrets Manager fake holding secrets by ARN and points the SDK at it.
func secretsManager(t *testing.T, secrets map[string]string) {
	t.Helper()
	srv := httptest.NewServer(awstest.NewSecrets(secrets))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
}

func TestKeysFromSecretsManager(t *testing.T) {
	const geminiARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gemini-AbCdEf"
	const openAIARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:openai-AbCdEf"
	secretsManager(t, map[string]string{geminiARN: "gemini-secret\n", openAIARN: "openai-secret"})
	f := llmtest.NewGemini(t)
	getenv := env(map[string]string{
		"GEMINI_API_KEY_SECRET_ARN": geminiARN,
		"GEMINI_BASE_URL":           f.URL(),
		"OPENAI_API_KEY_SECRET_ARN": openAIARN,
	})
	cfg, err := Config(context.Background(), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GeminiAPIKey != "gemini-secret" || cfg.OpenAIKey != "openai-secret" {
		t.Errorf("keys %q and %q, want the secrets", cfg.GeminiAPIKey, cfg.OpenAIKey)
	}
	m, _, err := Model(context.Background(), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Generate(context.Background(), hi, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.Requests()[0].Header.Get("x-goog-api-key"); got != "gemini-secret" {
		t.Errorf("x-goog-api-key = %q, want the secret", got)
	}

	_, err = Config(context.Background(), env(map[string]string{"GEMINI_API_KEY_SECRET_ARN": "arn:missing"}))
	if err == nil || !strings.Contains(err.Error(), "GEMINI_API_KEY_SECRET_ARN") {
		t.Errorf("missing secret: err = %v, want one naming GEMINI_API_KEY_SECRET_ARN", err)
	}
}

func TestBadSettings(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LLM_TIMEOUT": "soon"}, "LLM_TIMEOUT"},
		{map[string]string{"LLM_TIMEOUT": "-1s"}, "LLM_TIMEOUT"},
		{map[string]string{"LLM_SECONDME_TWINS": "maybe"}, "LLM_SECONDME_TWINS"},
		{map[string]string{"LLM_PROVIDER": "gemini"}, "API key"},
		{map[string]string{"LLM_PROVIDER": "openai"}, "model name"},
		{map[string]string{"LLM_PROVIDER": "claude"}, "unknown provider"},
	} {
		if _, _, err := Model(context.Background(), env(tc.env)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want one naming %s", tc.env, err, tc.want)
		}
	}
}
