// Package llmboot wires a Lambda function's model from its environment (docs/llm.md). It is apart
// from package boot so that only the functions that ask a model link the model providers (the genai
// SDK alone doubles a binary).
package llmboot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/pkg/llm"
)

// Config reads the model settings of docs/llm.md: LLM_PROVIDER, GEMINI_API_KEY, GEMINI_MODEL,
// GEMINI_BASE_URL, OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL, LLM_SECONDME_TWINS,
// SECONDME_BASE_URL, SECONDME_MODEL and LLM_TIMEOUT. On AWS the keys come from Secrets Manager, read
// once here: GEMINI_API_KEY_SECRET_ARN and OPENAI_API_KEY_SECRET_ARN, used when the plain variable is
// unset. Nothing set means the offline model.
func Config(ctx context.Context, getenv func(string) string) (llm.Config, error) {
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
	for _, s := range []struct {
		arnVar string
		key    *string
	}{
		{"GEMINI_API_KEY_SECRET_ARN", &cfg.GeminiAPIKey},
		{"OPENAI_API_KEY_SECRET_ARN", &cfg.OpenAIKey},
	} {
		arn := getenv(s.arnVar)
		if arn == "" || *s.key != "" {
			continue
		}
		awsCfg, err := boot.AWSConfig(ctx, getenv)
		if err != nil {
			return llm.Config{}, err
		}
		v, err := boot.SecretString(ctx, awsCfg, arn)
		if err != nil {
			return llm.Config{}, fmt.Errorf("%s: %w", s.arnVar, err)
		}
		*s.key = strings.TrimSpace(v)
	}
	return cfg, nil
}

// Model returns the general model of Config (llm.New), and the config, from which the SecondMe twins
// are built when cfg.SecondMeEnabled() (llm.NewSecondMe with the auth service as token source).
func Model(ctx context.Context, getenv func(string) string) (llm.Model, llm.Config, error) {
	cfg, err := Config(ctx, getenv)
	if err != nil {
		return nil, llm.Config{}, err
	}
	m, err := llm.New(cfg, nil)
	if err != nil {
		return nil, llm.Config{}, err
	}
	return m, cfg, nil
}
