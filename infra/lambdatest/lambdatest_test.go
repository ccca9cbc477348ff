package lambdatest_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secondme/twin/infra/lambdatest"
)

// fixture is the harness's own test function, built once for every test here.
const fixture = "./infra/lambdatest/testdata/health"

func event(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestInvokeHTTP(t *testing.T) {
	emu := lambdatest.Start(t, lambdatest.Build(t, fixture), []string{"GREETING=hello from the test"})
	tests := []struct {
		name       string
		event      string
		wantStatus int
		wantBody   map[string]any
	}{
		{
			name:       "health answers ok",
			event:      "apigw_health.json",
			wantStatus: 200,
			wantBody:   map[string]any{"status": "ok"},
		},
		{
			name:       "the function sees the environment given to Start, and its name",
			event:      "apigw_env.json",
			wantStatus: 200,
			wantBody:   map[string]any{"greeting": "hello from the test", "function": "health"},
		},
		{
			name:       "an unknown route is a JSON 404",
			event:      "apigw_unknown_route.json",
			wantStatus: 404,
			wantBody: map[string]any{"error": map[string]any{
				"code": "not_found", "message": "no route /api/no-such-route",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := emu.InvokeHTTP(t, event(t, tt.event))
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Headers["Content-Type"]; !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", got)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatalf("body %q: %v", resp.Body, err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, tt.wantBody); g != w {
				t.Errorf("body = %s, want %s", g, w)
			}
		})
	}
	if logs := emu.Logs(); !strings.Contains(logs, "path=/api/health") || !strings.Contains(logs, "requestId=") {
		t.Errorf("the function's access log with its Lambda request id is not in the emulator output:\n%s", logs)
	}
}

func TestInvokeReturnsAFunctionError(t *testing.T) {
	emu := lambdatest.Start(t, lambdatest.Build(t, fixture), nil)
	payload := emu.Invoke(t, []byte(`"not an API Gateway event"`))
	var fnErr struct{ ErrorMessage, ErrorType string }
	if err := json.Unmarshal(payload, &fnErr); err != nil || fnErr.ErrorType == "" {
		t.Fatalf("payload = %s, want a Lambda function error", payload)
	}
}

// TestEmulatorsRunSideBySide starts two emulators at once: each needs its own ports, the Runtime
// API's included, for packages to test their functions in parallel.
func TestEmulatorsRunSideBySide(t *testing.T) {
	boot := lambdatest.Build(t, fixture)
	emus := []*lambdatest.Emulator{lambdatest.Start(t, boot, nil), lambdatest.Start(t, boot, nil)}
	for round := range 2 {
		for i, emu := range emus {
			if got := emu.InvokeHTTP(t, event(t, "apigw_health.json")).StatusCode; got != 200 {
				t.Errorf("round %d: emulator %d answered %d, want 200", round, i, got)
			}
		}
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
