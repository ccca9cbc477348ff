package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/genai"
)

// gemini is Google's Gemini API through google.golang.org/genai (REST). A request with an onDelta
// streams through :streamGenerateContent?alt=sse; without one it is a single :generateContent call.
type gemini struct {
	policy
	client *genai.Client
	model  string
}

var _ Model = (*gemini)(nil)

// newGemini builds the genai client once; it makes no request.
func newGemini(cfg Config, hc *http.Client) (*gemini, error) {
	client, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:      cfg.GeminiAPIKey,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  hc,
		HTTPOptions: genai.HTTPOptions{BaseURL: cfg.GeminiBaseURL},
	})
	if err != nil {
		return nil, fmt.Errorf("new gemini client: %w", err)
	}
	return &gemini{
		policy: policy{provider: ProviderGemini, timeout: cfg.Timeout, retryDelay: cfg.RetryDelay},
		client: client,
		model:  cfg.GeminiModel,
	}, nil
}

// Generate implements Model.
func (g *gemini) Generate(ctx context.Context, req Request, onDelta func(string) error) (Reply, error) {
	contents := make([]*genai.Content, 0, len(req.Messages))
	for _, m := range req.Messages {
		role := genai.Role(genai.RoleUser)
		if m.Role == RoleModel {
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
	return g.generate(ctx, onDelta, func(ctx context.Context, emit func(string) error) (string, error) {
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
			return "", transient(errors.New("gemini stream ended before a finish reason"))
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
	if errors.As(err, &apiErr) && apiErr.Code != 0 && !transientStatus(apiErr.Code) {
		return fmt.Errorf("gemini status %d %s: %s", apiErr.Code, apiErr.Status, apiErr.Message)
	}
	return transient(err)
}
