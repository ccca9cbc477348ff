package compat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/store"
)

func shade(name, conf, text string, topics ...string) store.Shade {
	return store.Shade{Name: name, Confidence: conf, Public: &store.PublicShade{Name: name, Description: text, Topics: topics}}
}

var alice = store.User{ID: "a", Nickname: "Alice", Shades: []store.Shade{
	shade("Trail Runner", store.ConfidenceVeryHigh, "Runs mountain trails every weekend.", "trail running", "mountains"),
	shade("Jazz Pianist", store.ConfidenceHigh, "Plays jazz piano in a small band.", "jazz", "piano"),
}}

var bob = store.User{ID: "b", Nickname: "Bob", Shades: []store.Shade{
	shade("Spreadsheet Wizard", store.ConfidenceVeryHigh, "Builds financial models for a bank.", "finance", "excel"),
}}

// fakeModel answers a transcript request with transcript(n) (by default numbered lines, with the fields
// of verdict("Person 1: <first persona>...") next to them, as the conversation call's first order) and
// judge requests with verdict(prompt); it records every request.
type fakeModel struct {
	mu         sync.Mutex
	requests   []llm.Request
	verdict    func(prompt string) string
	transcript func(n int) string
	fail       error
}

// numberedLines is a transcript of n lines "  line i  ", the speakers alternating from 1.
func numberedLines(n int) string {
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf(`{"speaker": %d, "text": "  line %d  "}`, i%2+1, i+1))
	}
	return `{"lines": [` + strings.Join(lines, ", ") + `]}`
}

func (f *fakeModel) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	if f.fail != nil {
		return llm.Reply{}, f.fail
	}
	if req.Data != nil && req.Data.Task == llm.TaskTranscript {
		if f.transcript != nil {
			return llm.Reply{Text: f.transcript(req.Data.Lines), Model: "fake"}, nil
		}
		return llm.Reply{Text: withVerdict(numberedLines(req.Data.Lines), f.verdict("Person 1: "+req.Data.Personas[0].Name+"\n")), Model: "fake"}, nil
	}
	return llm.Reply{Text: f.verdict(req.Messages[0].Content), Model: "fake"}, nil
}

// withVerdict adds the fields of the JSON object in verdict (a judge's answer, possibly fenced) to the
// transcript object lines; a verdict without one leaves lines alone.
func withVerdict(lines, verdict string) string {
	var obj map[string]any
	if json.Unmarshal([]byte(lines), &obj) != nil {
		panic("bad transcript " + lines)
	}
	i, j := strings.IndexByte(verdict, '{'), strings.LastIndexByte(verdict, '}')
	var v map[string]any
	if i >= 0 && j > i && json.Unmarshal([]byte(verdict[i:j+1]), &v) == nil {
		for k, x := range v {
			obj[k] = x
		}
	}
	b, _ := json.Marshal(obj)
	return string(b)
}

func (f *fakeModel) judgePrompts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if r.Data != nil && r.Data.Task == llm.TaskJudge {
			out = append(out, r.Messages[0].Content)
		}
	}
	return out
}

// orderVerdict gives 80 when Alice is presented first and 60 when Bob is, like a judge with a
// position bias.
func orderVerdict(prompt string) string {
	if strings.HasPrefix(prompt, "Person 1: Alice") {
		return "```json\n" + `{"score": 80, "reasoning": "They share a love of the outdoors.", "highlights": ["Both run", "Music"], "challenges": ["Different schedules"]}` + "\n```"
	}
	return `{"score": 60, "reasoning": "Some overlap.", "highlights": ["both run ", "Humour"], "challenges": ["different  schedules", "Distance"]}`
}

func TestJudgeBothOrdersAveraged(t *testing.T) {
	t.Parallel()
	m := &fakeModel{verdict: orderVerdict}
	c, err := compat.Converse(context.Background(), m, alice, bob, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Judged || c.Verdict.Score != 80 {
		t.Fatalf("conversation %+v, want the first order's verdict (Alice first: 80)", c)
	}
	v, err := compat.JudgeBoth(context.Background(), m, alice, bob, c)
	if err != nil {
		t.Fatal(err)
	}
	prompts := m.judgePrompts()
	if len(m.requests) != 2 || len(prompts) != 1 {
		t.Fatalf("%d model calls, %d of them the judge; want 2: the conversation with the first order, and the judge once", len(m.requests), len(prompts))
	}
	if !strings.HasPrefix(prompts[0], "Person 1: Bob") {
		t.Errorf("judge prompt presents %q first, want Bob (Alice was first in the conversation call)", strings.SplitN(prompts[0], "\n", 2)[0])
	}
	if !strings.Contains(prompts[0], "Alice's twin: line 1") || !strings.Contains(prompts[0], "Bob's twin: line 2") {
		t.Errorf("judge prompt lacks the transcript:\n%s", prompts[0])
	}
	if v.Score != 70 {
		t.Errorf("score = %v, want the mean 70", v.Score)
	}
	if want := []string{"Both run", "Music", "Humour"}; !slices.Equal(v.Highlights, want) {
		t.Errorf("highlights = %q, want %q", v.Highlights, want)
	}
	if want := []string{"Different schedules", "Distance"}; !slices.Equal(v.Challenges, want) {
		t.Errorf("challenges = %q, want %q", v.Challenges, want)
	}
	if v.Reasoning != "They share a love of the outdoors." {
		t.Errorf("reasoning = %q, want the first order's", v.Reasoning)
	}
}

func TestJudgeOneOrderUnreadable(t *testing.T) {
	t.Parallel()
	lines := []store.TranscriptLine{{Speaker: alice.ID, Text: "Hi!"}, {Speaker: bob.ID, Text: "Hello."}}
	readable := func(string) string { return `{"score": 42, "reasoning": "ok", "highlights": [], "challenges": []}` }
	unreadable := func(string) string { return "I think they are a great match!" }
	first := compat.Conversation{Lines: lines, Verdict: compat.Verdict{Score: 80}, Judged: true}
	cases := []struct {
		name    string
		c       compat.Conversation
		verdict func(string) string
		want    float64 // -1: ErrBadVerdict
	}{
		{"first order unreadable", compat.Conversation{Lines: lines}, readable, 42},
		{"second order unreadable", first, unreadable, 80},
		{"both unreadable", compat.Conversation{Lines: lines}, unreadable, -1},
	}
	for _, tc := range cases {
		v, err := compat.JudgeBoth(context.Background(), &fakeModel{verdict: tc.verdict}, alice, bob, tc.c)
		switch {
		case tc.want < 0 && !errors.Is(err, compat.ErrBadVerdict):
			t.Errorf("%s: err = %v, want ErrBadVerdict", tc.name, err)
		case tc.want >= 0 && (err != nil || v.Score != tc.want):
			t.Errorf("%s: JudgeBoth = %+v, %v; want the readable order alone (%v)", tc.name, v, err, tc.want)
		}
	}
}

func TestConverseVerdictOptional(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text string
		judged     bool
	}{
		{"lines and verdict", `{"lines": [{"speaker": 1, "text": "a"}, {"speaker": 2, "text": "b"}], "score": 61, "reasoning": "r", "highlights": [], "challenges": []}`, true},
		{"lines alone", `{"lines": [{"speaker": 1, "text": "a"}, {"speaker": 2, "text": "b"}]}`, false},
		{"score out of range", `{"lines": [{"speaker": 1, "text": "a"}, {"speaker": 2, "text": "b"}], "score": 160}`, false},
	} {
		m := &fakeModel{transcript: func(int) string { return tc.text }}
		c, err := compat.Converse(context.Background(), m, alice, bob, 2)
		if err != nil || len(c.Lines) != 2 || c.Judged != tc.judged || tc.judged && c.Verdict.Score != 61 {
			t.Errorf("%s: Converse = %+v, %v; want 2 lines, judged %v", tc.name, c, err, tc.judged)
		}
	}
}

func TestAdjustment(t *testing.T) {
	t.Parallel()
	cases := []struct {
		profile int
		judge   float64
		cfg     compat.Config
		want    int
	}{
		{50, 60, compat.Config{ModelRange: 10}, 6},          // 0.6 of the difference
		{50, 90, compat.Config{ModelRange: 10}, 10},         // held within the range
		{50, 0, compat.Config{ModelRange: 10}, -10},         // either way
		{50, 50, compat.Config{ModelRange: 10}, 0},          // agreement adds nothing
		{50, 52.5, compat.Config{ModelRange: 10}, 2},        // 1.5 rounds to 2
		{50, 90, compat.Config{}, compat.DefaultModelRange}, // the default range
		{50, 10, compat.Config{}, -compat.DefaultModelRange},
		{50, 50.5, compat.Config{}, 0},                                 // 0.3 rounds to 0
		{97, 100, compat.Config{ModelWeight: 1, ModelRange: 10}, 3},    // the scale ends at 100
		{4, 0, compat.Config{ModelWeight: 1, ModelRange: 10}, -4},      // and at 0
		{40, 80, compat.Config{ModelWeight: 0.25, ModelRange: 15}, 10}, // the configured pull and range
		{40, 100, compat.Config{ModelWeight: 1, ModelRange: 15}, 15},
	}
	for _, tc := range cases {
		if got := compat.Adjustment(tc.profile, tc.judge, tc.cfg); got != tc.want {
			t.Errorf("Adjustment(%d, %v, %+v) = %d, want %d", tc.profile, tc.judge, tc.cfg, got, tc.want)
		}
	}
}

func TestParseVerdict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		want       float64
		ok         bool
	}{
		{"plain", `{"score": 55, "reasoning": "r", "highlights": ["a"], "challenges": []}`, 55, true},
		{"fenced with prose", "Sure!\n```json\n{\"score\": 12.5, \"reasoning\": \"r\"}\n```", 12.5, true},
		{"unknown fields ignored", `{"score": 0, "mood": "happy"}`, 0, true},
		{"score missing", `{"reasoning": "r"}`, 0, false},
		{"score too high", `{"score": 101}`, 0, false},
		{"score negative", `{"score": -1}`, 0, false},
		{"score a string", `{"score": "90"}`, 0, false},
		{"not json", "ninety", 0, false},
		{"broken json", `{"score": 9`, 0, false},
		{"lists of the wrong type", `{"score": 9, "highlights": "a"}`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := compat.ParseVerdict(tt.text)
			if tt.ok != (err == nil) || (tt.ok && v.Score != tt.want) {
				t.Errorf("ParseVerdict = %+v, %v; want score %v ok %v", v, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, compat.ErrBadVerdict) {
				t.Errorf("err = %v, want ErrBadVerdict", err)
			}
		})
	}
}

func TestParseVerdictCleansLists(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 500)
	v, err := compat.ParseVerdict(`{"score": 1, "highlights": ["  a  b ", "A B", "", "c", "d", "e", "f", "g", "h", "` + long + `"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a b", "c", "d", "e", "f", "g"}; !slices.Equal(v.Highlights, want) {
		t.Errorf("highlights = %q, want %q", v.Highlights, want)
	}
}

func pair() (store.User, store.User) {
	a, b := alice, bob
	a.ID, b.ID = "01A", "01B"
	a.ProfileVersion, b.ProfileVersion = 3, 7
	return a, b
}

func TestComputeWithModel(t *testing.T) {
	t.Parallel()
	a, b := pair()
	m := &fakeModel{verdict: func(string) string {
		return `{"score": 90, "reasoning": "Great fit.", "highlights": ["Music", "Alice's Jazz Pianist would liven up Bob's Spreadsheet Wizard evenings"], "challenges": ["Different schedules"]}`
	}}
	s := compat.New(m, compat.Config{})
	got, err := s.Compute(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	det := formula.Explain(formula.NewFeatures(a), formula.NewFeatures(b)).Score
	adjust := min(compat.DefaultModelRange, int(0.6*float64(90-det)+0.5))
	if want := det + adjust; got.Score != want || adjust <= 0 {
		t.Errorf("score = %d, want %d (profile score %d + the conversation's %d, 0.6 x (90 - %d) held within %d)", got.Score, want, det, adjust, det, compat.DefaultModelRange)
	}
	if want := []string{compat.PartDeterministic, compat.PartModel}; !slices.Equal(got.Parts, want) {
		t.Errorf("parts = %q, want %q", got.Parts, want)
	}
	if got.Algorithm != s.Algorithm() || got.Algorithm == formula.Version {
		t.Errorf("algorithm = %q, want the model's %q", got.Algorithm, s.Algorithm())
	}
	if got.A != a.ID || got.B != b.ID || got.VersionA != 3 || got.VersionB != 7 || got.ComputedAt.IsZero() {
		t.Errorf("match header = %+v", got)
	}
	if len(got.Transcript) != compat.DefaultMessages {
		t.Fatalf("transcript has %d lines, want %d", len(got.Transcript), compat.DefaultMessages)
	}
	for i, l := range got.Transcript {
		want := a.ID
		if i%2 == 1 {
			want = b.ID
		}
		if l.Speaker != want || l.Text != fmt.Sprintf("line %d", i+1) {
			t.Errorf("line %d = %+v, want speaker %s, trimmed text", i, l, want)
		}
	}
	// The score shown is the one the reasoning explains, by its labelled parts, before the judge's words.
	wantReasoning := fmt.Sprintf("Score %d/100: profile %d · twins' conversation +%d. Great fit.", got.Score, det, adjust)
	if got.Reasoning != wantReasoning {
		t.Errorf("reasoning %q, want %q", got.Reasoning, wantReasoning)
	}
	// A judge's item is kept when it names both people's shades; bare ones ("Music") are not.
	if want := []string{"Alice's Jazz Pianist would liven up Bob's Spreadsheet Wizard evenings"}; !slices.Equal(got.Highlights, want) {
		t.Errorf("highlights %q, want %q", got.Highlights, want)
	}
	if slices.Contains(got.Challenges, "Different schedules") {
		t.Errorf("challenges %q keep a judge's item that names no shade", got.Challenges)
	}
	if len(m.judgePrompts()) != 1 || len(m.requests) != 2 {
		t.Errorf("model calls = %d (judge %d), want 2: the conversation with the first order, and the second order", len(m.requests), len(m.judgePrompts()))
	}
}

func TestConverseUsesPublicPersonasOnly(t *testing.T) {
	t.Parallel()
	a, b := pair()
	a.Shades = append(slices.Clone(a.Shades), store.Shade{Name: "Secret Diary", Description: "hidden-private-text"})
	a.Memories = []store.Memory{{Subject: "memory", Content: "hidden-memory"}}
	m := &fakeModel{verdict: orderVerdict}
	if _, err := compat.New(m, compat.Config{Messages: 4}).Compute(context.Background(), a, b); err != nil {
		t.Fatal(err)
	}
	if len(m.requests) != 2 {
		t.Fatalf("requests = %d, want the conversation + 1 judge", len(m.requests))
	}
	for i, r := range m.requests {
		data, _ := json.Marshal(r.Data)
		all := r.System + string(data)
		for _, msg := range r.Messages {
			all += msg.Content
		}
		if strings.Contains(all, "hidden-") || strings.Contains(all, "Secret Diary") {
			t.Errorf("request %d leaks private data:\n%s", i, all)
		}
	}
	// One call writes the whole conversation and the first order's verdict: both public personas, in
	// text and as data, A first.
	talk := m.requests[0]
	if talk.Data == nil || talk.Data.Task != llm.TaskTranscript || talk.Data.Lines != 4 || talk.Schema == nil {
		t.Fatalf("first request %+v, want the transcript of 4 lines with a schema", talk)
	}
	if p := talk.Data.Personas; len(p) != 2 || p[0].ID != a.ID || p[1].ID != b.ID || p[0].Facets[0].Name != "Trail Runner" {
		t.Errorf("transcript personas = %+v, want A's then B's public facets", p)
	}
	prompt := talk.Messages[0].Content
	if i, j := strings.Index(prompt, "Trail Runner"), strings.Index(prompt, "Spreadsheet Wizard"); i < 0 || j < i {
		t.Errorf("transcript prompt does not present A then B:\n%s", prompt)
	}
}

func TestComputeUnreadableTranscriptKeepsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := pair()
	for _, bad := range []string{"", "Sorry, I cannot.", `{"lines": [{"speaker": 2, "text": "hi"}, {"speaker": 1, "text": "hello"}]}`,
		`{"lines": [{"speaker": 1, "text": "only one"}]}`} {
		m := &fakeModel{transcript: func(int) string { return bad }, verdict: orderVerdict}
		s := compat.New(m, compat.Config{})
		got, err := s.Compute(context.Background(), a, b)
		if err != nil {
			t.Fatal(err)
		}
		det := s.Deterministic(a, b)
		if got.Score != det.Score || got.Algorithm != s.Algorithm() || !slices.Equal(got.Parts, []string{compat.PartDeterministic}) || len(got.Transcript) != 0 {
			t.Errorf("transcript %q: got %+v, want the deterministic match stamped %q", bad, got, s.Algorithm())
		}
		if len(m.requests) != 1 {
			t.Errorf("transcript %q: %d model calls, want 1 (no judge without a conversation)", bad, len(m.requests))
		}
	}
}

func TestParseTranscript(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 400)
	cases := []struct {
		name, text string
		n          int
		want       []string // texts, speakers alternating a, b; nil means ErrBadTranscript
	}{
		{"plain", `{"lines": [{"speaker": 1, "text": "Hi"}, {"speaker": 2, "text": " Hello\n there "}]}`, 2, []string{"Hi", "Hello there"}},
		{"fenced, speakers as strings", "```json\n" + `{"lines": [{"speaker": "1", "text": "a"}, {"speaker": "2", "text": "b"}]}` + "\n```", 2, []string{"a", "b"}},
		{"extra lines dropped", `{"lines": [{"speaker": 1, "text": "a"}, {"speaker": 2, "text": "b"}, {"speaker": 1, "text": "c"}]}`, 2, []string{"a", "b"}},
		{"fewer lines kept", `{"lines": [{"speaker": 1, "text": "a"}, {"speaker": 2, "text": "b"}]}`, 6, []string{"a", "b"}},
		{"long line clipped", `{"lines": [{"speaker": 1, "text": "` + long + `"}, {"speaker": 2, "text": "b"}]}`, 2, []string{long[:596] + "…", "b"}},
		{"same speaker twice", `{"lines": [{"speaker": 1, "text": "a"}, {"speaker": 1, "text": "b"}]}`, 2, nil},
		{"starts with 2", `{"lines": [{"speaker": 2, "text": "a"}, {"speaker": 1, "text": "b"}]}`, 2, nil},
		{"speaker 3", `{"lines": [{"speaker": 1, "text": "a"}, {"speaker": 3, "text": "b"}]}`, 2, nil},
		{"empty line", `{"lines": [{"speaker": 1, "text": "a"}, {"speaker": 2, "text": "  "}]}`, 2, nil},
		{"one line", `{"lines": [{"speaker": 1, "text": "a"}]}`, 2, nil},
		{"not JSON", `lines: a, b`, 2, nil},
		{"wrong shape", `{"lines": "a"}`, 2, nil},
		{"too long", `{"lines": [{"speaker": 1, "text": "` + strings.Repeat("x", 70_000) + `"}, {"speaker": 2, "text": "b"}]}`, 2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := compat.ParseTranscript(tc.text, "A", "B", tc.n)
			if tc.want == nil {
				if !errors.Is(err, compat.ErrBadTranscript) {
					t.Errorf("err = %v, want ErrBadTranscript (lines %+v)", err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var texts []string
			for i, l := range got {
				if want := []string{"A", "B"}[i%2]; l.Speaker != want {
					t.Errorf("line %d spoken by %s, want %s", i, l.Speaker, want)
				}
				texts = append(texts, l.Text)
			}
			if !slices.Equal(texts, tc.want) {
				t.Errorf("lines %q, want %q", texts, tc.want)
			}
		})
	}
}

func TestComputeModelFailure(t *testing.T) {
	t.Parallel()
	a, b := pair()
	m := &fakeModel{fail: fmt.Errorf("boom: %w", llm.ErrUnavailable)}
	s := compat.New(m, compat.Config{})
	if _, err := s.Compute(context.Background(), a, b); !errors.Is(err, llm.ErrUnavailable) {
		t.Errorf("err = %v, want ErrUnavailable", err)
	}
	d := s.Deterministic(a, b)
	if d.Algorithm != formula.Version || !slices.Equal(d.Parts, []string{compat.PartDeterministic}) || len(d.Transcript) != 0 {
		t.Errorf("fallback = %+v, want deterministic only with Algorithm", d)
	}
}

func TestComputeUnreadableJudgeKeepsDeterministic(t *testing.T) {
	t.Parallel()
	a, b := pair()
	s := compat.New(&fakeModel{verdict: func(string) string { return "?" }}, compat.Config{})
	got, err := s.Compute(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	det := s.Deterministic(a, b)
	if got.Score != det.Score || got.Algorithm != s.Algorithm() || !slices.Equal(got.Parts, []string{compat.PartDeterministic}) || len(got.Transcript) == 0 {
		t.Errorf("got %+v, want the deterministic score with the transcript, stamped %q", got, s.Algorithm())
	}
}

func TestComputeWithoutModel(t *testing.T) {
	t.Parallel()
	a, b := pair()
	s := compat.New(nil, compat.Config{})
	got, err := s.Compute(context.Background(), a, b)
	if err != nil || got.Algorithm != formula.Version || s.Algorithm() != formula.Version {
		t.Errorf("Compute = %+v, %v", got, err)
	}
	if _, err := s.Compute(context.Background(), b, a); err == nil {
		t.Error("Compute(b, a) succeeded, want an error for ids out of order")
	}
}
