// Package chatboot wires the chat service of the chat and chatstream functions from their environment
// (docs/chat.md). It is apart from package boot so that only these functions link the chat service and
// the model providers.
package chatboot

import (
	"context"
	"fmt"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/functions/internal/boot/llmboot"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/llm"
)

// Service returns the chat service and the sign-in check of a chat function: the DynamoDB store
// (boot.Store), login sessions (boot.Sessions), the model of docs/llm.md (llmboot.Model) and the chat
// settings (chat.OptionsFrom: CHAT_DAILY_QUOTA, CHAT_PROMPT_BUDGET, CHAT_HISTORY, CHAT_MODEL_TIMEOUT,
// CHAT_MAX_REPLY_TOKENS). When SecondMe twins are on (LLM_SECONDME_TWINS or LLM_PROVIDER=secondme)
// the sign-in service (boot.Auth, which reads the token sealing key) gives the SecondMe tokens.
func Service(ctx context.Context, getenv func(string) string) (*chat.Service, api.Authenticator, error) {
	st, err := boot.Store(ctx, getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	sessions, err := boot.Sessions(getenv, st)
	if err != nil {
		return nil, nil, fmt.Errorf("sessions: %w", err)
	}
	model, cfg, err := llmboot.Model(ctx, getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("model: %w", err)
	}
	opts, err := chat.OptionsFrom(getenv)
	if err != nil {
		return nil, nil, err
	}
	var models chat.ModelChooser = chat.OneModel{Model: model}
	if cfg.SecondMeEnabled() {
		tokens, err := boot.Auth(ctx, getenv, st, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("SecondMe twins need the sign-in service: %w", err)
		}
		models = chat.SecondMeTwins{SecondMe: llm.NewSecondMe(cfg, tokens, model, nil), Default: model}
	}
	return chat.New(st, models, opts), sessions, nil
}
