package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/secondme/twin/infra/lambdatest"
	"github.com/secondme/twin/pkg/awstest"
	"github.com/secondme/twin/pkg/web"
)

// edgeSecret is the application secret's originVerify, which the edge sends in X-Origin-Verify (every
// fixture carries it, as CloudFront adds it).
const edgeSecret = "emulator-edge-secret"

// TestUnderEmulator runs the web bootstrap under the Runtime Interface Emulator with real API
// Gateway v2 events, behind the public origin whose edge secret is read from the application secret.
func TestUnderEmulator(t *testing.T) {
	app, _ := json.Marshal(map[string]string{"originVerify": edgeSecret})
	const appARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app"
	secrets := httptest.NewServer(awstest.NewSecrets(map[string]string{appARN: string(app)}))
	t.Cleanup(secrets.Close)
	emu := lambdatest.Start(t, lambdatest.Build(t, "./functions/web"), []string{
		"SECRETS_ARN=" + appARN,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + secrets.URL,
		"PUBLIC_URL=https://twin.example",
	})
	noEdge := func(ev string) string { return strings.Replace(ev, `"x-origin-verify": "`+edgeSecret+`",`, "", 1) }
	tests := []struct {
		name       string
		event      string
		edit       func(string) string
		wantStatus int
		wantType   string
		wantBody   string
	}{
		{"the page with its CSP", "testdata/apigw_index.json", nil, 200, "text/html", `<script type="module" src="/assets/`},
		{"an asset of an older version", "testdata/apigw_stale_asset.json", nil, 404, "", ""},
		{"the page around the edge", "testdata/apigw_index.json", noEdge, 403, "application/json", `"permission_denied"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := os.ReadFile(tt.event)
			if err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				ev = []byte(tt.edit(string(ev)))
			}
			resp := emu.InvokeHTTP(t, ev)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantType == "" {
				return
			}
			if got := resp.Headers["Content-Type"]; !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if !strings.Contains(resp.Body, tt.wantBody) {
				t.Errorf("body does not contain %q:\n%s", tt.wantBody, resp.Body)
			}
			if tt.wantStatus != 200 {
				return
			}
			if got := resp.Headers["Content-Security-Policy"]; got != web.ContentSecurityPolicy {
				t.Errorf("Content-Security-Policy = %q, want %q", got, web.ContentSecurityPolicy)
			}
			if got := resp.Headers["Cache-Control"]; got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
		})
	}
}
