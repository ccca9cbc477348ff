package llm_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/gemini"
	"github.com/secondme/twin/pkg/llm/offline"
	"github.com/secondme/twin/pkg/llm/openai"
	"github.com/secondme/twin/pkg/llm/secondme"
)

// providers is the list of the composition root, in its order.
var providers = []llm.Provider{gemini.Provider, openai.Provider, secondme.Provider, offline.Provider}

func TestChooseAndBuild(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		pick    string
		set     llm.Values
		want    string // the %T of the model
		wantErr string
	}{
		{name: "nothing configured is offline", want: "*offline.Model"},
		{name: "a Gemini key alone is Gemini", set: llm.Values{"GEMINI_API_KEY": "k"}, want: "*gemini.gemini"},
		{name: "an OpenAI base URL alone is OpenAI", set: llm.Values{"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1", "OPENAI_MODEL": "llama3.2"},
			want: "*openai.openAI"},
		{name: "offline wins over a key", pick: "offline", set: llm.Values{"GEMINI_API_KEY": "k"}, want: "*offline.Model"},
		{name: "secondme's general model is offline", pick: "secondme", want: "*offline.Model"},
		{name: "gemini without a key", pick: "gemini", wantErr: "gemini needs an API key"},
		{name: "openai without a model", pick: "openai", wantErr: "openai needs a model name"},
		{name: "unknown provider", pick: "claude", wantErr: `unknown provider "claude" (want gemini, offline, openai, secondme)`},
		{name: "bad pace", set: llm.Values{"OFFLINE_PACE": "slow"}, wantErr: "OFFLINE_PACE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := func() (llm.Model, error) {
				p, err := llm.Choose(providers, tc.pick, tc.set)
				if err != nil {
					return nil, err
				}
				return p.Model(tc.set, llm.Options{})
			}()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%T", m); got != tc.want {
				t.Errorf("model = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestSecondMeModel(t *testing.T) {
	t.Parallel()
	for model, ok := range map[string]bool{"": true, "secondme/nano": true, "secondme/pro": true, "gpt": false} {
		if err := (llm.SecondMeConfig{Model: model}).Validate(); (err == nil) != ok {
			t.Errorf("Validate(%q) = %v, want ok %v", model, err, ok)
		}
	}
}
