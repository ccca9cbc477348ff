// Package llmboot wires a Lambda function's model from its environment (docs/llm.md). It is apart
// from package boot so that only the functions that ask a model link the model providers (the genai
// SDK alone doubles a binary).
package llmboot

import (
	"context"
	"fmt"
	"strings"

	"github.com/secondme/twin/functions/internal/boot"
	"github.com/secondme/twin/pkg/llm"
	_ "github.com/secondme/twin/pkg/llm/offline" // the default model
)

// Config reads the model settings of docs/llm.md (llm.ConfigFrom). On AWS the keys come from Secrets
// Manager, read once here: GEMINI_API_KEY_SECRET_ARN and OPENAI_API_KEY_SECRET_ARN, used when the plain
// variable is unset. Nothing set means the offline model.
func Config(ctx context.Context, getenv func(string) string) (llm.Config, error) {
	cfg, err := llm.ConfigFrom(getenv)
	if err != nil {
		return llm.Config{}, err
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
