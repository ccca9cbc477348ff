// Package openai is the model provider of any OpenAI-compatible chat-completions endpoint (OpenAI,
// Ollama, vLLM, llama.cpp server), over plain net/http.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/secondme/twin/pkg/llm"
)

// DefaultBaseURL is OpenAI's own endpoint; Ollama is http://127.0.0.1:11434/v1.
const DefaultBaseURL = "https://api.openai.com/v1"

// Provider declares the OpenAI-compatible endpoint: chosen when OPENAI_BASE_URL is set (and no Gemini
// key is); OPENAI_MODEL (required), OPENAI_API_KEY (sent as a bearer token when set; on AWS it may come
// from the secret OPENAI_API_KEY_SECRET_ARN names).
var Provider = llm.Provider{
	Name:     "openai",
	Settings: map[string]string{"OPENAI_BASE_URL": DefaultBaseURL, "OPENAI_API_KEY": "", "OPENAI_MODEL": ""},
	Secrets:  map[string]string{"OPENAI_API_KEY_SECRET_ARN": "OPENAI_API_KEY"},
	Chosen:   func(v llm.Values) bool { return v["OPENAI_BASE_URL"] != "" },
	New: func(v llm.Values, o llm.Options) (llm.Model, error) {
		if v["OPENAI_MODEL"] == "" {
			return nil, errors.New("openai needs a model name (OPENAI_MODEL)")
		}
		return &openAI{
			call:  llm.Policy{Provider: "openai", Timeout: o.Timeout, RetryDelay: o.RetryDelay},
			hc:    o.HTTPClient,
			url:   strings.TrimSuffix(v["OPENAI_BASE_URL"], "/") + "/chat/completions",
			key:   v["OPENAI_API_KEY"],
			model: v["OPENAI_MODEL"],
		}, nil
	},
}

// openAI is any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM, llama.cpp
// server) over plain net/http. A request with an onDelta streams (`stream: true`, SSE); without one
// it is a single JSON answer.
type openAI struct {
	call  llm.Policy
	hc    *http.Client
	url   string
	key   string
	model string
}

var _ llm.Model = (*openAI)(nil)

// openAIRequest is the body of POST /chat/completions.
type openAIRequest struct {
	Model          string          `json:"model"`
	Messages       []openAIMessage `json:"messages"`
	Stream         bool            `json:"stream"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	ResponseFormat *openAIFormat   `json:"response_format,omitempty"`
}

type openAIMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type openAIFormat struct {
	Type       string           `json:"type"`
	JSONSchema openAIJSONSchema `json:"json_schema"`
}

type openAIJSONSchema struct {
	Name   string         `json:"name"`
	Schema map[string]any `json:"schema"`
}

// openAIResponse is a whole answer (`message`) or one stream chunk (`delta`), or an error.
type openAIResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Delta        openAIMessage `json:"delta"`
		Message      openAIMessage `json:"message"`
		FinishReason *string       `json:"finish_reason"`
	} `json:"choices"`
	Error *struct {
		Message string `json:"message"`
		Code    any    `json:"code"`
	} `json:"error"`
}

// Generate implements Model.
func (o *openAI) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	body := openAIRequest{Model: o.model, Stream: onDelta != nil, MaxTokens: req.MaxTokens}
	if req.System != "" {
		body.Messages = append(body.Messages, openAIMessage{Role: "system", Content: req.System})
	}
	for _, m := range req.Messages {
		role := "user"
		if m.Role == llm.RoleModel {
			role = "assistant"
		}
		body.Messages = append(body.Messages, openAIMessage{Role: role, Content: m.Content})
	}
	if req.Schema != nil {
		body.ResponseFormat = &openAIFormat{Type: "json_schema", JSONSchema: openAIJSONSchema{Name: "reply", Schema: req.Schema}}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return llm.Reply{}, fmt.Errorf("openai: encode request: %w", err)
	}
	return o.call.Call(ctx, onDelta, func(ctx context.Context, emit func(string) error) (string, error) {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(payload))
		if err != nil {
			return "", fmt.Errorf("openai: new request: %w", err)
		}
		hreq.Header.Set("Content-Type", "application/json")
		if o.key != "" {
			hreq.Header.Set("Authorization", "Bearer "+o.key)
		}
		if body.Stream {
			hreq.Header.Set("Accept", "text/event-stream")
		}
		resp, err := o.hc.Do(hreq)
		if err != nil {
			return "", llm.Transient(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err := fmt.Errorf("openai status %d: %s", resp.StatusCode, errorSnippet(resp.Body))
			if llm.TransientStatus(resp.StatusCode) {
				return "", llm.Transient(err)
			}
			return "", err
		}
		var model string
		if body.Stream {
			model, err = readOpenAIStream(resp.Body, emit)
		} else {
			model, err = readOpenAIMessage(resp.Body, emit)
		}
		if err != nil {
			return "", err
		}
		if model == "" {
			model = o.model
		}
		return model, nil
	})
}

// readOpenAIStream reads a chat-completions SSE stream: `data: {chunk}` events with
// choices[0].delta.content, ending with `data: [DONE]`. A stream that ends without [DONE] or a
// finish_reason is broken. It returns the model the chunks name.
func readOpenAIStream(r io.Reader, emit func(string) error) (string, error) {
	sse := llm.NewSSEReader(r)
	model, finished := "", false
	for {
		ev, err := sse.Next()
		if errors.Is(err, io.EOF) {
			if finished {
				return model, nil
			}
			return "", llm.Transient(errors.New("openai stream ended before [DONE]"))
		}
		if err != nil {
			return "", llm.Transient(fmt.Errorf("read openai stream: %w", err))
		}
		if ev.Event != "" && ev.Event != "message" && ev.Event != "error" {
			continue
		}
		data := strings.TrimSpace(ev.Data)
		if data == "[DONE]" {
			return model, nil
		}
		var chunk openAIResponse
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			return "", fmt.Errorf("decode openai chunk: %w", err)
		}
		if chunk.Error != nil || ev.Event == "error" {
			return "", openAIStreamError(chunk)
		}
		if chunk.Model != "" {
			model = chunk.Model
		}
		if len(chunk.Choices) == 0 {
			continue
		}
		if text := chunk.Choices[0].Delta.Content; text != "" {
			if err := emit(text); err != nil {
				return "", err
			}
		}
		if chunk.Choices[0].FinishReason != nil && *chunk.Choices[0].FinishReason != "" {
			finished = true
		}
	}
}

// openAIStreamError is the error an in-stream error event reports.
func openAIStreamError(chunk openAIResponse) error {
	if chunk.Error == nil {
		return llm.Transient(errors.New("openai stream error"))
	}
	return llm.Transient(fmt.Errorf("openai stream error %v: %s", chunk.Error.Code, chunk.Error.Message))
}

// readOpenAIMessage reads a whole (non-streamed) chat-completions answer.
func readOpenAIMessage(r io.Reader, emit func(string) error) (string, error) {
	var resp openAIResponse
	if err := json.NewDecoder(io.LimitReader(r, llm.MaxSSEEvent)).Decode(&resp); err != nil {
		return "", llm.Transient(fmt.Errorf("decode openai answer: %w", err))
	}
	if resp.Error != nil {
		return "", openAIStreamError(resp)
	}
	if len(resp.Choices) == 0 {
		return "", errors.New("openai answer without choices")
	}
	return resp.Model, emit(resp.Choices[0].Message.Content)
}

// errorSnippet returns the start of an error body, for the log; never a whole page.
func errorSnippet(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	return strings.TrimSpace(string(b))
}
