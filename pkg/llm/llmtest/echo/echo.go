// Package echo is a model provider for tests: it answers with ECHO_PREFIX and the last message. It
// shows what adding a provider takes: this package, and its name in a list of providers.
package echo

import (
	"context"
	"errors"

	"github.com/secondme/twin/pkg/llm"
)

// Provider declares the echo model: chosen when ECHO_KEY is set (or read from the secret
// ECHO_KEY_SECRET_ARN names); ECHO_PREFIX starts every reply.
var Provider = llm.Provider{
	Name:     "echo",
	Settings: map[string]string{"ECHO_KEY": "", "ECHO_PREFIX": "echo: "},
	Secrets:  map[string]string{"ECHO_KEY_SECRET_ARN": "ECHO_KEY"},
	Chosen:   func(v llm.Values) bool { return v["ECHO_KEY"] != "" },
	New: func(v llm.Values, _ llm.Options) (llm.Model, error) {
		if v["ECHO_KEY"] == "" {
			return nil, errors.New("echo needs a key (ECHO_KEY)")
		}
		return model{prefix: v["ECHO_PREFIX"], key: v["ECHO_KEY"]}, nil
	},
}

type model struct{ prefix, key string }

// Generate answers with the prefix and the last message, and names the key as its model.
func (m model) Generate(_ context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	text := m.prefix
	if n := len(req.Messages); n > 0 {
		text += req.Messages[n-1].Content
	}
	if onDelta != nil {
		if err := onDelta(text); err != nil {
			return llm.Reply{}, err
		}
	}
	return llm.Reply{Text: text, Model: "echo/" + m.key}, nil
}
