package offline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/offline"
	"github.com/secondme/twin/pkg/prompt"
	"github.com/secondme/twin/pkg/store"
)

// ada has private and public shade fields, a private-only shade and a memory.
var ada = store.User{ID: "01JADA0000000000000000000", Nickname: "Ada", Bio: "Builds looms that compute.",
	Shades: []store.Shade{
		{Name: "Engine tinkerer", Confidence: store.ConfidenceVeryHigh, Description: "You love taking machines apart.",
			Content: "You spend weekends rebuilding old engines.", Topics: []string{"engineering", "mechanics"},
			Public: &store.PublicShade{Name: "Tinkerer", Description: "Enjoys machines.", Topics: []string{"engineering"}}},
		{Name: "Poet", Confidence: store.ConfidenceMedium, Description: "You write verse at night.", Topics: []string{"poetry"},
			Public: &store.PublicShade{Description: "She writes poetry.", Topics: []string{"poetry"}}},
		{Name: "Hiker", Confidence: store.ConfidenceHigh, Description: "You hike in the Alps every summer.",
			Topics: []string{"hiking", "mountains"}},
	},
	Memories: []store.Memory{{Subject: "Charles", Content: "Works with Charles on the engine."}},
}

// twinRequest is the request pkg/prompt builds for a message to ada's twin.
func twinRequest(own bool, msg string) llm.Request {
	return prompt.Build(prompt.Input{Persona: prompt.PersonaOf(ada, own), Message: msg}, prompt.Config{}).Request
}

func TestOfflineRepliesInPersona(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		own     bool
		msg     string
		want    []string
		notWant []string
	}{
		{name: "the facet that bears on it", own: true, msg: "Do you like hiking in the mountains?",
			want: []string{"I hike in the Alps every summer."}},
		{name: "content, in the first person", own: true, msg: "What do you do on weekends?",
			want: []string{"I spend weekends rebuilding old engines."}},
		{name: "a memory", own: true, msg: "Who is Charles?", want: []string{"I work with Charles on the engine."}},
		{name: "a greeting introduces the twin", own: true, msg: "hi", want: []string{"Hi!", "I'm the AI twin of Ada."}},
		{name: "nothing bears on it", own: true, msg: "What's your favourite food?",
			want: []string{"I'm the AI twin of Ada.", "Ask me about engine tinkerer, hiker or poet."}},
		{name: "public: third person made first", own: false, msg: "Tell me about your poetry", want: []string{"I write poetry."}},
		{name: "public: no private facet or memory", own: false, msg: "Do you hike in the Alps? Who is Charles? Weekends?",
			want: []string{"Ask me about tinkerer or poet."}, notWant: []string{"Alps", "Charles", "weekends", "Hiker", "Engine tinkerer"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reply, err := offline.New().Generate(context.Background(), twinRequest(tc.own, tc.msg), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(reply.Text, w) {
					t.Errorf("reply %q lacks %q", reply.Text, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(reply.Text, w) {
					t.Errorf("reply %q holds %q", reply.Text, w)
				}
			}
			if strings.Contains(reply.Text, "offline") {
				t.Errorf("reply %q marks itself offline in its text (Reply.Offline says so)", reply.Text)
			}
			if !reply.Offline || reply.Model != llm.ModelOffline {
				t.Errorf("reply = %+v, want Offline and Model %q", reply, llm.ModelOffline)
			}
		})
	}
}

func TestOfflineDoesNotRepeatItself(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	msg := "Do you like hiking in the mountains?"
	first, err := offline.New().Generate(ctx, twinRequest(true, msg), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The same question again, after the first answer: a new answer, not the sentence already said.
	history := []store.ChatMessage{{Role: store.RoleUser, Content: msg}, {Role: store.RoleAssistant, Content: first.Text}}
	req := prompt.Build(prompt.Input{Persona: prompt.PersonaOf(ada, true), History: history, Message: msg}, prompt.Config{}).Request
	again, err := offline.New().Generate(ctx, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Text == first.Text || strings.Contains(again.Text, "I hike in the Alps every summer.") {
		t.Errorf("second answer %q repeats the first %q", again.Text, first.Text)
	}
}

func TestOfflineIsDeterministicAndStreamsWords(t *testing.T) {
	t.Parallel()
	req := twinRequest(true, "Do you like hiking in the mountains?")
	first, err := offline.New().Generate(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		var deltas []string
		got, err := offline.New().Generate(context.Background(), req, collect(&deltas))
		if err != nil {
			t.Fatal(err)
		}
		if got != first {
			t.Fatalf("reply %+v, earlier %+v", got, first)
		}
		if joined := strings.Join(deltas, ""); joined != got.Text {
			t.Errorf("deltas join to %q, text is %q", joined, got.Text)
		}
		if want := len(strings.Fields(got.Text)); len(deltas) != want {
			t.Errorf("%d deltas, want one per word (%d)", len(deltas), want)
		}
	}
}

func TestOfflineStops(t *testing.T) {
	t.Parallel()
	req := twinRequest(true, "hi")
	errStop := errors.New("stop")
	calls := 0
	reply, err := offline.New().Generate(context.Background(), req, func(s string) error {
		if calls++; calls == 3 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("err = %v, want onDelta's", err)
	}
	if got, want := reply.Text, "Hi! I'm "; got != want {
		t.Errorf("partial text = %q, want %q", got, want)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := offline.New().Generate(ctx, req, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

func TestOfflineMaxTokens(t *testing.T) {
	t.Parallel()
	req := twinRequest(true, "hi")
	req.MaxTokens = 3
	reply, err := offline.New().Generate(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reply.Text, "Hi! I'm the"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
}

// verdictSchema is the compat judge's schema.
var verdictSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"score":      map[string]any{"type": "integer", "minimum": 0, "maximum": 100},
		"reasoning":  map[string]any{"type": "string"},
		"highlights": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		"challenges": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
	},
	"required": []any{"score", "reasoning", "highlights", "challenges"},
}

// judgeRequest presents two people as pkg/compat's judge does.
func judgeRequest(a, b string) llm.Request {
	return llm.Request{
		System: "You are a fair matchmaker. Answer only with JSON.",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Person 1: Ada\n" + a + "Person 2: Bob\n" + b +
			"Conversation between their twins:\nAda's twin: Hello there, I love chess.\nBob's twin: Hi!\n"}},
		Schema: verdictSchema,
	}
}

const (
	hikerProfile  = "> About: Hikes mountain trails every weekend.\n> Facet: Hiker | Loves hiking in the Alps. | topics: hiking, mountains\n> Facet: Jazz fan | Plays jazz piano. | topics: jazz, music\n"
	runnerProfile = "> About: Runs mountain trails at dawn.\n> Facet: Runner | Trail running and hiking. | topics: running, hiking\n> Facet: Jazz lover | Goes to jazz clubs. | topics: jazz, music\n"
	gamerProfile  = "> About: Strategy games and spreadsheets.\n> Facet: Gamer | Builds spreadsheets for board games. | topics: gaming, board games\n> Facet: Chef | Cooks Sichuan food. | topics: cooking\n"
)

// verdict asks the offline model for a verdict on req and checks it against the schema.
func verdict(t *testing.T, req llm.Request) map[string]any {
	t.Helper()
	reply, err := offline.New().Generate(context.Background(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, req.Schema, reply.Text)
	var v map[string]any
	if err := json.Unmarshal([]byte(reply.Text), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// validate fails t unless text is JSON valid for schema.
func validate(t *testing.T, schema map[string]any, text string) {
	t.Helper()
	raw, err := json.Marshal(schema)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("compile %s: %v", raw, err)
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("reply %q is not JSON: %v", text, err)
	}
	if err := sch.Validate(v); err != nil {
		t.Errorf("reply %s is not valid for %s: %v", text, raw, err)
	}
}

func TestOfflineJudgeSaysEachThingOnce(t *testing.T) {
	t.Parallel()
	a := "> Facet: Teacher | Teaches poetry. | topics: teaching, poetry\n"
	b := "> Facet: Poet | A teacher who writes poems and poetry. | topics: poet, teacher\n"
	v := verdict(t, judgeRequest(a, b))
	all := fmt.Sprint(v["highlights"]) + " " + v["reasoning"].(string)
	for _, pair := range [][2]string{{"teaches", "teacher"}, {"poet ", "poetry"}} {
		if strings.Contains(all, pair[0]) && strings.Contains(all, pair[1]) {
			t.Errorf("verdict says both %q and %q: %s", pair[0], pair[1], all)
		}
	}
}

func TestOfflineJudge(t *testing.T) {
	t.Parallel()
	same := verdict(t, judgeRequest(hikerProfile, hikerProfile))
	close1 := verdict(t, judgeRequest(hikerProfile, runnerProfile))
	close2 := verdict(t, judgeRequest(runnerProfile, hikerProfile))
	far := verdict(t, judgeRequest(hikerProfile, gamerProfile))
	score := func(v map[string]any) float64 { return v["score"].(float64) }
	if got := score(same); got != 100 {
		t.Errorf("identical profiles score %v, want 100", got)
	}
	if got := score(far); got > 20 {
		t.Errorf("disjoint profiles score %v, want 20 or less", got)
	}
	if s := score(close1); s <= score(far) || s >= score(same) {
		t.Errorf("overlapping profiles score %v, want between %v and %v", s, score(far), score(same))
	}
	if score(close1) != score(close2) {
		t.Errorf("order matters: %v and %v", score(close1), score(close2))
	}
	if got := fmt.Sprint(close1["highlights"]); !strings.Contains(got, "Both mention hiking.") || !strings.Contains(got, "Both mention jazz.") {
		t.Errorf("highlights = %v, want hiking and jazz", got)
	}
	if got := fmt.Sprint(close1["challenges"]); !strings.Contains(got, "Only Ada mentions") || !strings.Contains(got, "Only Bob mentions") {
		t.Errorf("challenges = %v, want what only one of them mentions, by name", got)
	}
	if got := close1["reasoning"].(string); !strings.Contains(got, "offline") {
		t.Errorf("reasoning %q does not say it is an offline estimate", got)
	}
	if got := fmt.Sprint(close1); strings.Contains(got, "chess") {
		t.Errorf("verdict %s draws on the conversation, want the profiles only", got)
	}
}

func TestOfflineSchemasAreValid(t *testing.T) {
	t.Parallel()
	schemas := map[string]map[string]any{
		"judge": verdictSchema,
		"bounds and lists": {"type": "object", "properties": map[string]any{
			"score":    map[string]any{"type": "number", "minimum": 1.5, "maximum": 2.5},
			"level":    map[string]any{"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
			"only_min": map[string]any{"type": "integer", "minimum": 50},
			"risks":    map[string]any{"type": "array", "items": map[string]any{"type": "string", "maxLength": 10}, "minItems": 5, "maxItems": 6, "uniqueItems": true},
			"tags":     map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "maxItems": 1},
			"short":    map[string]any{"type": "string", "minLength": 300},
		}},
		"enums, consts, unions": {"type": "object", "properties": map[string]any{
			"mood":     map[string]any{"enum": []any{"warm", "cool"}},
			"kind":     map[string]any{"const": "verdict"},
			"maybe":    map[string]any{"type": []any{"null", "boolean"}},
			"choice":   map[string]any{"anyOf": []any{map[string]any{"type": "integer", "minimum": 3, "maximum": 3}, map[string]any{"type": "string"}}},
			"nested":   map[string]any{"type": "object", "properties": map[string]any{"why": map[string]any{"type": "string"}, "n": map[string]any{"type": "number"}}},
			"implicit": map[string]any{"properties": map[string]any{"x": map[string]any{"type": "boolean"}}},
			"nothing":  map[string]any{"type": "null"},
		}},
		"array at the top": {"type": "array", "items": map[string]any{"type": "integer", "minimum": 0, "maximum": 5}, "minItems": 2},
	}
	for name, schema := range schemas {
		for _, req := range []llm.Request{judgeRequest(hikerProfile, runnerProfile), {System: "x"}, {}} {
			t.Run(name, func(t *testing.T) {
				req.Schema = schema
				reply, err := offline.New().Generate(context.Background(), req, nil)
				if err != nil {
					t.Fatal(err)
				}
				validate(t, schema, reply.Text)
				again, _ := offline.New().Generate(context.Background(), req, func(string) error { return nil })
				if again != reply {
					t.Errorf("streamed %+v, whole %+v", again, reply)
				}
			})
		}
	}
}

func BenchmarkOfflineChat(b *testing.B) {
	req := twinRequest(true, "Do you like hiking in the mountains?")
	m := offline.New()
	ctx := context.Background()
	onDelta := func(string) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Generate(ctx, req, onDelta); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOfflineJudge(b *testing.B) {
	req := judgeRequest(hikerProfile, runnerProfile)
	m := offline.New()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Generate(ctx, req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOfflinePace(t *testing.T) {
	t.Parallel()
	m := &offline.Model{Pace: 5 * time.Millisecond}
	req := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Tell me about your weekends and what you like to cook"}}}
	var stamps []time.Time
	if _, err := m.Generate(context.Background(), req, func(string) error {
		stamps = append(stamps, time.Now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(stamps) < 3 {
		t.Fatalf("got %d deltas, want several words", len(stamps))
	}
	for i := 1; i < len(stamps); i++ {
		if gap := stamps[i].Sub(stamps[i-1]); gap < 5*time.Millisecond {
			t.Errorf("delta %d came %v after the one before, want at least the 5ms pace", i, gap)
		}
	}
	if _, err := m.Generate(context.Background(), llm.Request{Schema: map[string]any{"type": "object"}, Messages: req.Messages}, nil); err != nil {
		t.Errorf("a JSON request without deltas: %v", err)
	}
}

// collect returns an onDelta that appends each delta to deltas.
func collect(deltas *[]string) func(string) error {
	return func(s string) error {
		*deltas = append(*deltas, s)
		return nil
	}
}

// TestOfflineChatFromDataAsFromText checks that a chat turn answered from the request's structured part
// (what pkg/prompt fills) says what the same turn said when the persona was read out of the prompt text.
func TestOfflineChatFromDataAsFromText(t *testing.T) {
	for _, own := range []bool{true, false} {
		for _, msg := range []string{"Tell me about machines and engines", "Do you write poetry?", "hello", "What about the weather in Lisbon?"} {
			req := twinRequest(own, msg)
			if req.Data == nil || req.Data.Task != llm.TaskChat {
				t.Fatalf("prompt.Build gave no chat data: %+v", req.Data)
			}
			fromData, err := offline.New().Generate(context.Background(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Data = nil
			fromText, err := offline.New().Generate(context.Background(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			if fromData.Text != fromText.Text {
				t.Errorf("own %v, %q: from data %q, from the prompt text %q", own, msg, fromData.Text, fromText.Text)
			}
		}
	}
}
