package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/secondme/twin/pkg/llm"
)

// OpenAI settings that OpenAI.Config sets.
const (
	OpenAIKey   = "test-openai-key"
	OpenAIModel = "test-model"
)

// OpenAI is a fake OpenAI-compatible endpoint: POST /v1/chat/completions answers the whole reply as
// JSON, or with "stream": true streams it as `data: {chunk}` events (choices[0].delta.content), a
// last chunk with finish_reason "stop", and `data: [DONE]`.
type OpenAI struct {
	*script
	srv *httptest.Server
}

// NewOpenAI starts a fake OpenAI-compatible endpoint on 127.0.0.1, closed when tb ends.
func NewOpenAI(tb testing.TB) *OpenAI {
	tb.Helper()
	f := &OpenAI{script: newScript()}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(f.srv.Close)
	return f
}

// URL is the base URL of the fake, "/v1" included (OPENAI_BASE_URL).
func (f *OpenAI) URL() string { return f.srv.URL + "/v1" }

// Values are the OpenAI provider's settings for this fake (openai.Provider.Model): its URL,
// OpenAIKey and OpenAIModel.
func (f *OpenAI) Values() llm.Values {
	return llm.Values{"OPENAI_BASE_URL": f.URL(), "OPENAI_API_KEY": OpenAIKey, "OPENAI_MODEL": OpenAIModel}
}

func (f *OpenAI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p := f.record(r, body)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		openAIError(w, http.StatusNotFound)
		return
	}
	var req struct {
		Model  string `json:"model"`
		Stream bool   `json:"stream"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		openAIError(w, http.StatusBadRequest)
		return
	}
	if !wait(r, p.delay) {
		return
	}
	if p.fail != 0 {
		openAIError(w, p.fail)
		return
	}
	if !req.Stream {
		if p.breakAfter >= 0 {
			breakOff(w)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": joined(p.chunks)}}}})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	flusher.Flush()
	event := func(delta map[string]any, finish any) {
		b, _ := json.Marshal(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}})
		fmt.Fprintf(w, "data: %s\n\n", b)
		flusher.Flush()
	}
	for i, c := range p.chunks {
		if i == p.breakAfter {
			breakOff(w)
		}
		if i > 0 && !wait(r, p.interval) {
			return
		}
		delta := map[string]any{"content": c}
		if i == 0 {
			delta["role"] = "assistant"
		}
		event(delta, nil)
	}
	if p.breakAfter >= len(p.chunks) {
		breakOff(w)
	}
	event(map[string]any{}, "stop")
	fmt.Fprint(w, "data: [DONE]\n\n")
	flusher.Flush()
}

// openAIError writes an OpenAI error body.
func openAIError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": "scripted failure", "type": "server_error", "code": status}})
}
