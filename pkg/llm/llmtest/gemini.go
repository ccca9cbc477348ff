package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/llm"
)

// GeminiKey is the API key Gemini.Config sets.
const GeminiKey = "test-gemini-key"

// Gemini is a fake Gemini API: POST /{version}/models/{model}:generateContent answers the whole
// reply as JSON, and :streamGenerateContent?alt=sse streams it as server-sent events, one chunk per
// event, the last with finishReason STOP, as the real API does.
type Gemini struct {
	*script
	srv *httptest.Server
}

// NewGemini starts a fake Gemini on 127.0.0.1, closed when tb ends.
func NewGemini(tb testing.TB) *Gemini {
	tb.Helper()
	f := &Gemini{script: newScript()}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(f.srv.Close)
	return f
}

// URL is the base URL of the fake (GEMINI_BASE_URL).
func (f *Gemini) URL() string { return f.srv.URL }

// Values are the Gemini provider's settings for this fake (gemini.Provider.Model): its URL and
// GeminiKey.
func (f *Gemini) Values() llm.Values {
	return llm.Values{"GEMINI_API_KEY": GeminiKey, "GEMINI_BASE_URL": f.srv.URL}
}

func (f *Gemini) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p := f.record(r, body)
	_, method, _ := strings.Cut(r.URL.Path, ":")
	stream := method == "streamGenerateContent"
	if r.Method != http.MethodPost || !strings.Contains(r.URL.Path, "/models/") ||
		(method != "generateContent" && !stream) {
		geminiError(w, http.StatusNotFound, "NOT_FOUND")
		return
	}
	if !wait(r, p.delay) {
		return
	}
	if p.fail != 0 {
		geminiError(w, p.fail, http.StatusText(p.fail))
		return
	}
	_, model, _ := strings.Cut(r.URL.Path, "/models/")
	model, _, _ = strings.Cut(model, ":")
	if !stream {
		if p.breakAfter >= 0 {
			breakOff(w)
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_ = json.NewEncoder(w).Encode(geminiChunk(joined(p.chunks), model, true))
		return
	}
	if r.URL.Query().Get("alt") != "sse" {
		geminiError(w, http.StatusBadRequest, "INVALID_ARGUMENT")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	flusher.Flush()
	for i, c := range p.chunks {
		if i == p.breakAfter {
			breakOff(w)
		}
		if i > 0 && !wait(r, p.interval) {
			return
		}
		b, _ := json.Marshal(geminiChunk(c, model, i == len(p.chunks)-1))
		fmt.Fprintf(w, "data: %s\r\n\r\n", b)
		flusher.Flush()
	}
	if p.breakAfter >= len(p.chunks) {
		breakOff(w)
	}
}

// geminiChunk is a GenerateContentResponse with one text part.
func geminiChunk(text, model string, last bool) map[string]any {
	cand := map[string]any{"content": map[string]any{"role": "model", "parts": []any{map[string]any{"text": text}}}, "index": 0}
	resp := map[string]any{"candidates": []any{cand}, "modelVersion": model}
	if last {
		cand["finishReason"] = "STOP"
		resp["usageMetadata"] = map[string]any{"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}
	}
	return resp
}

// geminiError writes a Google API error body.
func geminiError(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": status, "message": "scripted failure", "status": reason}})
}
