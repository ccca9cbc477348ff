package llm_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/llmtest"
	"github.com/secondme/twin/pkg/llm/openai"
)

func TestOpenAIStreamsChatCompletions(t *testing.T) {
	t.Parallel()
	f := llmtest.NewOpenAI(t)
	f.Chunks("Hiking, ", "mostly ", "in the Alps.")
	var deltas []string
	reply, err := newModel(t, openai.Provider, f.Values(), testOptions).Generate(context.Background(), chatRequest, collect(&deltas))
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if got, want := deltas, []string{"Hiking, ", "mostly ", "in the Alps."}; !reflect.DeepEqual(got, want) {
		t.Errorf("deltas = %q, want %q", got, want)
	}
	if got, want := reply, (llm.Reply{Text: "Hiking, mostly in the Alps.", Model: llmtest.OpenAIModel}); got != want {
		t.Errorf("reply = %+v, want %+v", got, want)
	}
	r := f.Requests()[0]
	if got, want := r.Method+" "+r.Path, "POST /v1/chat/completions"; got != want {
		t.Errorf("request = %q, want %q", got, want)
	}
	if got, want := r.Header.Get("Authorization"), "Bearer "+llmtest.OpenAIKey; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	body := r.JSON(t)
	want := map[string]any{
		"model":  llmtest.OpenAIModel,
		"stream": true,
		"messages": []any{
			map[string]any{"role": "system", "content": chatRequest.System},
			map[string]any{"role": "user", "content": "Hi Ada"},
			map[string]any{"role": "assistant", "content": "Hello!"},
			map[string]any{"role": "user", "content": "What do you do on weekends?"},
		},
		"max_tokens": float64(100),
	}
	if !reflect.DeepEqual(body, want) {
		t.Errorf("body = %v\nwant %v", body, want)
	}
}

func TestOpenAIWithoutOnDeltaAndWithSchema(t *testing.T) {
	t.Parallel()
	f := llmtest.NewOpenAI(t)
	f.Reply(`{"score": 40}`, 3)
	v := f.Values()
	v["OPENAI_API_KEY"] = "" // local servers need none
	req := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "judge"}},
		Schema: map[string]any{"type": "object", "properties": map[string]any{"score": map[string]any{"type": "integer"}}}}
	reply, err := newModel(t, openai.Provider, v, testOptions).Generate(context.Background(), req, nil)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if got, want := reply.Text, `{"score": 40}`; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	r := f.Requests()[0]
	if got := r.Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q without a key, want none", got)
	}
	body := r.JSON(t)
	if body["stream"] != false {
		t.Errorf("stream = %v, want false", body["stream"])
	}
	if _, ok := body["max_tokens"]; ok {
		t.Errorf("max_tokens sent for MaxTokens 0")
	}
	wantFormat := map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "reply",
		"schema": map[string]any{"type": "object", "properties": map[string]any{"score": map[string]any{"type": "integer"}}}}}
	if !reflect.DeepEqual(body["response_format"], wantFormat) {
		t.Errorf("response_format = %v, want %v", body["response_format"], wantFormat)
	}
}
