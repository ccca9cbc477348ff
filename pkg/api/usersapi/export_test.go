package usersapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/apitest"
	"github.com/secondme/twin/pkg/api/usersapi"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store"
)

// seedActivity gives Ana a sealed-token identity, a chat session of 120 messages (more than one
// page), a match with Ben with its transcript and a block of Cleo; Ben gets a session of his own.
func seedActivity(tb testing.TB, e *env) {
	tb.Helper()
	ctx := context.Background()
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(e.st.CreateIdentity(ctx, store.Identity{Provider: store.ProviderSecondMe, Subject: "sm-ana", UserID: e.ana,
		SealedTokens: []byte("SEALED-TOKENS-lba_at_x"), TokenExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}))
	sess := store.ChatSession{ID: id.New(), OwnerID: e.ana, TwinID: e.ana, Title: "Talk with myself", CreatedAt: now, UpdatedAt: now}
	must(e.st.CreateSession(ctx, sess))
	for i := range 60 {
		at := now.Add(time.Duration(i) * time.Minute)
		q, err := e.st.PutMessage(ctx, store.ChatMessage{ID: id.At(at), SessionID: sess.ID, Role: store.RoleUser,
			Content: fmt.Sprintf("question %d", i), CreatedAt: at})
		must(err)
		must(e.st.CompleteTurn(ctx, store.ChatMessage{ID: id.At(at.Add(time.Second)), SessionID: sess.ID, Role: store.RoleAssistant,
			Content: fmt.Sprintf("answer %d", i), ReplyTo: q.ID, Model: "offline", CreatedAt: at.Add(time.Second)},
			store.SessionUpdate{LastMessage: fmt.Sprintf("answer %d", i), AddMessages: 2, UpdatedAt: at.Add(time.Second)}))
	}
	other := store.ChatSession{ID: id.New(), OwnerID: e.ben, TwinID: e.ana, Title: "BEN-SESSION", CreatedAt: now, UpdatedAt: now}
	must(e.st.CreateSession(ctx, other))
	_, err := e.st.PutMessage(ctx, store.ChatMessage{ID: id.New(), SessionID: other.ID, Role: store.RoleUser, Content: "BEN-MESSAGE", CreatedAt: now})
	must(err)
	a, b := min(e.ana, e.ben), max(e.ana, e.ben)
	must(e.st.PutMatch(ctx, store.Match{A: a, B: b, Score: 77, Reasoning: "Both love the outdoors.", Highlights: []string{"climbing"},
		Parts: []string{"deterministic"}, Transcript: []store.TranscriptLine{{Speaker: e.ana, Text: "Hi"}, {Speaker: e.ben, Text: "Hello"}},
		Algorithm: "v1", ComputedAt: now}))
	must(e.st.PutBlock(ctx, store.Block{BlockerID: e.ana, BlockedID: e.cleo, CreatedAt: now}))
}

func TestExport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedActivity(t, e)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, apitest.Request("GET", "/api/user/export", e.ana, ""))
	if w.Code != http.StatusOK {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	if got, want := w.Header().Get("Content-Disposition"), `attachment; filename="secondme-export.json"`; got != want {
		t.Errorf("Content-Disposition = %q, want %q", got, want)
	}
	body := w.Body.String()
	for _, leak := range []string{"SEALED", "lba_", "BEN-SESSION", "BEN-MESSAGE", "sealedTokens", "SealedTokens"} {
		if strings.Contains(body, leak) {
			t.Errorf("export holds %q", leak)
		}
	}
	var doc profile.Document
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode export: %v", err)
	}
	if doc.Profile.ID != e.ana || doc.Profile.Language != "en" || len(doc.Shades) != 2 || len(doc.Memories) != 1 || doc.Shades[0].Content != "PRIVATE-content" {
		t.Errorf("profile part: %+v %+v %+v", doc.Profile, doc.Shades, doc.Memories)
	}
	if len(doc.Identities) != 1 || doc.Identities[0] != (profile.IdentityExport{Provider: "secondme", Subject: "sm-ana", CreatedAt: now}) {
		t.Errorf("identities = %+v", doc.Identities)
	}
	if len(doc.Sessions) != 1 {
		t.Fatalf("sessions = %d, want 1", len(doc.Sessions))
	}
	msgs := doc.Sessions[0].Messages
	if len(msgs) != 120 || msgs[0].Content != "question 0" || msgs[119].Content != "answer 59" || msgs[1].ReplyTo != msgs[0].ID {
		t.Errorf("messages: %d, first %+v, last %+v", len(msgs), msgs[0], msgs[len(msgs)-1])
	}
	if len(doc.Matches) != 1 || doc.Matches[0].UserID != e.ben || doc.Matches[0].Score != 77 || len(doc.Matches[0].Transcript) != 2 {
		t.Errorf("matches = %+v", doc.Matches)
	}
	if len(doc.Blocks) != 1 || doc.Blocks[0].UserID != e.cleo {
		t.Errorf("blocks = %+v", doc.Blocks)
	}
	if !doc.ExportedAt.Equal(now) {
		t.Errorf("exportedAt = %v, want %v", doc.ExportedAt, now)
	}
}

// TestEraseLeavesNothing erases a person with a profile, identity, chat, match and block, on SQLite
// and on the DynamoDB test server, and finds nothing of them in a dump of either store.
func TestEraseLeavesNothing(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { eraseLeavesNothing(t, newEnv(t)) })
	t.Run("dynalite", func(t *testing.T) { eraseLeavesNothing(t, newEnvOn(t, dynamotest.New(t))) })
}

func eraseLeavesNothing(t *testing.T, e *env) {
	seedActivity(t, e)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, apitest.Request("DELETE", "/api/user", e.ana, ""))
	if w.Code != http.StatusNoContent {
		t.Fatalf("status = %d; body %s", w.Code, w.Body)
	}
	var dump bytes.Buffer
	if err := e.st.Dump(context.Background(), &dump); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(dump.String(), "\n") {
		if strings.Contains(line, "BEN-SESSION") {
			continue // Ben's own conversation with Ana's twin is his record, not hers
		}
		if strings.Contains(line, e.ana) || strings.Contains(line, "sm-ana") || strings.Contains(line, "PRIVATE") {
			t.Errorf("left after erase: %s", line)
		}
	}
	if !strings.Contains(dump.String(), e.ben) {
		t.Error("Ben was erased too")
	}
}

func TestPanicIsAnInternalError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var logs bytes.Buffer

	rt := api.NewRouter()
	usersapi.New(e.st, apitest.HeaderAuth{}, e.rematch, e.sync).Register(rt)
	rt.HandleFunc("GET /test/panic", func(w http.ResponseWriter, r *http.Request) error {
		panic("the cause: a nil map")
	})
	w := httptest.NewRecorder()
	mw := api.Middleware{Edge: api.Edge{PublicURL: apitest.Origin}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	mw.Wrap(rt).ServeHTTP(w, apitest.Request("GET", "/test/panic", e.ana, ""))
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", w.Code)
	}
	if got := errorOf(t, w); got.Code != fault.CodeInternal || got.Message != "internal error" {
		t.Errorf("error = %+v, want internal / internal error", got)
	}
	if strings.Contains(w.Body.String(), "nil map") {
		t.Errorf("the cause reached the client: %s", w.Body)
	}
	if !strings.Contains(logs.String(), "the cause: a nil map") {
		t.Errorf("the cause is not in the log: %s", logs.String())
	}
}
