package chat_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/chat/chattest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/prompt"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// backing is what the tests need of a real store.
type backing interface {
	chat.Store
	CreateUser(ctx context.Context, u store.User) error
	PutBlock(ctx context.Context, b store.Block) error
	PutMessage(ctx context.Context, m store.ChatMessage) (store.ChatMessage, error)
	ConsumeQuota(ctx context.Context, userID, day string, limit int) (int, error)
}

// env is a chat service over a real store (SQLite unless said otherwise), counted, with a scripted model.
type env struct {
	st    backing
	count *chattest.Counting
	model *chattest.Script
	svc   *chat.Service
	me    store.User
	other store.User
}

func newEnv(tb testing.TB, opts chat.Options, steps ...chattest.Step) *env {
	tb.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(tb.TempDir(), "chat.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return newEnvOn(tb, st, opts, steps...)
}

func newEnvOn(tb testing.TB, st backing, opts chat.Options, steps ...chattest.Step) *env {
	tb.Helper()
	e := &env{st: st, count: chattest.NewCounting(st), model: &chattest.Script{Steps: steps}}
	e.me = e.person(tb, "Me", true, true)
	e.other = e.person(tb, "Other", true, true)
	e.svc = chat.New(e.count, chat.OneModel{Model: e.model}, opts)
	return e
}

// person stores a person with a public and a private shade.
func (e *env) person(tb testing.TB, nick string, discoverable, allowTwinChat bool) store.User {
	tb.Helper()
	now := time.Now().UTC()
	u := store.User{ID: id.New(), Nickname: nick, Bio: nick + " bio", Provider: store.ProviderOIDC,
		Discoverable: discoverable, AllowTwinChat: allowTwinChat, CreatedAt: now, UpdatedAt: now,
		Shades: []store.Shade{
			{ID: id.New(), Name: "Hiking", Confidence: store.ConfidenceHigh, Description: nick + " PRIVATE hiking notes",
				Public: &store.PublicShade{Name: "Hiking", Description: "Loves mountain trails"}},
			{ID: id.New(), Name: "Diary", Confidence: store.ConfidenceMedium, Description: nick + " PRIVATE diary"},
		},
		Memories: []store.Memory{{ID: id.New(), Subject: "secret", Content: nick + " PRIVATE memory"}},
	}
	if err := e.st.CreateUser(context.Background(), u); err != nil {
		tb.Fatalf("create user: %v", err)
	}
	return u
}

func (e *env) turn(tb testing.TB, req chat.TurnRequest) chat.TurnResult {
	tb.Helper()
	res, err := e.svc.Turn(context.Background(), req, chat.Events{})
	if err != nil {
		tb.Fatalf("turn: %v", err)
	}
	return res
}

// messages returns every message of a session, oldest first.
func (e *env) messages(tb testing.TB, sessionID string) []store.ChatMessage {
	tb.Helper()
	page, err := e.st.ListMessages(context.Background(), sessionID, "", 100)
	if err != nil {
		tb.Fatalf("list messages: %v", err)
	}
	out := page.Items
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func (e *env) session(tb testing.TB, id string) store.ChatSession {
	tb.Helper()
	s, err := e.st.GetSession(context.Background(), id)
	if err != nil {
		tb.Fatalf("get session: %v", err)
	}
	return s
}

func TestTurnWithOwnTwin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, chat.Options{}, chattest.Step{Deltas: []string{"Hi, ", "I am your twin."}})
	res := e.turn(t, chat.TurnRequest{UserID: e.me.ID, Message: "Hello twin", ClientMessageID: "c1"})
	if got, want := res.Reply.Content, "Hi, I am your twin."; got != want {
		t.Errorf("reply: got %q, want %q", got, want)
	}
	if res.Reply.ReplyTo != res.Message.ID || res.Reply.ID <= res.Message.ID {
		t.Errorf("reply %s does not follow message %s", res.Reply.ID, res.Message.ID)
	}
	sess := e.session(t, res.SessionID)
	if sess.OwnerID != e.me.ID || sess.TwinID != e.me.ID {
		t.Errorf("session owner/twin: got %s/%s, want %s", sess.OwnerID, sess.TwinID, e.me.ID)
	}
	if got, want := sess.LastMessage, "Hi, I am your twin."; got != want {
		t.Errorf("lastMessage: got %q, want %q", got, want)
	}
	if got, want := sess.MessageCount, int64(2); got != want {
		t.Errorf("messageCount: got %d, want %d", got, want)
	}
	if got, want := sess.Title, "Hello twin"; got != want {
		t.Errorf("title: got %q, want %q", got, want)
	}
	sys := e.model.Requests()[0].System
	if !strings.Contains(sys, "Me PRIVATE diary") || !strings.Contains(sys, "Me PRIVATE memory") {
		t.Errorf("own twin's prompt lacks private fields:\n%s", sys)
	}
	if got := e.count.Calls(); got > 4 {
		t.Errorf("store calls: got %d (%v), want <= 4", got, e.count.ByMethod())
	}
	// A second turn in the same session sees the first.
	e.turn(t, chat.TurnRequest{UserID: e.me.ID, SessionID: res.SessionID, Message: "And again"})
	msgs := e.model.Requests()[1].Messages
	if got, want := len(msgs), 3; got != want {
		t.Fatalf("second prompt messages: got %d, want %d", got, want)
	}
	if msgs[0].Content != "Hello twin" || msgs[1].Role != llm.RoleModel || msgs[2].Content != "And again" {
		t.Errorf("second prompt messages: %v", msgs)
	}
}

func TestTurnWithAnothersTwinUsesPublicFieldsOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, chat.Options{})
	res := e.turn(t, chat.TurnRequest{UserID: e.me.ID, TwinID: e.other.ID, Message: "Tell me about you"})
	if got := e.session(t, res.SessionID).TwinID; got != e.other.ID {
		t.Errorf("twin: got %s, want %s", got, e.other.ID)
	}
	sys := e.model.Requests()[0].System
	if strings.Contains(sys, "PRIVATE") {
		t.Errorf("another's twin saw private data:\n%s", sys)
	}
	if !strings.Contains(sys, "Loves mountain trails") {
		t.Errorf("another's twin lacks public fields:\n%s", sys)
	}
}

func TestAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(e *env) string // returns the twin id
		want  error
	}{
		{name: "unknown person", setup: func(e *env) string { return id.New() }, want: chat.ErrTwinNotFound},
		{name: "not discoverable", setup: func(e *env) string { return e.person(t, "Hidden", false, true).ID }, want: chat.ErrTwinNotFound},
		{name: "no twin chats", setup: func(e *env) string { return e.person(t, "Shy", true, false).ID }, want: chat.ErrTwinRefused},
		{name: "they blocked me", setup: func(e *env) string {
			e.block(t, e.other.ID, e.me.ID)
			return e.other.ID
		}, want: chat.ErrTwinNotFound},
		{name: "I blocked them", setup: func(e *env) string {
			e.block(t, e.me.ID, e.other.ID)
			return e.other.ID
		}, want: chat.ErrTwinNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, chat.Options{})
			twinID := tt.setup(e)
			_, err := e.svc.Turn(context.Background(), chat.TurnRequest{UserID: e.me.ID, TwinID: twinID, Message: "hi"}, chat.Events{})
			if !errors.Is(err, tt.want) {
				t.Errorf("turn: got %v, want %v", err, tt.want)
			}
			if _, err := e.svc.CreateSession(context.Background(), e.me.ID, twinID); !errors.Is(err, tt.want) {
				t.Errorf("create session: got %v, want %v", err, tt.want)
			}
			if e.model.Calls() != 0 {
				t.Errorf("model called %d times for a refused twin", e.model.Calls())
			}
			page, _ := e.st.ListSessions(context.Background(), e.me.ID, "", 10)
			if len(page.Items) != 0 {
				t.Errorf("a refused turn left %d sessions", len(page.Items))
			}
		})
	}
}

func (e *env) block(tb testing.TB, blocker, blocked string) {
	tb.Helper()
	if err := e.st.PutBlock(context.Background(), store.Block{BlockerID: blocker, BlockedID: blocked, CreatedAt: time.Now()}); err != nil {
		tb.Fatalf("block: %v", err)
	}
}

func TestExistingSessionRechecksAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, chat.Options{})
	res := e.turn(t, chat.TurnRequest{UserID: e.me.ID, TwinID: e.other.ID, Message: "hi"})
	e.block(t, e.other.ID, e.me.ID)
	_, err := e.svc.Turn(context.Background(), chat.TurnRequest{UserID: e.me.ID, SessionID: res.SessionID, Message: "still there?"}, chat.Events{})
	if !errors.Is(err, chat.ErrTwinNotFound) {
		t.Errorf("turn after a block: got %v, want %v", err, chat.ErrTwinNotFound)
	}
	if got := len(e.messages(t, res.SessionID)); got != 2 {
		t.Errorf("messages after a refused turn: got %d, want 2", got)
	}
}

func TestSessionsOfOthersAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, chat.Options{})
	res := e.turn(t, chat.TurnRequest{UserID: e.other.ID, Message: "my own chat"})
	ctx := context.Background()
	_, err := e.svc.Turn(ctx, chat.TurnRequest{UserID: e.me.ID, SessionID: res.SessionID, Message: "intrude"}, chat.Events{})
	if !errors.Is(err, chat.ErrSessionNotFound) {
		t.Errorf("turn: got %v, want ErrSessionNotFound", err)
	}
	if _, err := e.svc.Session(ctx, e.me.ID, res.SessionID); !errors.Is(err, chat.ErrSessionNotFound) {
		t.Errorf("session: got %v", err)
	}
	if _, err := e.svc.Messages(ctx, e.me.ID, res.SessionID, "", 10); !errors.Is(err, chat.ErrSessionNotFound) {
		t.Errorf("messages: got %v", err)
	}
	if err := e.svc.DeleteSession(ctx, e.me.ID, res.SessionID); !errors.Is(err, chat.ErrSessionNotFound) {
		t.Errorf("delete: got %v", err)
	}
	if got := len(e.messages(t, res.SessionID)); got != 2 {
		t.Errorf("the owner's messages: got %d, want 2", got)
	}
}

func TestTwinMismatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, chat.Options{})
	res := e.turn(t, chat.TurnRequest{UserID: e.me.ID, Message: "hi"})
	_, err := e.svc.Turn(context.Background(), chat.TurnRequest{UserID: e.me.ID, SessionID: res.SessionID, TwinID: e.other.ID, Message: "x"}, chat.Events{})
	if !errors.Is(err, chat.ErrTwinMismatch) {
		t.Errorf("got %v, want ErrTwinMismatch", err)
	}
}

func TestRetryOfFinishedTurnIsReplayed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, chat.Options{})
	first := e.turn(t, chat.TurnRequest{UserID: e.me.ID, Message: "hello", ClientMessageID: "m-1"})
	e.count.Reset()
	var deltas []string
	again, err := e.svc.Turn(context.Background(), chat.TurnRequest{UserID: e.me.ID, SessionID: first.SessionID,
		Message: "hello", ClientMessageID: "m-1"}, chat.Events{Delta: func(s string) error { deltas = append(deltas, s); return nil }})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !again.Replayed || again.Reply.ID != first.Reply.ID || again.Message.ID != first.Message.ID {
		t.Errorf("retry: got replayed=%v reply %s, want the stored reply %s", again.Replayed, again.Reply.ID, first.Reply.ID)
	}
	if got := strings.Join(deltas, ""); got != first.Reply.Content {
		t.Errorf("replayed deltas: got %q, want %q", got, first.Reply.Content)
	}
	if got, want := e.model.Calls(), 1; got != want {
		t.Errorf("model calls: got %d, want %d", got, want)
	}
	if got := e.count.ByMethod(); got["StartTurn"] != 0 || e.count.Calls() != 1 {
		t.Errorf("store calls of a replay: %v, want one LoadConversation", got)
	}
	if got := len(e.messages(t, first.SessionID)); got != 2 {
		t.Errorf("messages: got %d, want 2", got)
	}
}

// TestModelFailuresLeaveTheTurnRetryable runs a model timeout, a 5xx and a mid-stream error: each
// leaves the person's message saved and the session unchanged, and a retry with the same
// clientMessageId completes the turn without a second user message.
func TestModelFailuresLeaveTheTurnRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		step        chattest.Step
		wantTimeout bool
	}{
		{name: "timeout", step: chattest.Step{Stall: true}, wantTimeout: true},
		{name: "500", step: chattest.Step{Err: fmt.Errorf("status 500: %w", llm.ErrUnavailable)}},
		{name: "mid-stream error", step: chattest.Step{Deltas: []string{"I was say"}, Err: fmt.Errorf("stream broke: %w", llm.ErrUnavailable)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, chat.Options{ModelTimeout: 100 * time.Millisecond},
				chattest.Step{Deltas: []string{"first reply"}}, tt.step, chattest.Step{Deltas: []string{"recovered"}})
			ctx := context.Background()
			first := e.turn(t, chat.TurnRequest{UserID: e.me.ID, Message: "one"})
			before := e.session(t, first.SessionID)

			req := chat.TurnRequest{UserID: e.me.ID, SessionID: first.SessionID, Message: "two", ClientMessageID: "retry-me"}
			_, err := e.svc.Turn(ctx, req, chat.Events{})
			var merr *chat.ModelError
			if !errors.As(err, &merr) || merr.Timeout != tt.wantTimeout {
				t.Fatalf("failed turn: got %v, want a ModelError with Timeout=%v", err, tt.wantTimeout)
			}
			msgs := e.messages(t, first.SessionID)
			if got := len(msgs); got != 3 || msgs[2].Content != "two" || msgs[2].Role != store.RoleUser {
				t.Fatalf("after the failure: got %d messages, want the 2 of the first turn and the saved message", got)
			}
			after := e.session(t, first.SessionID)
			if after.LastMessage != before.LastMessage || after.MessageCount != before.MessageCount || !after.UpdatedAt.Equal(before.UpdatedAt) {
				t.Errorf("session changed by a failed turn: %+v -> %+v", before, after)
			}

			res, err := e.svc.Turn(ctx, req, chat.Events{})
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if res.Replayed || res.Reply.Content != "recovered" || res.Message.ID != msgs[2].ID {
				t.Errorf("retry: got %+v", res)
			}
			msgs = e.messages(t, first.SessionID)
			if got := len(msgs); got != 4 {
				t.Errorf("after the retry: got %d messages, want 4 (no duplicate)", got)
			}
			if got := e.session(t, first.SessionID); got.LastMessage != "recovered" || got.MessageCount != 4 {
				t.Errorf("session after retry: lastMessage %q count %d", got.LastMessage, got.MessageCount)
			}
			last := e.model.Requests()[2].Messages
			if got := last[len(last)-1].Content; got != "two" {
				t.Errorf("retry answered %q, want the saved message", got)
			}
		})
	}
}

func TestClientGoneSavesPartialReply(t *testing.T) {
	t.Parallel()
	e := newEnv(t, chat.Options{}, chattest.Step{Deltas: []string{"part one, ", "part two"}, Stall: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sessionID string
	res, err := e.svc.Turn(ctx, chat.TurnRequest{UserID: e.me.ID, Message: "hi", ClientMessageID: "gone"}, chat.Events{
		Session: func(id string) error { sessionID = id; return nil },
		Delta: func(d string) error {
			if d == "part two" {
				cancel() // the client leaves after the second piece
			}
			return nil
		},
	})
	if !errors.Is(err, chat.ErrClientGone) {
		t.Fatalf("turn: got %v, want ErrClientGone", err)
	}
	msgs := e.messages(t, sessionID)
	if len(msgs) != 2 {
		t.Fatalf("messages: got %d, want the message and the partial reply", len(msgs))
	}
	if r := msgs[1]; !r.Incomplete || r.Content != "part one, part two" || r.ID != res.Reply.ID {
		t.Errorf("partial reply: got %+v", r)
	}
	if got := e.session(t, sessionID).LastMessage; got != "part one, part two" {
		t.Errorf("lastMessage: got %q", got)
	}
}

func TestDeltaWriteFailureEndsTheTurn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, chat.Options{}, chattest.Step{Deltas: []string{"a", "b", "c"}})
	_, err := e.svc.Turn(context.Background(), chat.TurnRequest{UserID: e.me.ID, Message: "hi"}, chat.Events{
		Delta: func(d string) error {
			if d == "b" {
				return errors.New("broken pipe")
			}
			return nil
		},
	})
	if !errors.Is(err, chat.ErrClientGone) {
		t.Fatalf("got %v, want ErrClientGone", err)
	}
}

func TestDailyQuota(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	e := newEnv(t, chat.Options{DailyQuota: 2, Now: func() time.Time { return now }})
	res := e.turn(t, chat.TurnRequest{UserID: e.me.ID, Message: "1"})
	e.turn(t, chat.TurnRequest{UserID: e.me.ID, SessionID: res.SessionID, Message: "2"})
	_, err := e.svc.Turn(context.Background(), chat.TurnRequest{UserID: e.me.ID, SessionID: res.SessionID, Message: "3"}, chat.Events{})
	var q *chat.QuotaError
	if !errors.As(err, &q) {
		t.Fatalf("third turn: got %v, want a QuotaError", err)
	}
	if got, want := q.RetryAfter, 2*time.Hour; got != want {
		t.Errorf("retry after: got %v, want %v", got, want)
	}
	if got := e.model.Calls(); got != 2 {
		t.Errorf("model calls: got %d, want 2", got)
	}
	// The next UTC day has a fresh quota.
	now = now.Add(3 * time.Hour)
	e.turn(t, chat.TurnRequest{UserID: e.me.ID, SessionID: res.SessionID, Message: "4"})
}

// TestStoreCallsDoNotGrowWithHistory is the cost rule: with 10 and with 10,000 prior messages a turn
// makes the same 3 store calls, with one's own twin and with another person's (whose person and blocks
// are read with the session), and the prompt stays within budget.
func TestStoreCallsDoNotGrowWithHistory(t *testing.T) {
	t.Parallel()
	budget := 2000
	calls := map[int]map[string]int{}
	for _, n := range []int{10, 10_000} {
		e := newEnv(t, chat.Options{Prompt: prompt.Config{Budget: budget}})
		sessionID := e.seed(t, e.me.ID, e.me.ID, n)
		e.count.Reset()
		res := e.turn(t, chat.TurnRequest{UserID: e.me.ID, SessionID: sessionID, Message: "what did we say?", ClientMessageID: "x"})
		calls[n] = e.count.ByMethod()
		if got := e.count.Calls(); got != 3 {
			t.Errorf("own twin, history %d: %d store calls (%v), want 3", n, got, calls[n])
		}
		if res.PromptTokens > budget {
			t.Errorf("history %d: prompt of %d tokens, over the budget %d", n, res.PromptTokens, budget)
		}
		sessionID = e.seed(t, e.me.ID, e.other.ID, n)
		e.count.Reset()
		e.turn(t, chat.TurnRequest{UserID: e.me.ID, SessionID: sessionID, Message: "hello"})
		calls[-n] = e.count.ByMethod()
		if got := e.count.Calls(); got != 3 {
			t.Errorf("another's twin, history %d: %d store calls (%v), want 3", n, got, calls[-n])
		}
	}
	if fmt.Sprint(calls[10]) != fmt.Sprint(calls[10_000]) {
		t.Errorf("own twin: store calls at 10 %v differ from those at 10,000 %v", calls[10], calls[10_000])
	}
	if fmt.Sprint(calls[-10]) != fmt.Sprint(calls[-10_000]) {
		t.Errorf("another's twin: store calls at 10 %v differ from those at 10,000 %v", calls[-10], calls[-10_000])
	}
}

// seed stores a session of owner with twin and n messages, and returns its id.
func (e *env) seed(tb testing.TB, owner, twinID string, n int) string {
	tb.Helper()
	ctx := context.Background()
	t0 := time.Now().Add(-time.Duration(n+10) * time.Second)
	sess := store.ChatSession{ID: id.At(t0), OwnerID: owner, TwinID: twinID, CreatedAt: t0, UpdatedAt: t0}
	if err := e.st.CreateSession(ctx, sess); err != nil {
		tb.Fatalf("create session: %v", err)
	}
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		m := store.ChatMessage{ID: id.At(at), SessionID: sess.ID, Role: store.RoleUser,
			Content: fmt.Sprintf("seeded message %d %s", i, strings.Repeat("lorem ipsum ", i%50)), CreatedAt: at}
		if i%2 == 1 {
			m.Role = store.RoleAssistant
		}
		if _, err := e.st.PutMessage(ctx, m); err != nil {
			tb.Fatalf("seed message %d: %v", i, err)
		}
	}
	return sess.ID
}

func TestSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, chat.Options{})
	ctx := context.Background()
	own, err := e.svc.CreateSession(ctx, e.me.ID, "")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if own.TwinID != e.me.ID || own.TwinNickname != "Me" {
		t.Errorf("own session: %+v", own)
	}
	res := e.turn(t, chat.TurnRequest{UserID: e.me.ID, TwinID: e.other.ID, Message: "hi other"})
	page, err := e.svc.Sessions(ctx, e.me.ID, "", 10)
	if err != nil {
		t.Fatalf("sessions: %v", err)
	}
	if len(page.Items) != 2 || page.Items[0].ID != res.SessionID || page.Items[0].TwinNickname != "Other" {
		t.Errorf("sessions: got %+v", page.Items)
	}
	if err := e.svc.DeleteSession(ctx, e.me.ID, res.SessionID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := e.svc.Session(ctx, e.me.ID, res.SessionID); !errors.Is(err, chat.ErrSessionNotFound) {
		t.Errorf("deleted session: got %v", err)
	}
}

// TestTurnOnDynamoDB runs the turn on the DynamoDB store (dynalite): a turn within 4 store calls, a
// model failure and its retry, a replay, and a partial reply saved when the client leaves.
func TestTurnOnDynamoDB(t *testing.T) {
	t.Parallel()
	e := newEnvOn(t, dynamotest.New(t), chat.Options{}, chattest.Step{Deltas: []string{"first"}},
		chattest.Step{Deltas: []string{"again"}}, chattest.Step{Err: llm.ErrUnavailable}, chattest.Step{Deltas: []string{"second"}},
		chattest.Step{Deltas: []string{"cut ", "short"}, Stall: true})
	ctx := context.Background()
	first := e.turn(t, chat.TurnRequest{UserID: e.me.ID, Message: "one", ClientMessageID: "d1"})
	if got := e.count.Calls(); got > 4 {
		t.Errorf("store calls: got %d (%v), want <= 4", got, e.count.ByMethod())
	}
	e.count.Reset()
	second := e.turn(t, chat.TurnRequest{UserID: e.me.ID, SessionID: first.SessionID, Message: "again", ClientMessageID: "d1b"})
	if got := e.count.Calls(); got != 3 {
		t.Errorf("store calls in an existing session: got %d (%v), want 3", got, e.count.ByMethod())
	}
	if second.Reply.ID <= second.Message.ID || second.Message.ID <= first.Reply.ID {
		t.Errorf("ids out of order: %s %s %s", first.Reply.ID, second.Message.ID, second.Reply.ID)
	}
	req := chat.TurnRequest{UserID: e.me.ID, SessionID: first.SessionID, Message: "two", ClientMessageID: "d2"}
	var merr *chat.ModelError
	if _, err := e.svc.Turn(ctx, req, chat.Events{}); !errors.As(err, &merr) {
		t.Fatalf("failing model: got %v", err)
	}
	res := e.turn(t, req)
	if res.Reply.Content != "second" {
		t.Errorf("retry reply: %q", res.Reply.Content)
	}
	if again := e.turn(t, req); !again.Replayed || again.Reply.ID != res.Reply.ID {
		t.Errorf("replay: %+v", again)
	}
	if got := len(e.messages(t, first.SessionID)); got != 6 {
		t.Errorf("messages: got %d, want 6", got)
	}
	cctx, cancel := context.WithCancel(ctx)
	_, err := e.svc.Turn(cctx, chat.TurnRequest{UserID: e.me.ID, SessionID: first.SessionID, Message: "three"}, chat.Events{
		Delta: func(d string) error {
			if d == "short" {
				cancel()
			}
			return nil
		},
	})
	if !errors.Is(err, chat.ErrClientGone) {
		t.Fatalf("client gone: got %v", err)
	}
	msgs := e.messages(t, first.SessionID)
	if last := msgs[len(msgs)-1]; !last.Incomplete || last.Content != "cut short" {
		t.Errorf("partial reply: %+v", last)
	}
	if got := e.session(t, first.SessionID); got.MessageCount != 8 || got.LastMessage != "cut short" {
		t.Errorf("session: count %d lastMessage %q", got.MessageCount, got.LastMessage)
	}
}

// TestRetryWhileTheTurnRunsIsAConflict sends a retry (same session and clientMessageId) while the first
// try is waiting for the model: the retry gets ErrTurnConflict without calling the model or consuming
// quota, and the first try stores the one reply.
func TestRetryWhileTheTurnRunsIsAConflict(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { testRetryWhileTheTurnRuns(t, newEnv) })
	t.Run("dynamodb", func(t *testing.T) {
		testRetryWhileTheTurnRuns(t, func(tb testing.TB, opts chat.Options, steps ...chattest.Step) *env {
			return newEnvOn(tb, dynamotest.New(tb), opts, steps...)
		})
	})
}

func testRetryWhileTheTurnRuns(t *testing.T, open func(testing.TB, chat.Options, ...chattest.Step) *env) {
	gate := make(chan struct{})
	now := time.Now()
	e := open(t, chat.Options{ModelTimeout: 5 * time.Second, Now: func() time.Time { return now }},
		chattest.Step{Deltas: []string{"hello"}}, chattest.Step{Gate: gate, Deltas: []string{"the one reply"}})
	ctx := context.Background()
	first := e.turn(t, chat.TurnRequest{UserID: e.me.ID, Message: "start", ClientMessageID: "c0"})
	e.count.Reset()

	req := chat.TurnRequest{UserID: e.me.ID, SessionID: first.SessionID, Message: "slow one", ClientMessageID: "c1"}
	type result struct {
		res chat.TurnResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := e.svc.Turn(ctx, req, chat.Events{})
		done <- result{res, err}
	}()
	for deadline := time.Now().Add(10 * time.Second); e.model.Calls() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first try never reached the model")
		}
	}
	_, err := e.svc.Turn(ctx, req, chat.Events{})
	close(gate)
	if !errors.Is(err, chat.ErrTurnConflict) {
		t.Errorf("retry while the first try runs: got %v, want ErrTurnConflict", err)
	}
	r := <-done
	if r.err != nil || r.res.Reply.Content != "the one reply" {
		t.Fatalf("first try: %+v, %v", r.res, r.err)
	}
	if got := e.model.Calls(); got != 2 {
		t.Errorf("model calls: got %d, want 2 (one per turn)", got)
	}
	if got, err := e.st.ConsumeQuota(ctx, e.me.ID, now.UTC().Format(time.DateOnly), 1000); err != nil || got != 3 {
		t.Errorf("quota after two turns and a conflict: got %d (%v), want 3: one unit a turn and this one", got, err)
	}
	msgs := e.messages(t, first.SessionID)
	if len(msgs) != 4 || msgs[3].ID != r.res.Reply.ID {
		t.Errorf("messages: got %d, want 4 ending with the first try's reply %s", len(msgs), r.res.Reply.ID)
	}
	if got := e.session(t, first.SessionID).MessageCount; got != 4 {
		t.Errorf("messageCount: got %d, want 4", got)
	}
	again, err := e.svc.Turn(ctx, req, chat.Events{})
	if err != nil || !again.Replayed || again.Reply.ID != r.res.Reply.ID {
		t.Errorf("retry after the turn: got %+v, %v; want the replayed reply", again, err)
	}
}

// TestTitleIsAName checks that a session's title, taken from its first message, keeps the rule of a
// name (package text): one line, without bidirectional overrides.
func TestTitleIsAName(t *testing.T) {
	t.Parallel()
	e := newEnv(t, chat.Options{})
	res := e.turn(t, chat.TurnRequest{UserID: e.me.ID, Message: "abc\u202edcba\n\tsecond line"})
	if got, want := e.session(t, res.SessionID).Title, "abcdcba second line"; got != want {
		t.Errorf("title: got %q, want %q", got, want)
	}
}
