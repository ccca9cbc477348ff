package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/functions/app/models"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := app.Load(env(nil), models.All...)
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Provider.Name != "offline" || c.Model.SecondMeTwins || c.NightlyInterval != 24*time.Hour || c.SessionTTL != 0 ||
		c.PublicURL != "" || c.Chat.DailyQuota != 0 || c.Matching.K != 0 || c.Compat.Messages != 0 {
		t.Errorf("Load of nothing = %+v, want the offline model and every default", c)
	}
}

// TestLoad reads each setting: set well it lands in its field, set badly it is an error naming it.
func TestLoad(t *testing.T) {
	tests := []struct {
		env   map[string]string
		check func(c app.Config) bool
	}{
		{map[string]string{"TABLE_NAME": "t", "DYNAMO_ENDPOINT": "http://d", "COMPAT_QUEUE_URL": "http://q/1/compat", "SQS_ENDPOINT": "http://q"},
			func(c app.Config) bool {
				return c.AWS.Table == "t" && c.AWS.DynamoEndpoint == "http://d" && c.AWS.QueueURL == "http://q/1/compat" && c.AWS.SQSEndpoint == "http://q"
			}},
		{map[string]string{"SECRETS_ARN": "app", "SEALING_KEY_SECRET_ARN": "key", "ORIGIN_VERIFY_SECRET_ARN": "ov"}, func(c app.Config) bool {
			return c.AWS.SecretsARN == "app" && c.AWS.SecretARNs[app.SecretSealingKey] == "key" && c.AWS.SecretARNs[app.SecretOriginVerify] == "ov"
		}},
		{map[string]string{"PUBLIC_URL": "https://twin.example"}, func(c app.Config) bool { return c.PublicURL == "https://twin.example" }},
		{map[string]string{"PUBLIC_URL": "http://127.0.0.1:8080"}, func(c app.Config) bool { return c.PublicURL == "http://127.0.0.1:8080" }},
		{map[string]string{"SESSION_TTL": "168h"}, func(c app.Config) bool { return c.SessionTTL == 168*time.Hour }},
		{map[string]string{"SECRETS_TTL": "90s"}, func(c app.Config) bool { return c.AWS.Secrets.TTL == 90*time.Second }},
		{map[string]string{"SECONDME_CLIENT_ID": "cid", "SECONDME_REDIRECT_URL": "https://t/cb", "SECONDME_CLIENT_SECRET": "cs"},
			func(c app.Config) bool {
				return c.SecondMe.ClientID == "cid" && c.SecondMe.RedirectURL == "https://t/cb" && c.Secrets[app.SecretSecondMeClient] == "cs"
			}},
		{map[string]string{"OIDC_ISSUER": "https://id", "OIDC_SCOPES": "openid, email profile"}, func(c app.Config) bool {
			return c.OIDC.Issuer == "https://id" && strings.Join(c.OIDC.Scopes, " ") == "openid email profile"
		}},
		{map[string]string{"SECONDME_WEBHOOK_ALGORITHM": "hmac-sha256-base64", "SECONDME_WEBHOOK_SECRET": "wh"}, func(c app.Config) bool {
			return c.Webhook.Algorithm == "hmac-sha256-base64" && c.Secrets[app.SecretWebhook] == "wh"
		}},
		{map[string]string{"CHAT_DAILY_QUOTA": "7", "CHAT_PROMPT_BUDGET": "5000", "CHAT_HISTORY": "40", "CHAT_MAX_REPLY_TOKENS": "300", "CHAT_MODEL_TIMEOUT": "15s"},
			func(c app.Config) bool {
				return c.Chat.DailyQuota == 7 && c.Chat.Prompt.Budget == 5000 && c.Chat.History == 40 && c.Chat.MaxReplyTokens == 300 && c.Chat.ModelTimeout == 15*time.Second
			}},
		{map[string]string{"MATCH_K": "5", "MATCH_MODEL_TOP": "3", "REMATCH_SLICE": "300", "COMPAT_MESSAGES": "4", "COMPAT_MODEL_WEIGHT": "0.5", "COMPAT_MODEL_RANGE": "6", "MATCH_MODEL_BAND": "12"}, func(c app.Config) bool {
			return c.Matching.K == 5 && c.Matching.ModelTop == 3 && c.Matching.Slice == 300 && c.Compat.Messages == 4 && c.Compat.ModelWeight == 0.5 &&
				c.Compat.ModelRange == 6 && c.Matching.ModelBand == 12
		}},
		{map[string]string{"MATCH_WINDOW": "2m", "MATCH_PERSON_CALLS": "60", "MATCH_NIGHTLY_CALLS": "9000", "MATCH_CALLS_PER_PAIR": "4"}, func(c app.Config) bool {
			b := c.Matching.Budget
			return b.Window == 2*time.Minute && b.PersonCalls == 60 && b.NightlyCalls == 9000 && b.CallsPerPair == 4
		}},
		{map[string]string{"NIGHTLY_INTERVAL": "1h"}, func(c app.Config) bool { return c.NightlyInterval == time.Hour }},
		{map[string]string{"LLM_PROVIDER": "gemini", "GEMINI_API_KEY": "k", "GEMINI_MODEL": "g", "LLM_TIMEOUT": "2s", "OPENAI_MODEL": "not read"},
			func(c app.Config) bool {
				return c.Model.Provider.Name == "gemini" && c.Model.Timeout == 2*time.Second && len(c.Model.Values) == 2 &&
					c.Model.Values["GEMINI_API_KEY"] == "k" && c.Model.Values["GEMINI_MODEL"] == "g"
			}},
		{map[string]string{"GEMINI_API_KEY_SECRET_ARN": "arn:gemini"}, func(c app.Config) bool {
			return c.Model.Provider.Name == "gemini" && c.Model.FromSecrets[0] == "GEMINI_API_KEY" && c.AWS.SecretARNs["GEMINI_API_KEY"] == "arn:gemini"
		}},
		{map[string]string{"GEMINI_API_KEY": "k", "GEMINI_API_KEY_SECRET_ARN": "arn:gemini"}, func(c app.Config) bool {
			return c.Model.Values["GEMINI_API_KEY"] == "k" && len(c.Model.FromSecrets) == 0
		}},
		{map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1", "OPENAI_MODEL": "llama3.2"}, func(c app.Config) bool { return c.Model.Provider.Name == "openai" }},
		{map[string]string{"LLM_PROVIDER": "secondme", "SECONDME_MODEL": "secondme/pro"}, func(c app.Config) bool {
			return c.Model.SecondMeTwins && c.Model.SecondMe.Model == "secondme/pro"
		}},
		{map[string]string{"LLM_SECONDME_TWINS": "true", "SECONDME_BASE_URL": "http://sm"}, func(c app.Config) bool {
			return c.Model.Provider.Name == "offline" && c.Model.SecondMeTwins && c.Model.SecondMe.BaseURL == "http://sm" && c.SecondMe.BaseURL == "http://sm"
		}},
		{map[string]string{"OFFLINE_PACE": "25ms"}, func(c app.Config) bool { return c.Model.Values["OFFLINE_PACE"] == "25ms" }},
	}
	for _, tt := range tests {
		c, err := app.Load(env(tt.env), models.All...)
		if err != nil || !tt.check(c) {
			t.Errorf("Load(%v) = %+v, %v", tt.env, c, err)
		}
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	for _, tt := range []struct {
		name, value string
	}{
		{"PUBLIC_URL", "twin.example"},
		{"PUBLIC_URL", "ftp://twin.example"},
		{"PUBLIC_URL", "https://twin.example/"},
		{"PUBLIC_URL", "https://twin.example/app"},
		{"PUBLIC_URL", "https://twin.example?x=1"},
		{"PUBLIC_URL", "https://user@twin.example"},
		{"PUBLIC_URL", "https://"},
		{"PUBLIC_URL", "https://twin.example:"},
		{"PUBLIC_URL", "https://twin example"},
		{"SESSION_TTL", "5m"},
		{"SESSION_TTL", "soon"},
		{"SECRETS_TTL", "10ms"},
		{"CHAT_DAILY_QUOTA", "-1"},
		{"CHAT_PROMPT_BUDGET", "lots"},
		{"CHAT_HISTORY", "0"},
		{"CHAT_MAX_REPLY_TOKENS", "1.5"},
		{"CHAT_MODEL_TIMEOUT", "soon"},
		{"MATCH_K", "0"},
		{"MATCH_K", "101"},
		{"MATCH_MODEL_TOP", "0"},
		{"REMATCH_SLICE", "x"},
		{"MATCH_WINDOW", "16m"},
		{"MATCH_WINDOW", "10ms"},
		{"MATCH_PERSON_CALLS", "0"},
		{"MATCH_NIGHTLY_CALLS", "many"},
		{"MATCH_CALLS_PER_PAIR", "101"},
		{"COMPAT_MESSAGES", "1"},
		{"COMPAT_MODEL_WEIGHT", "0"},
		{"COMPAT_MODEL_RANGE", "0"},
		{"COMPAT_MODEL_RANGE", "51"},
		{"MATCH_MODEL_BAND", "-1"},
		{"COMPAT_MODEL_WEIGHT", "1.5"},
		{"NIGHTLY_INTERVAL", "-1h"},
		{"LLM_TIMEOUT", "-1s"},
		{"LLM_TIMEOUT", "soon"},
		{"LLM_SECONDME_TWINS", "maybe"},
		{"LLM_PROVIDER", "claude"},
	} {
		if _, err := app.Load(env(map[string]string{tt.name: tt.value}), models.All...); err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("%s=%q: err = %v, want one naming %s", tt.name, tt.value, err, tt.name)
		}
	}
	_, err := app.Load(env(map[string]string{"LLM_SECONDME_TWINS": "true", "SECONDME_MODEL": "gpt"}), models.All...)
	if err == nil || !strings.Contains(err.Error(), "SECONDME_MODEL") {
		t.Errorf("SECONDME_MODEL=gpt with twins on: err = %v, want one naming it", err)
	}
	_, err = app.Load(env(map[string]string{"MATCH_K": "0", "CHAT_HISTORY": "x"}))
	if err == nil || !strings.Contains(err.Error(), "MATCH_K") || !strings.Contains(err.Error(), "CHAT_HISTORY") {
		t.Errorf("two bad settings: err = %v, want both named", err)
	}
}

func TestLoadWithoutProvidersReadsNoModel(t *testing.T) {
	c, err := app.Load(env(map[string]string{"LLM_PROVIDER": "claude"}))
	if err != nil || c.Model.Provider.Name != "" {
		t.Errorf("Load without providers = %+v, %v; want no model chosen and no error", c.Model, err)
	}
	if _, err := app.New(c, app.Deps{}).Model(t.Context()); err == nil {
		t.Error("Model of an App given no providers: no error")
	}
}
