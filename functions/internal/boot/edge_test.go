package boot

import (
	"context"
	"strings"
	"testing"
)

// forgetSecrets empties the secrets this process has read, so that a test serving other values under
// the same ARN reads them.
func forgetSecrets() {
	secretsRead.Lock()
	clear(secretsRead.values)
	secretsRead.Unlock()
}

func TestPublicURL(t *testing.T) {
	tests := []struct {
		value   string
		wantErr bool
	}{
		{"", false},
		{"https://twin.example", false},
		{"https://twin.example:8443", false},
		{"http://127.0.0.1:8080", false},
		{"http://[::1]:8080", false},
		{"https://twin.example/", true},
		{"https://twin.example/app", true},
		{"https://twin.example?x=1", true},
		{"https://twin.example#top", true},
		{"https://me@twin.example", true},
		{"twin.example", true},
		{"//twin.example", true},
		{"ftp://twin.example", true},
		{"https://", true},
		{"https://:443", true},
		{"https://twin.example:", true},
		{"https://twin.example:https", true},
		{"https://twin example", true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := PublicURL(env(map[string]string{"PUBLIC_URL": tt.value}))
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "PUBLIC_URL") {
					t.Errorf("PublicURL = %q, %v; want an error naming PUBLIC_URL", got, err)
				}
				return
			}
			if err != nil || got != tt.value {
				t.Errorf("PublicURL = %q, %v; want %q", got, err, tt.value)
			}
		})
	}
}

func TestEdge(t *testing.T) {
	ctx := context.Background()
	const public = "https://twin.example"
	tests := []struct {
		name       string
		secrets    map[string]string // secret id -> value
		env        map[string]string
		wantSecret string
		wantErr    string
	}{
		{"edge secret from the application secret", map[string]string{"app": `{"sealingKey":"k","originVerify":" ov-1 "}`},
			map[string]string{"PUBLIC_URL": public, "SECRETS_ARN": "app"}, "ov-1", ""},
		{"its own ARN wins", map[string]string{"app": `{"originVerify":"ov-1"}`, "ov": "ov-2"},
			map[string]string{"PUBLIC_URL": public, "SECRETS_ARN": "app", "ORIGIN_VERIFY_SECRET_ARN": "ov"}, "ov-2", ""},
		{"no originVerify field: no edge", map[string]string{"app": `{"sealingKey":"k"}`},
			map[string]string{"PUBLIC_URL": public, "SECRETS_ARN": "app"}, "", ""},
		{"no secret at all: no edge", nil, map[string]string{"PUBLIC_URL": public}, "", ""},
		{"no public URL", map[string]string{"app": `{"originVerify":"ov-1"}`}, map[string]string{"SECRETS_ARN": "app"}, "ov-1", ""},
		{"public URL with a path", nil, map[string]string{"PUBLIC_URL": public + "/app"}, "", "PUBLIC_URL"},
		{"secret missing", nil, map[string]string{"PUBLIC_URL": public, "SECRETS_ARN": "gone"}, "", "gone"},
		{"secret not JSON", map[string]string{"app": "plain"}, map[string]string{"PUBLIC_URL": public, "SECRETS_ARN": "app"}, "", "SECRETS_ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newFakeSecrets(t, tt.secrets)
			edge, err := Edge(ctx, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Edge = %+v, %v; want an error naming %s", edge, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if edge.PublicURL != tt.env["PUBLIC_URL"] || edge.Secret != tt.wantSecret {
				t.Errorf("Edge = %+v, want PublicURL %q and Secret %q", edge, tt.env["PUBLIC_URL"], tt.wantSecret)
			}
		})
	}
}

// TestOneReadPerSecret wires the sign-in service and the edge of one function, as the users and auth
// functions do: the application secret holds the fields of both and is read once.
func TestOneReadPerSecret(t *testing.T) {
	ctx := context.Background()
	f := newFakeSecrets(t, map[string]string{"app": appSecret(t, map[string]string{"sealingKey": testKey, "originVerify": "ov"})})
	getenv := env(map[string]string{"SECRETS_ARN": "app", "PUBLIC_URL": "https://twin.example"})
	if _, err := Auth(ctx, getenv, nil, nil); err != nil {
		t.Fatal(err)
	}
	edge, err := Edge(ctx, getenv)
	if err != nil || edge.Secret != "ov" {
		t.Fatalf("Edge = %+v, %v; want the secret ov", edge, err)
	}
	if n := f.Reads("app"); n != 1 {
		t.Errorf("the application secret was read %d times, want 1", n)
	}
}
