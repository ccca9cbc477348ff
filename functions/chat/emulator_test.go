package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/infra/lambdatest"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/awstest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// edgeSecret is the application secret's originVerify, which the edge sends in X-Origin-Verify (every
// fixture carries it, as CloudFront adds it).
const edgeSecret = "emulator-edge-secret"

// TestUnderEmulator runs the chat bootstrap under the Runtime Interface Emulator with real API
// Gateway v2 events, on a fresh table of the DynamoDB test server, signed in by a login session
// stored there, with the offline model, behind the public origin https://twin.example whose edge
// secret is read from the application secret.
func TestUnderEmulator(t *testing.T) {
	ctx := context.Background()
	endpoint := dynamotest.Endpoint(t)
	table := dynamotest.Table(t)
	st := dynamostore.New(dynamotest.DB(t), table)
	now := time.Now().UTC()
	me := store.User{ID: id.New(), Nickname: "Ada", Bio: "Mathematician.", Provider: store.ProviderOIDC, CreatedAt: now, UpdatedAt: now,
		Shades: []store.Shade{{ID: id.New(), Name: "Engines", Confidence: store.ConfidenceHigh,
			Description: "I like analytical engines and poetry."}}}
	if err := st.CreateUser(ctx, me); err != nil {
		t.Fatal(err)
	}
	token := "emulator-session-token"
	err := st.CreateLoginSession(ctx, store.LoginSession{TokenHash: auth.HashToken(token), UserID: me.ID, CreatedAt: now,
		ExpiresAt: now.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	app, _ := json.Marshal(map[string]string{"originVerify": edgeSecret})
	const appARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app"
	secrets := httptest.NewServer(awstest.NewSecrets(map[string]string{appARN: string(app)}))
	t.Cleanup(secrets.Close)
	emu := lambdatest.Start(t, lambdatest.Build(t, "./functions/chat"), []string{
		"SECRETS_ARN=" + appARN,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + secrets.URL,
		"PUBLIC_URL=https://twin.example",
		"TABLE_NAME=" + table,
		"DYNAMO_ENDPOINT=" + endpoint,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=dynalite",
		"AWS_SECRET_ACCESS_KEY=dynalite",
		"CHAT_DAILY_QUOTA=50",
	})
	sessionID := ""
	invoke := func(t *testing.T, name string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		ev, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(ev), "SESSION_TOKEN", token)
		s = strings.ReplaceAll(s, "SESSION_ID", sessionID)
		return emu.InvokeHTTP(t, []byte(s))
	}
	decode := func(t *testing.T, resp events.APIGatewayV2HTTPResponse, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(resp.Body), v); err != nil {
			t.Fatalf("body %q: %v", resp.Body, err)
		}
	}

	t.Run("health", func(t *testing.T) {
		if resp := invoke(t, "apigw_health.json"); resp.StatusCode != 200 {
			t.Fatalf("status = %d, want 200: %s", resp.StatusCode, resp.Body)
		}
	})
	var first struct {
		SessionID string
		Message   struct{ ID, Content string }
		Reply     struct{ ID, Content, ReplyTo string }
		Offline   bool
		Replayed  bool
	}
	t.Run("a turn with one's own twin", func(t *testing.T) {
		resp := invoke(t, "apigw_chat.json")
		if resp.StatusCode != 200 {
			t.Fatalf("status = %d, want 200: %s\n%s", resp.StatusCode, resp.Body, emu.Logs())
		}
		decode(t, resp, &first)
		if !first.Offline || first.Reply.Content == "" || strings.Contains(first.Reply.Content, "(offline twin)") || first.Reply.ReplyTo != first.Message.ID {
			t.Errorf("turn = %+v, want an offline reply to the message", first)
		}
		sessionID = first.SessionID
	})
	t.Run("the same clientMessageId replays the turn", func(t *testing.T) {
		var again struct {
			Reply    struct{ ID string }
			Replayed bool
		}
		decode(t, invoke(t, "apigw_chat_retry.json"), &again)
		if !again.Replayed || again.Reply.ID != first.Reply.ID {
			t.Errorf("retry = %+v, want the stored reply %s", again, first.Reply.ID)
		}
	})
	t.Run("sessions and messages", func(t *testing.T) {
		var list struct {
			Sessions []struct {
				ID, LastMessage string
				MessageCount    int
			}
		}
		decode(t, invoke(t, "apigw_sessions.json"), &list)
		if len(list.Sessions) != 1 || list.Sessions[0].ID != sessionID || list.Sessions[0].MessageCount != 2 ||
			list.Sessions[0].LastMessage == "" {
			t.Errorf("sessions = %+v", list.Sessions)
		}
		var page struct {
			Messages []struct{ ID string }
		}
		decode(t, invoke(t, "apigw_messages.json"), &page)
		if len(page.Messages) != 2 || page.Messages[0].ID != first.Reply.ID {
			t.Errorf("messages = %+v, want the reply then the message", page.Messages)
		}
	})
	t.Run("a bad body names its fields", func(t *testing.T) {
		resp := invoke(t, "apigw_chat_bad.json")
		var e struct {
			Error struct{ Fields map[string]string }
		}
		decode(t, resp, &e)
		if resp.StatusCode != 400 || e.Error.Fields["message"] == "" || e.Error.Fields["clientMessageId"] == "" {
			t.Errorf("status = %d, body %s, want 400 naming message and clientMessageId", resp.StatusCode, resp.Body)
		}
	})
	t.Run("signed out", func(t *testing.T) {
		if resp := invoke(t, "apigw_chat_signed_out.json"); resp.StatusCode != 401 {
			t.Errorf("status = %d, want 401", resp.StatusCode)
		}
	})
	t.Run("around the edge", func(t *testing.T) {
		for _, name := range []string{"apigw_health.json", "apigw_chat.json"} {
			ev, err := os.ReadFile("testdata/" + name)
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
