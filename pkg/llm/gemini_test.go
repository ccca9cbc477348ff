package llm_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/gemini"
	"github.com/secondme/twin/pkg/llm/llmtest"
)

// chatRequest is a three-turn conversation with a system prompt.
var chatRequest = llm.Request{
	System: "You are the AI twin of Ada.",
	Messages: []llm.Message{
		{Role: llm.RoleUser, Content: "Hi Ada"},
		{Role: llm.RoleModel, Content: "Hello!"},
		{Role: llm.RoleUser, Content: "What do you do on weekends?"},
	},
	MaxTokens: 100,
}

// collect returns an onDelta that appends to *deltas.
func collect(deltas *[]string) func(string) error {
	return func(s string) error {
		*deltas = append(*deltas, s)
		return nil
	}
}

// testOptions are the call options of the tests: a 5 s deadline and a 1 ms retry delay.
var testOptions = llm.Options{Timeout: 5 * time.Second, RetryDelay: time.Millisecond}

// newModel builds the model of provider p with values v and options o, failing tb on error.
func newModel(tb testing.TB, p llm.Provider, v llm.Values, o llm.Options) llm.Model {
	tb.Helper()
	m, err := p.Model(v, o)
	if err != nil {
		tb.Fatalf("%s: %v", p.Name, err)
	}
	return m
}

// path walks a decoded JSON value: string keys index objects, ints index arrays.
func path(tb testing.TB, v any, keys ...any) any {
	tb.Helper()
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				tb.Fatalf("at %q: not an object: %v", k, v)
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				tb.Fatalf("at [%d]: not an array that long: %v", k, v)
			}
			v = a[k]
		}
	}
	return v
}

func TestGeminiStreamsThroughStreamGenerateContent(t *testing.T) {
	t.Parallel()
	f := llmtest.NewGemini(t)
	f.Chunks("Hiking, ", "mostly ", "in the Alps.")
	var deltas []string
	reply, err := newModel(t, gemini.Provider, f.Values(), testOptions).Generate(context.Background(), chatRequest, collect(&deltas))
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if got, want := deltas, []string{"Hiking, ", "mostly ", "in the Alps."}; !reflect.DeepEqual(got, want) {
		t.Errorf("deltas = %q, want %q", got, want)
	}
	if got, want := reply, (llm.Reply{Text: "Hiking, mostly in the Alps.", Model: gemini.DefaultModel}); got != want {
		t.Errorf("reply = %+v, want %+v", got, want)
	}

	reqs := f.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if got, want := r.Method+" "+r.Path, "POST /v1beta/models/"+gemini.DefaultModel+":streamGenerateContent"; got != want {
		t.Errorf("request = %q, want %q", got, want)
	}
	if got := r.Query.Get("alt"); got != "sse" {
		t.Errorf("alt = %q, want sse", got)
	}
	if got := r.Header.Get("x-goog-api-key"); got != llmtest.GeminiKey {
		t.Errorf("x-goog-api-key = %q, want %q", got, llmtest.GeminiKey)
	}
	body := r.JSON(t)
	if got := path(t, body, "systemInstruction", "parts", 0, "text"); got != chatRequest.System {
		t.Errorf("systemInstruction text = %v, want %q", got, chatRequest.System)
	}
	for i, want := range []struct{ role, text string }{{"user", "Hi Ada"}, {"model", "Hello!"}, {"user", "What do you do on weekends?"}} {
		if got := path(t, body, "contents", i, "role"); got != want.role {
			t.Errorf("contents[%d].role = %v, want %q", i, got, want.role)
		}
		if got := path(t, body, "contents", i, "parts", 0, "text"); got != want.text {
			t.Errorf("contents[%d] text = %v, want %q", i, got, want.text)
		}
	}
	if n := len(path(t, body, "contents").([]any)); n != 3 {
		t.Errorf("%d contents, want 3", n)
	}
	if got := path(t, body, "generationConfig", "maxOutputTokens"); got != float64(100) {
		t.Errorf("maxOutputTokens = %v, want 100", got)
	}
	if got := path(t, body, "generationConfig", "responseMimeType"); got != nil {
		t.Errorf("responseMimeType = %v for a plain chat, want none", got)
	}
}

func TestGeminiWithoutOnDeltaCallsGenerateContent(t *testing.T) {
	t.Parallel()
	f := llmtest.NewGemini(t)
	f.Reply("One whole answer.", 3)
	v := f.Values()
	v["GEMINI_MODEL"] = "gemini-test-flash"
	reply, err := newModel(t, gemini.Provider, v, testOptions).Generate(context.Background(), chatRequest, nil)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if got, want := reply.Text, "One whole answer."; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if got, want := reply.Model, "gemini-test-flash"; got != want {
		t.Errorf("model = %q, want %q", got, want)
	}
	r := f.Requests()[0]
	if got, want := r.Path, "/v1beta/models/gemini-test-flash:generateContent"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
}

func TestGeminiAsksForJSONWithTheSchema(t *testing.T) {
	t.Parallel()
	schema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"score":     map[string]any{"type": "integer", "minimum": 0, "maximum": 100},
			"reasoning": map[string]any{"type": "string"},
		},
		"required": []any{"score", "reasoning"},
	}
	for _, stream := range []bool{false, true} {
		f := llmtest.NewGemini(t)
		f.Reply(`{"score": 72, "reasoning": "Both hike."}`, 2)
		req := chatRequest
		req.Schema = schema
		var onDelta func(string) error
		if stream {
			onDelta = func(string) error { return nil }
		}
		reply, err := newModel(t, gemini.Provider, f.Values(), testOptions).Generate(context.Background(), req, onDelta)
		if err != nil {
			t.Fatalf("stream %v: Generate: %v", stream, err)
		}
		if got, want := reply.Text, `{"score": 72, "reasoning": "Both hike."}`; got != want {
			t.Errorf("stream %v: text = %q, want %q", stream, got, want)
		}
		body := f.Requests()[0].JSON(t)
		if got := path(t, body, "generationConfig", "responseMimeType"); got != "application/json" {
			t.Errorf("stream %v: responseMimeType = %v, want application/json", stream, got)
		}
		got := path(t, body, "generationConfig", "responseJsonSchema")
		want := map[string]any{
			"type": "object",
			"properties": map[string]any{
				"score":     map[string]any{"type": "integer", "minimum": float64(0), "maximum": float64(100)},
				"reasoning": map[string]any{"type": "string"},
			},
			"required": []any{"score", "reasoning"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stream %v: responseJsonSchema = %v, want %v", stream, got, want)
		}
	}
}
