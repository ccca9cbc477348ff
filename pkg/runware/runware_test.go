package runware_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/runware"
	"github.com/secondme/twin/pkg/runware/runwaretest"
)

func TestGenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		key      string
		script   []runwaretest.Reply
		timeout  time.Duration
		wantErr  error
		requests int
		fetches  int
		code     string
	}{
		{name: "success", requests: 1, fetches: 1},
		{name: "nsfw flagged", script: []runwaretest.Reply{{NSFW: true}}, wantErr: runware.ErrNSFW, requests: 1},
		{name: "4xx error array", script: []runwaretest.Reply{{Status: http.StatusBadRequest,
			Errors: []runwaretest.Error{{Code: "invalidPositivePrompt", Message: "Prompt refused.",
				Parameter: "positivePrompt"}}}},
			wantErr: runware.ErrRejected, requests: 1, code: "invalidPositivePrompt"},
		{name: "wrong key", key: "wrong", wantErr: runware.ErrRejected, requests: 0, code: "invalidApiKey"},
		{name: "slow beyond the deadline", script: []runwaretest.Reply{{Delay: 5 * time.Second}},
			timeout: 200 * time.Millisecond, wantErr: runware.ErrUnavailable, requests: 1},
		{name: "5xx then success", script: []runwaretest.Reply{{Status: http.StatusServiceUnavailable}},
			requests: 2, fetches: 1},
		{name: "429 error array then success", script: []runwaretest.Reply{{Status: http.StatusTooManyRequests,
			Errors: []runwaretest.Error{{Code: "rateLimitExceeded", Message: "Slow down."}}}}, requests: 2, fetches: 1},
		{name: "5xx twice", script: []runwaretest.Reply{{Status: 502}, {Status: 500}},
			wantErr: runware.ErrUnavailable, requests: 2},
		{name: "image of the wrong size", script: []runwaretest.Reply{{ImageSize: 256}},
			wantErr: runware.ErrBadImage, requests: 1, fetches: 1},
		{name: "image over 2 MB", script: []runwaretest.Reply{{ImagePadding: runware.MaxImageBytes}},
			wantErr: runware.ErrBadImage, requests: 1, fetches: 1},
		{name: "image with a false content type", script: []runwaretest.Reply{{ImageType: "image/png"}},
			wantErr: runware.ErrBadImage, requests: 1, fetches: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := runwaretest.New(t)
			fake.Script(tt.script...)
			key := runwaretest.Key
			if tt.key != "" {
				key = tt.key
			}
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			c, err := runware.New(runware.Config{APIKey: key, BaseURL: fake.URL(), Timeout: timeout,
				RetryDelay: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			img, err := c.Generate(context.Background(), "a watercolour portrait of a fox who loves jazz")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Generate error = %v, want %v", err, tt.wantErr)
			}
			var apiErr *runware.APIError
			if tt.code != "" && (!errors.As(err, &apiErr) || apiErr.Code != tt.code) {
				t.Errorf("error %v does not carry Runware code %q", err, tt.code)
			}
			tasks := fake.Tasks()
			if tt.key == "" && len(tasks) != tt.requests {
				t.Errorf("requests = %d, want %d", len(tasks), tt.requests)
			}
			if fake.Fetches() != tt.fetches {
				t.Errorf("image fetches = %d, want %d", fake.Fetches(), tt.fetches)
			}
			if err != nil {
				return
			}
			task := tasks[len(tasks)-1]
			if img.ContentType != "image/jpeg" || img.Width != 512 || img.Height != 512 || len(img.Data) == 0 {
				t.Errorf("image = %s %d×%d, %d bytes", img.ContentType, img.Width, img.Height, len(img.Data))
			}
			if img.Cost != runwaretest.Cost || img.TaskUUID != task.TaskUUID || img.Model != runware.DefaultModel {
				t.Errorf("image cost %v task %q model %q, want %v %q %q", img.Cost, img.TaskUUID, img.Model,
					runwaretest.Cost, task.TaskUUID, runware.DefaultModel)
			}
			if !task.CheckNSFW || !task.IncludeCost || task.NumberResults != 1 || task.OutputType != "URL" {
				t.Errorf("task sent = %+v", task)
			}
		})
	}
}

func TestGenerateRetriesWithTheSameTask(t *testing.T) {
	t.Parallel()
	fake := runwaretest.New(t)
	fake.Script(runwaretest.Reply{Status: http.StatusInternalServerError})
	c, err := runware.New(runware.Config{APIKey: runwaretest.Key, BaseURL: fake.URL(), RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Generate(context.Background(), "a portrait"); err != nil {
		t.Fatal(err)
	}
	tasks := fake.Tasks()
	if len(tasks) != 2 || tasks[0] != tasks[1] {
		t.Errorf("tasks = %+v, want the same task twice", tasks)
	}
}

func TestGenerateCallerCancels(t *testing.T) {
	t.Parallel()
	fake := runwaretest.New(t)
	fake.Script(runwaretest.Reply{Delay: 5 * time.Second})
	c, err := runware.New(runware.Config{APIKey: runwaretest.Key, BaseURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Generate(ctx, "a portrait"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Generate error = %v, want the caller's context error", err)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  runware.Config
	}{
		{name: "no key", cfg: runware.Config{}},
		{name: "size not a multiple of 64", cfg: runware.Config{APIKey: "k", Size: 500}},
		{name: "size too large", cfg: runware.Config{APIKey: "k", Size: 4096}},
		{name: "base URL not http", cfg: runware.Config{APIKey: "k", BaseURL: "ftp://x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := runware.New(tt.cfg); err == nil {
				t.Errorf("New(%+v) accepted", tt.cfg)
			}
		})
	}
}

func TestGenerateRefusesEmptyPrompt(t *testing.T) {
	t.Parallel()
	fake := runwaretest.New(t)
	c, err := runware.New(runware.Config{APIKey: runwaretest.Key, BaseURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Generate(context.Background(), "  "); err == nil || len(fake.Tasks()) != 0 {
		t.Errorf("empty prompt: err %v, %d requests", err, len(fake.Tasks()))
	}
}
