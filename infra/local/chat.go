package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/secondme/twin/pkg/api/chatapi"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/llm"
)

// wireChat adds the chat routes, JSON and stream, on the model the environment configures (the
// offline model when nothing is set; see docs/llm.md and docs/chat.md). When SecondMe twins are
// enabled and the auth group provides SecondMe tokens, a person's own SecondMe speaks as their twin
// in their own chats.
func wireChat(ctx context.Context, s *stack) error {
	cfg, err := chatModelConfig(s.getenv)
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

// chatModelConfig reads the model settings of docs/llm.md from the environment.
func chatModelConfig(getenv func(string) string) (llm.Config, error) {
	cfg := llm.Config{
		Provider:        getenv("LLM_PROVIDER"),
		GeminiAPIKey:    getenv("GEMINI_API_KEY"),
		GeminiModel:     getenv("GEMINI_MODEL"),
		GeminiBaseURL:   getenv("GEMINI_BASE_URL"),
		OpenAIBaseURL:   getenv("OPENAI_BASE_URL"),
		OpenAIKey:       getenv("OPENAI_API_KEY"),
		OpenAIModel:     getenv("OPENAI_MODEL"),
		SecondMeBaseURL: getenv("SECONDME_BASE_URL"),
		SecondMeModel:   getenv("SECONDME_MODEL"),
	}
	if v := getenv("LLM_SECONDME_TWINS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return llm.Config{}, fmt.Errorf("LLM_SECONDME_TWINS=%q: want true or false", v)
		}
		cfg.SecondMeTwins = b
	}
	if v := getenv("LLM_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return llm.Config{}, fmt.Errorf("LLM_TIMEOUT=%q: want a positive duration such as 30s", v)
		}
		cfg.Timeout = d
	}
	if v := getenv("OFFLINE_PACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return llm.Config{}, fmt.Errorf("OFFLINE_PACE=%q: want a duration such as 25ms", v)
		}
		cfg.OfflinePace = d
	}
	return cfg, nil
}
