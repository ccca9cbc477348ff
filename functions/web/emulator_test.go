package main

import (
	"os"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/lambdatest"
	"github.com/secondme/twin/pkg/web"
)

// TestUnderEmulator runs the web bootstrap under the Runtime Interface Emulator with real API
// Gateway v2 events.
func TestUnderEmulator(t *testing.T) {
	emu := lambdatest.Start(t, lambdatest.Build(t, "./functions/web"), nil)
	tests := []struct {
		name       string
		event      string
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"the page with its CSP", "testdata/apigw_index.json", 200, "text/html", `<script type="module" src="/assets/`},
		{"an asset of an older version", "testdata/apigw_stale_asset.json", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := os.ReadFile(tt.event)
			if err != nil {
				t.Fatal(err)
			}
			resp := emu.InvokeHTTP(t, ev)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				return
			}
			if got := resp.Headers["Content-Type"]; !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := resp.Headers["Content-Security-Policy"]; got != web.ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy = %q, want %q", got, web.ContentSecurityPolicy)
			}
			if got := resp.Headers["Cache-Control"]; got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			if !strings.Contains(resp.Body, tt.wantBody) {
				t.Errorf("body does not contain %q:\n%s", tt.wantBody, resp.Body)
			}
		})
	}
}
