package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/infra/lambdatest"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/awstest"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/rematch/rematchtest"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// maya is the discoverable person of the fixtures; the session token signs her in.
const (
	maya         = "01J9Z3M8Q4W6T2R5Y7P1K3N5B0"
	token        = "emulator-session-token"
	appSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app"
	// edgeSecret is the application secret's originVerify, which the edge sends in X-Origin-Verify
	// (every fixture carries it, as CloudFront adds it).
	edgeSecret = "emulator-edge-secret"
)

// secretsManager is a Secrets Manager on 127.0.0.1 that answers GetSecretValue for the application
// secret (the sealing key the sign-in service needs at init).
func secretsManager(tb testing.TB) string {
	tb.Helper()
	app, _ := json.Marshal(map[string]string{"sealingKey": strings.Repeat("ab", 32), "originVerify": edgeSecret})
	srv := httptest.NewServer(awstest.NewSecrets(map[string]string{appSecretARN: string(app)}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// TestUnderEmulator runs the users bootstrap under the Runtime Interface Emulator with real API
// Gateway v2 events, on a fresh table of the DynamoDB test server holding a discoverable person with
// public and private shades, signed in by a login session stored there, rematching through a fake SQS.
func TestUnderEmulator(t *testing.T) {
	ctx := context.Background()
	endpoint, table := dynamotest.Endpoint(t), dynamotest.Table(t)
	st := dynamostore.New(dynamotest.DB(t), table)
	now := time.Now().UTC()
	u := store.User{
		ID: maya, Nickname: "Maya", Bio: "Jazz pianist.", Provider: store.ProviderOIDC, Discoverable: true, AllowTwinChat: true,
		ProfileVersion: 1, ProfileChangedAt: now, CreatedAt: now, UpdatedAt: now,
		Shades: []store.Shade{
			{ID: "01J9Z3M8Q4W6T2R5Y7P1K3N5C0", Name: "PRIVATE-jazz", Confidence: store.ConfidenceVeryHigh, Content: "PRIVATE-content",
				Topics: []string{"PRIVATE-topic"}, Public: &store.PublicShade{Name: "Musician", Description: "Plays jazz piano.", Topics: []string{"jazz"}}},
			{ID: "01J9Z3M8Q4W6T2R5Y7P1K3N5C1", Name: "PRIVATE-stage fright", Content: "PRIVATE-only"},
		},
		Memories: []store.Memory{{ID: "01J9Z3M8Q4W6T2R5Y7P1K3N5C2", Subject: "gig", Content: "PRIVATE-memory", CreatedAt: now}},
	}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateLoginSession(ctx, store.LoginSession{TokenHash: auth.HashToken(token), UserID: maya, CreatedAt: now,
		ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	sqs := rematchtest.NewSQS(t)
	emu := lambdatest.Start(t, lambdatest.Build(t, "./functions/users"), append(sqs.Env(),
		"TABLE_NAME="+table,
		"DYNAMO_ENDPOINT="+endpoint,
		"SECRETS_ARN="+appSecretARN,
		"PUBLIC_URL=https://twin.example",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER="+secretsManager(t),
	))

	errorOf := func(t *testing.T, body string) (code string, fields map[string]string) {
		t.Helper()
		var v struct {
			Error struct {
				Code   string
				Fields map[string]string
			}
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil || v.Error.Code == "" {
			t.Fatalf("not a JSON error: %s", body)
		}
		return v.Error.Code, v.Error.Fields
	}
	wantError := func(code, field string) func(t *testing.T, body string) {
		return func(t *testing.T, body string) {
			t.Helper()
			gotCode, fields := errorOf(t, body)
			if gotCode != code || (field != "" && fields[field] == "") {
				t.Errorf("error %s %v, want %s naming %q", gotCode, fields, code, field)
			}
		}
	}
	tests := []struct {
		fixture string
		status  int
		check   func(t *testing.T, body string)
	}{
		{"apigw_health.json", 200, func(t *testing.T, body string) {
			if strings.TrimSpace(body) != `{"status":"ok"}` {
				t.Errorf("body = %s", body)
			}
		}},
		{"apigw_public_profile.json", 200, func(t *testing.T, body string) {
			var p profile.PublicProfile
			dec := json.NewDecoder(strings.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&p); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if p.ID != maya || p.Nickname != "Maya" || !p.AllowTwinChat || len(p.Shades) != 1 || p.Shades[0].Name != "Musician" ||
				p.Shades[0].Description != "Plays jazz piano." {
				t.Errorf("public profile = %+v", p)
			}
			if strings.Contains(body, "PRIVATE") || strings.Contains(body, "confidence") || strings.Contains(body, "memories") {
				t.Errorf("private fields in the public profile: %s", body)
			}
		}},
		{"apigw_unknown_user.json", 404, wantError("not_found", "")},
		{"apigw_malformed_id.json", 400, wantError("invalid_argument", "id")},
		{"apigw_unknown_route.json", 404, wantError("not_found", "")},
		{"apigw_info_anonymous.json", 401, wantError("unauthenticated", "")},
		{"apigw_info_signed_in.json", 200, func(t *testing.T, body string) {
			var info profile.Info
			if err := json.Unmarshal([]byte(body), &info); err != nil || info.ID != maya || info.Provider != "oidc" || !info.Discoverable {
				t.Errorf("info = %s", body)
			}
		}},
		{"apigw_put_shades.json", 200, func(t *testing.T, body string) {
			var got struct{ Shades []profile.Shade }
			if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Shades) != 2 || got.Shades[1].Public != nil {
				t.Errorf("shades = %s", body)
			}
			// The edit opens Maya's coalescing window: her scores now, her model pass at its end.
			if jobs := sqs.Jobs(); len(jobs) != 2 || jobs[0] != rematch.ScoreOnlyUserJob(maya) || jobs[1] != rematch.DirtyUserJob(maya) {
				t.Errorf("queued %+v, want Maya's score-only rematch and the one at her window's end", jobs)
			}
			stored, err := st.GetUser(ctx, maya)
			if err != nil || stored.ProfileVersion != 2 || stored.Shades[0].Name != "Jazz piano" {
				t.Errorf("stored version %d shades %+v, %v", stored.ProfileVersion, stored.Shades, err)
			}
		}},
		{"apigw_sync.json", 409, wantError("conflict", "")}, // no SecondMe account linked
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			ev, err := os.ReadFile(filepath.Join("testdata", tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			resp := emu.InvokeHTTP(t, bytes.ReplaceAll(ev, []byte("SESSION_TOKEN"), []byte(token)))
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if ct := resp.Headers["Content-Type"]; !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", ct)
			}
			tt.check(t, resp.Body)
		})
	}
	t.Run("around the edge", func(t *testing.T) {
		for _, fixture := range []string{"apigw_health.json", "apigw_put_shades.json"} {
			for _, verify := range []string{"", `"x-origin-verify": "guess",`} {
				ev, err := os.ReadFile(filepath.Join("testdata", fixture))
				if err != nil {
					t.Fatal(err)
				}
				ev = bytes.Replace(ev, []byte(`"x-origin-verify": "`+edgeSecret+`",`), []byte(verify), 1)
				resp := emu.InvokeHTTP(t, bytes.ReplaceAll(ev, []byte("SESSION_TOKEN"), []byte(token)))
				if resp.StatusCode != 403 {
					t.Fatalf("%s with X-Origin-Verify %q: status %d, want 403: %s", fixture, verify, resp.StatusCode, resp.Body)
				}
				wantError("permission_denied", "")(t, resp.Body)
			}
		}
	})
}
