package llm_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/gemini"
	"github.com/secondme/twin/pkg/llm/llmtest"
	"github.com/secondme/twin/pkg/llm/openai"
)

// fake is what the fake model servers of llmtest have in common.
type fake interface {
	Chunks(chunks ...string)
	FailNext(statuses ...int)
	Delay(d time.Duration)
	BreakAfter(n int)
	Requests() []llmtest.Request
	Values() llm.Values
}

// served is a network provider with its fake.
type served struct {
	provider llm.Provider
	fake
}

// fakes starts one fake of each network provider that llmtest serves.
func fakes(t *testing.T) map[string]served {
	return map[string]served{"gemini": {gemini.Provider, llmtest.NewGemini(t)}, "openai": {openai.Provider, llmtest.NewOpenAI(t)}}
}

func TestProvidersRetryOnceAndTimeOut(t *testing.T) {
	t.Parallel()
	errStop := errors.New("client went away")
	cases := []struct {
		name    string
		setup   func(f fake)
		timeout time.Duration
		onDelta func(string) error
		// cancelAfter cancels the caller's context after this long (0: never).
		cancelAfter time.Duration
		wantErr     error
		wantText    string
		wantCalls   int
	}{
		{name: "500 then an answer", setup: func(f fake) { f.FailNext(500) }, wantText: "one two three", wantCalls: 2},
		{name: "429 then an answer", setup: func(f fake) { f.FailNext(429) }, wantText: "one two three", wantCalls: 2},
		{name: "503 twice", setup: func(f fake) { f.FailNext(503, 503) }, wantErr: llm.ErrUnavailable, wantCalls: 2},
		{name: "400 is not retried", setup: func(f fake) { f.FailNext(400) }, wantErr: llm.ErrUnavailable, wantCalls: 1},
		{name: "401 is not retried", setup: func(f fake) { f.FailNext(401) }, wantErr: llm.ErrUnavailable, wantCalls: 1},
		{name: "broken before any text is retried", setup: func(f fake) { f.BreakAfter(0) },
			wantErr: llm.ErrUnavailable, wantCalls: 2},
		{name: "broken after text is not retried", setup: func(f fake) { f.BreakAfter(1) },
			wantErr: llm.ErrUnavailable, wantText: "one ", wantCalls: 1},
		{name: "a stalled model times out", setup: func(f fake) { f.Delay(5 * time.Second) },
			timeout: 100 * time.Millisecond, wantErr: llm.ErrUnavailable, wantCalls: 1},
		{name: "the caller cancels", setup: func(f fake) { f.Delay(5 * time.Second) },
			cancelAfter: 50 * time.Millisecond, wantErr: context.Canceled, wantCalls: 1},
		{name: "onDelta's error is returned as is", onDelta: func(string) error { return errStop },
			wantErr: errStop, wantText: "", wantCalls: 1},
	}
	for _, tc := range cases {
		for name, f := range fakes(t) {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				f.Chunks("one ", "two ", "three")
				if tc.setup != nil {
					tc.setup(f)
				}
				o := testOptions
				if tc.timeout > 0 {
					o.Timeout = tc.timeout
				}
				onDelta := tc.onDelta
				if onDelta == nil {
					onDelta = func(string) error { return nil }
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tc.cancelAfter > 0 {
					time.AfterFunc(tc.cancelAfter, cancel)
				}
				start := time.Now()
				reply, err := newModel(t, f.provider, f.Values(), o).Generate(ctx, chatRequest, onDelta)
				if elapsed := time.Since(start); elapsed > 2*time.Second {
					t.Errorf("took %v", elapsed)
				}
				switch {
				case tc.wantErr == nil && err != nil:
					t.Fatalf("Generate: %v", err)
				case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				case errors.Is(tc.wantErr, context.Canceled) && errors.Is(err, llm.ErrUnavailable):
					t.Errorf("a cancelled call reports %v, want only the context's error", err)
				}
				if got := reply.Text; got != tc.wantText {
					t.Errorf("text = %q, want %q", got, tc.wantText)
				}
				if got := len(f.Requests()); got != tc.wantCalls {
					t.Errorf("%d requests, want %d", got, tc.wantCalls)
				}
			})
		}
	}
}

// flaky is a transport whose first round trip fails as a refused connection would.
type flaky struct {
	calls int
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.calls++
	if f.calls == 1 {
		return nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestProvidersRetryConnectionErrors(t *testing.T) {
	t.Parallel()
	for name, f := range fakes(t) {
		t.Run(name, func(t *testing.T) {
			tr := &flaky{}
			o := testOptions
			o.HTTPClient = &http.Client{Transport: tr}
			m, err := f.provider.Model(f.Values(), o)
			if err != nil {
				t.Fatal(err)
			}
			reply, err := m.Generate(context.Background(), chatRequest, nil)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if got, want := reply.Text, llmtest.DefaultReply; got != want {
				t.Errorf("text = %q, want %q", got, want)
			}
			if got, want := tr.calls, 2; got != want {
				t.Errorf("%d round trips, want %d", got, want)
			}
		})
	}
}

func TestProviderErrorsNameTheProvider(t *testing.T) {
	t.Parallel()
	for name, f := range fakes(t) {
		t.Run(name, func(t *testing.T) {
			f.FailNext(400)
			_, err := newModel(t, f.provider, f.Values(), testOptions).Generate(context.Background(), chatRequest, nil)
			if !errors.Is(err, llm.ErrUnavailable) || !strings.HasPrefix(err.Error(), name+": ") {
				t.Fatalf("err = %v, want ErrUnavailable starting with %q", err, name)
			}
		})
	}
}
