package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/llmtest/echo"
	"github.com/secondme/twin/pkg/llm/offline"
)

// withEcho is a list of providers with one added by a test: package echo (pkg/llm/llmtest/echo), a
// provider of its own, declares its name, settings and secret; naming it here is all the wiring.
var withEcho = []llm.Provider{echo.Provider, offline.Provider}

var hi = llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}

func TestAddedProviderIsWiredByTheList(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name      string
		env       map[string]string
		secrets   app.SecretMap
		wantReply string
		wantModel string
		wantErr   string
	}{
		{"chosen by its setting", map[string]string{"ECHO_KEY": "k1"}, nil, "echo: hi", "echo/k1", ""},
		{"its own default and settings", map[string]string{"LLM_PROVIDER": "echo", "ECHO_KEY": "k1", "ECHO_PREFIX": "> "}, nil, "> hi", "echo/k1", ""},
		{"its key from its secret", map[string]string{"ECHO_KEY_SECRET_ARN": "arn:echo"}, app.SecretMap{"ECHO_KEY": "k2"}, "echo: hi", "echo/k2", ""},
		{"its secret missing", map[string]string{"ECHO_KEY_SECRET_ARN": "arn:echo"}, app.SecretMap{}, "", "", "ECHO_KEY"},
		{"its validation", map[string]string{"LLM_PROVIDER": "echo"}, nil, "", "", "echo needs a key"},
		{"not chosen: the next in the list", nil, nil, "", "offline", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := app.Load(env(tt.env), withEcho...)
			if err != nil {
				t.Fatal(err)
			}
			m, err := app.New(cfg, app.Deps{Secrets: tt.secrets}).Model(ctx)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Model: %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			reply, err := m.Generate(ctx, hi, nil)
			if err != nil || reply.Model != tt.wantModel || (tt.wantReply != "" && reply.Text != tt.wantReply) {
				t.Errorf("reply %+v, %v; want %q from %s", reply, err, tt.wantReply, tt.wantModel)
			}
		})
	}
}
