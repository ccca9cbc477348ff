package llmtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/llm/llmtest"
)

// post sends body to url and returns the status and the whole answer.
func post(tb testing.TB, url, body string) (int, string) {
	tb.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestGeminiStreamFraming(t *testing.T) {
	t.Parallel()
	f := llmtest.NewGemini(t)
	f.Chunks("Hel", "lo")
	status, got := post(t, f.URL()+"/v1beta/models/m:streamGenerateContent?alt=sse", `{}`)
	want := `data: {"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"modelVersion":"m"}` + "\r\n\r\n" +
		`data: {"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP","index":0}],` +
		`"modelVersion":"m","usageMetadata":{"candidatesTokenCount":5,"promptTokenCount":10,"totalTokenCount":15}}` + "\r\n\r\n"
	if status != http.StatusOK || got != want {
		t.Errorf("got %d\n%s\nwant 200\n%s", status, got, want)
	}
}

func TestOpenAIStreamFraming(t *testing.T) {
	t.Parallel()
	f := llmtest.NewOpenAI(t)
	f.Chunks("Hi")
	status, got := post(t, f.URL()+"/chat/completions", `{"model":"m","stream":true}`)
	want := `data: {"choices":[{"delta":{"content":"Hi","role":"assistant"},"finish_reason":null,"index":0}],"id":"chatcmpl-fake","model":"m","object":"chat.completion.chunk"}` + "\n\n" +
		`data: {"choices":[{"delta":{},"finish_reason":"stop","index":0}],"id":"chatcmpl-fake","model":"m","object":"chat.completion.chunk"}` + "\n\n" +
		"data: [DONE]\n\n"
	if status != http.StatusOK || got != want {
		t.Errorf("got %d\n%s\nwant 200\n%s", status, got, want)
	}
}

func TestScript(t *testing.T) {
	t.Parallel()
	f := llmtest.NewOpenAI(t)
	f.FailNext(503, 429)
	for _, want := range []int{503, 429, 200} {
		if status, _ := post(t, f.URL()+"/chat/completions", `{"model":"m"}`); status != want {
			t.Errorf("status %d, want %d", status, want)
		}
	}
	if got := len(f.Requests()); got != 3 {
		t.Errorf("%d requests recorded, want 3", got)
	}

	f.Reply("abcdef", 3)
	f.Interval(30 * time.Millisecond)
	start := time.Now()
	_, body := post(t, f.URL()+"/chat/completions", `{"model":"m","stream":true}`)
	if elapsed := time.Since(start); elapsed < 60*time.Millisecond {
		t.Errorf("3 chunks 30 ms apart took %v", elapsed)
	}
	for _, c := range []string{`"ab"`, `"cd"`, `"ef"`} {
		if !strings.Contains(body, c) {
			t.Errorf("stream lacks chunk %s:\n%s", c, body)
		}
	}
}
