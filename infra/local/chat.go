package main

import (
	"context"
	"log/slog"

	"github.com/secondme/twin/pkg/api/chatapi"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/llm"
	_ "github.com/secondme/twin/pkg/llm/offline" // the default model
)

// wireChat adds the chat routes, JSON and stream, on the model the environment configures (the
// offline model when nothing is set; see docs/llm.md and docs/chat.md). When SecondMe twins are
// enabled and the auth group provides SecondMe tokens, a person's own SecondMe speaks as their twin
// in their own chats.
func wireChat(ctx context.Context, s *stack) error {
	cfg, err := llm.ConfigFrom(s.getenv)
	if err != nil {
		return err
	}
	model, err := llm.New(cfg, nil)
	if err != nil {
		return err
	}
	opts, err := chat.OptionsFrom(s.getenv)
	if err != nil {
		return err
	}
	var models chat.ModelChooser = chat.OneModel{Model: model}
	if tokens, ok := s.auth.(llm.TokenSource); ok && cfg.SecondMeEnabled() {
		models = chat.SecondMeTwins{SecondMe: llm.NewSecondMe(cfg, tokens, model, nil), Default: model}
	}
	h := chatapi.New(chat.New(s.store, models, opts), s.auth)
	h.Register(s.router)
	h.RegisterStream(s.router)
	slog.InfoContext(ctx, "chat ready", "provider", cfg.Provider, "secondme_twins", cfg.SecondMeEnabled())
	return nil
}
