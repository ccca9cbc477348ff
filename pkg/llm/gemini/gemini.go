// Package gemini is the Gemini model provider: Google's Gemini API through google.golang.org/genai.
// Only the functions that ask a model link it (the genai SDK alone doubles a binary).
package gemini

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genai"

	"github.com/secondme/twin/pkg/llm"
)

// DefaultModel is the current Flash model, the one google.golang.org/genai's own examples use.
const DefaultModel = "gemini-3.5-flash"

// Provider declares Gemini: chosen when GEMINI_API_KEY is set (or, on AWS, read from the secret
// GEMINI_API_KEY_SECRET_ARN names); GEMINI_MODEL and GEMINI_BASE_URL (tests point it at llmtest.Gemini).
var Provider = llm.Provider{
	Name:     "gemini",
	Settings: map[string]string{"GEMINI_API_KEY": "", "GEMINI_MODEL": DefaultModel, "GEMINI_BASE_URL": ""},
	Secrets:  map[string]string{"GEMINI_API_KEY_SECRET_ARN": "GEMINI_API_KEY"},
	Chosen:   func(v llm.Values) bool { return v["GEMINI_API_KEY"] != "" },
	New: func(v llm.Values, o llm.Options) (llm.Model, error) {
		if v["GEMINI_API_KEY"] == "" {
			return nil, errors.New("gemini needs an API key (GEMINI_API_KEY or GEMINI_API_KEY_SECRET_ARN)")
		}
		return newGemini(v["GEMINI_API_KEY"], v["GEMINI_MODEL"], v["GEMINI_BASE_URL"], o)
	},
}

// gemini is Google's Gemini API through google.golang.org/genai (REST). A request with an onDelta
// streams through :streamGenerateContent?alt=sse; without one it is a single :generateContent call.
type gemini struct {
	call   llm.Policy
	client *genai.Client
	model  string
}

var _ llm.Model = (*gemini)(nil)

// newGemini builds the genai client once; it makes no request.
func newGemini(key, model, baseURL string, o llm.Options) (*gemini, error) {
	client, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:      key,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  o.HTTPClient,
		HTTPOptions: genai.HTTPOptions{BaseURL: baseURL},
	})
	if err != nil {
		return nil, fmt.Errorf("new gemini client: %w", err)
	}
	return &gemini{
		call:   llm.Policy{Provider: "gemini", Timeout: o.Timeout, RetryDelay: o.RetryDelay},
		client: client,
		model:  model,
	}, nil
}

// Generate implements Model.
func (g *gemini) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	contents := make([]*genai.Content, 0, len(req.Messages))
	for _, m := range req.Messages {
		role := genai.Role(genai.RoleUser)
		if m.Role == llm.RoleModel {
			role = genai.RoleModel
		}
		contents = append(contents, genai.NewContentFromText(m.Content, role))
	}
	config := &genai.GenerateContentConfig{MaxOutputTokens: int32(min(max(req.MaxTokens, 0), 1<<20))}
	if req.System != "" {
		config.SystemInstruction = &genai.Content{Parts: []*genai.Part{genai.NewPartFromText(req.System)}}
	}
	if req.Schema != nil {
		config.ResponseMIMEType = "application/json"
		config.ResponseJsonSchema = req.Schema
	}
	return g.call.Call(ctx, onDelta, func(ctx context.Context, emit func(string) error) (string, error) {
		var finish genai.FinishReason
		handle := func(resp *genai.GenerateContentResponse) error {
			if resp != nil && resp.PromptFeedback != nil && resp.PromptFeedback.BlockReason != "" {
				return fmt.Errorf("gemini blocked the prompt: %s", resp.PromptFeedback.BlockReason)
			}
			text, reason := geminiText(resp)
			if reason != "" {
				finish = reason
			}
			return emit(text)
		}
		if onDelta == nil {
			resp, err := g.client.Models.GenerateContent(ctx, g.model, contents, config)
			if err != nil {
				return "", geminiError(err)
			}
			if err := handle(resp); err != nil {
				return "", err
			}
		} else {
			for resp, err := range g.client.Models.GenerateContentStream(ctx, g.model, contents, config) {
				if err != nil {
					return "", geminiError(err)
				}
				if err := handle(resp); err != nil {
					return "", err
				}
			}
		}
		switch finish {
		case "":
			return "", llm.Transient(errors.New("gemini stream ended before a finish reason"))
		case genai.FinishReasonStop, genai.FinishReasonMaxTokens:
			return g.model, nil
		default:
			return "", fmt.Errorf("gemini stopped: %s", finish)
		}
	})
}

// geminiText returns the text of the first candidate (thoughts left out) and its finish reason.
func geminiText(resp *genai.GenerateContentResponse) (string, genai.FinishReason) {
	if resp == nil || len(resp.Candidates) == 0 || resp.Candidates[0] == nil {
		return "", ""
	}
	c := resp.Candidates[0]
	if c.Content == nil {
		return "", c.FinishReason
	}
	var b strings.Builder
	for _, p := range c.Content.Parts {
		if p != nil && !p.Thought {
			b.WriteString(p.Text)
		}
	}
	return b.String(), c.FinishReason
}

// geminiError marks what a retry may cure: transport failures, broken streams, 408, 429 and 5xx.
func geminiError(err error) error {
	var apiErr genai.APIError
	if errors.As(err, &apiErr) && apiErr.Code != 0 && !llm.TransientStatus(apiErr.Code) {
		return fmt.Errorf("gemini status %d %s: %s", apiErr.Code, apiErr.Status, apiErr.Message)
	}
	return llm.Transient(err)
}
