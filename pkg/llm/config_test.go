package llm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/llm"
	_ "github.com/secondme/twin/pkg/llm/offline" // the default model
)

func TestNewPicksTheProvider(t *testing.T) {
	cases := []struct {
		name    string
		cfg     llm.Config
		want    string // the %T of the model
		wantErr string
	}{
		{name: "nothing configured is offline", cfg: llm.Config{}, want: "*offline.Model"},
		{name: "a Gemini key alone is Gemini", cfg: llm.Config{GeminiAPIKey: "k"}, want: "*llm.gemini"},
		{name: "an OpenAI base URL alone is OpenAI", cfg: llm.Config{OpenAIBaseURL: "http://127.0.0.1:11434/v1", OpenAIModel: "llama3.2"},
			want: "*llm.openAI"},
		{name: "offline wins over a key", cfg: llm.Config{Provider: "offline", GeminiAPIKey: "k"}, want: "*offline.Model"},
		{name: "secondme's general model is offline", cfg: llm.Config{Provider: "secondme"}, want: "*offline.Model"},
		{name: "gemini without a key", cfg: llm.Config{Provider: "gemini"}, wantErr: "gemini needs an API key"},
		{name: "openai without a model", cfg: llm.Config{Provider: "openai"}, wantErr: "openai needs a model name"},
		{name: "unknown provider", cfg: llm.Config{Provider: "claude"}, wantErr: `unknown provider "claude"`},
		{name: "bad SecondMe model", cfg: llm.Config{SecondMeTwins: true, SecondMeModel: "gpt"}, wantErr: `secondme model "gpt"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := llm.New(tc.cfg, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := fmt.Sprintf("%T", m); got != tc.want {
				t.Errorf("model = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSecondMeEnabled(t *testing.T) {
	for _, tc := range []struct {
		cfg  llm.Config
		want bool
	}{
		{llm.Config{}, false},
		{llm.Config{Provider: "secondme"}, true},
		{llm.Config{Provider: "gemini", SecondMeTwins: true}, true},
	} {
		if got := tc.cfg.SecondMeEnabled(); got != tc.want {
			t.Errorf("%+v.SecondMeEnabled() = %v, want %v", tc.cfg, got, tc.want)
		}
	}
}

func TestNewDefaultModelAnswersOffline(t *testing.T) {
	reply, err := newModel(t, llm.Config{}).Generate(context.Background(), chatRequest, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reply.Offline || reply.Model != llm.ModelOffline {
		t.Errorf("reply = %+v, want the offline model's", reply)
	}
}

func TestConfigFrom(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	got, err := llm.ConfigFrom(env(map[string]string{
		"LLM_PROVIDER": "gemini", "GEMINI_API_KEY": "k", "LLM_TIMEOUT": "2s",
		"OFFLINE_PACE": "25ms", "LLM_SECONDME_TWINS": "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got.Provider != "gemini" || got.GeminiAPIKey != "k" || got.Timeout != 2*time.Second ||
		got.OfflinePace != 25*time.Millisecond || !got.SecondMeTwins {
		t.Errorf("ConfigFrom = %+v, want every variable read", got)
	}
	bad := []struct {
		name string
		env  map[string]string
	}{
		{"LLM_TIMEOUT", map[string]string{"LLM_TIMEOUT": "soon"}},
		{"LLM_TIMEOUT", map[string]string{"LLM_TIMEOUT": "0s"}},
		{"OFFLINE_PACE", map[string]string{"OFFLINE_PACE": "-1ms"}},
		{"LLM_SECONDME_TWINS", map[string]string{"LLM_SECONDME_TWINS": "maybe"}},
	}
	for _, tt := range bad {
		if _, err := llm.ConfigFrom(env(tt.env)); err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("ConfigFrom(%v) = %v, want an error naming %s", tt.env, err, tt.name)
		}
	}
}
