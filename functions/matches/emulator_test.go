package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/infra/lambdatest"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/awstest"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/rematch/rematchtest"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// The people of the fixtures: the caller and the person they are matched with.
const (
	me    = "01M8A4CY44FCM3Z8GV675Z3JNY"
	other = "01M8A4CY456EYERJS3HV87X3QV"
)

// edgeSecret is the application secret's originVerify, which the edge sends in X-Origin-Verify (every
// fixture carries it, as CloudFront adds it).
const edgeSecret = "emulator-edge-secret"

// TestUnderEmulator runs the matches bootstrap under the Runtime Interface Emulator with real API
// Gateway v2 events, on a fresh table of the DynamoDB test server, signed in by a login session stored
// there, refreshing through a fake SQS, behind the public origin https://twin.example whose edge secret
// is read from the application secret.
func TestUnderEmulator(t *testing.T) {
	ctx := context.Background()
	endpoint, table := dynamotest.Endpoint(t), dynamotest.Table(t)
	st := dynamostore.New(dynamotest.DB(t), table)
	now := time.Now().UTC()
	for _, p := range []struct{ id, nick string }{{me, "Ann"}, {other, "Ben"}} {
		u := store.User{ID: p.id, Nickname: p.nick, Avatar: "https://example.com/" + p.nick + ".png", Discoverable: true,
			ProfileVersion: 1, ProfileChangedAt: now, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	err := st.PutMatch(ctx, store.Match{A: me, B: other, Score: 83, Reasoning: "Both play jazz.", Highlights: []string{"jazz"},
		Challenges: []string{"time zones"}, Parts: []string{"deterministic", "model"}, VersionA: 1, VersionB: 1, Algorithm: "det-1+judge-1",
		Transcript: []store.TranscriptLine{{Speaker: me, Text: "Hi, I play jazz piano."}, {Speaker: other, Text: "So do I!"}}, ComputedAt: now})
	if err != nil {
		t.Fatal(err)
	}
	token := "emulator-session-token"
	if err := st.CreateLoginSession(ctx, store.LoginSession{TokenHash: auth.HashToken(token), UserID: me, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	sqs := rematchtest.NewSQS(t)
	app, _ := json.Marshal(map[string]string{"originVerify": edgeSecret})
	const appARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app"
	secrets := httptest.NewServer(awstest.NewSecrets(map[string]string{appARN: string(app)}))
	t.Cleanup(secrets.Close)
	emu := lambdatest.Start(t, lambdatest.Build(t, "./functions/matches"), append(sqs.Env(),
		"TABLE_NAME="+table,
		"DYNAMO_ENDPOINT="+endpoint,
		"SECRETS_ARN="+appARN,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER="+secrets.URL,
		"PUBLIC_URL=https://twin.example",
	))
	invoke := func(t *testing.T, name string) (events.APIGatewayV2HTTPResponse, map[string]any) {
		t.Helper()
		ev, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		resp := emu.InvokeHTTP(t, []byte(strings.ReplaceAll(string(ev), "SESSION_TOKEN", token)))
		var body map[string]any
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatalf("%s: body %q is not JSON", name, resp.Body)
		}
		return resp, body
	}

	tests := []struct {
		fixture string
		status  int
		check   func(t *testing.T, body map[string]any)
	}{
		{"apigw_health.json", 200, nil},
		{"apigw_matches.json", 200, func(t *testing.T, body map[string]any) {
			list, _ := body["matches"].([]any)
			if len(list) != 1 {
				t.Fatalf("matches = %v, want one", body["matches"])
			}
			m := list[0].(map[string]any)
			if m["score"] != float64(83) || m["person"].(map[string]any)["nickname"] != "Ben" || m["reasoning"] != "Both play jazz." {
				t.Errorf("match = %v", m)
			}
		}},
		{"apigw_match.json", 200, func(t *testing.T, body map[string]any) {
			if lines, _ := body["transcript"].([]any); len(lines) != 2 {
				t.Errorf("transcript = %v, want the evidence", body["transcript"])
			}
		}},
		{"apigw_match_unknown.json", 404, nil},
		{"apigw_matches_signed_out.json", 401, nil},
		{"apigw_refresh.json", 202, func(t *testing.T, body map[string]any) {
			if jobs := sqs.Jobs(); len(jobs) != 1 || jobs[0] != rematch.PairJobBy(me, other, me) {
				t.Errorf("queued %+v, want the pair job, paid by the caller", jobs)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			resp, body := invoke(t, tt.fixture)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
	t.Run("around the edge", func(t *testing.T) {
		for _, name := range []string{"apigw_health.json", "apigw_refresh.json"} {
			ev, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			s := strings.Replace(string(ev), `"x-origin-verify": "`+edgeSecret+`",`, "", 1)
			resp := emu.InvokeHTTP(t, []byte(strings.ReplaceAll(s, "SESSION_TOKEN", token)))
			if resp.StatusCode != 403 || !strings.Contains(resp.Body, `"permission_denied"`) {
				t.Errorf("%s without X-Origin-Verify: %d %s, want 403 permission_denied", name, resp.StatusCode, resp.Body)
			}
		}
	})
}
