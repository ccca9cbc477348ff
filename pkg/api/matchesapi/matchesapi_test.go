package matchesapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/apitest"
	"github.com/secondme/twin/pkg/api/matchesapi"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

type refreshes struct {
	mu    sync.Mutex
	pairs [][2]string
	err   error
}

func (r *refreshes) Refresh(ctx context.Context, a, b string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.pairs = append(r.pairs, [2]string{a, b})
	return nil
}

type fixture struct {
	st      *sqlitestore.Store
	srv     http.Handler
	refresh *refreshes
}

func setup(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "twin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rt := api.NewRouter()
	ref := &refreshes{}
	matchesapi.New(st, apitest.HeaderAuth{}, ref).Register(rt)
	return &fixture{st: st, srv: api.Wrap(rt, api.Edge{PublicURL: apitest.Origin}), refresh: ref}
}

func (f *fixture) person(t *testing.T, nick string, discoverable bool) string {
	t.Helper()
	now := time.Now().UTC()
	uid := id.New()
	u := store.User{ID: uid, Nickname: nick, Avatar: "/media/avatars/" + uid + "/" + nick + ".png", Discoverable: discoverable,
		ProfileVersion: 1, ProfileChangedAt: now, CreatedAt: now, UpdatedAt: now}
	if err := f.st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func (f *fixture) match(t *testing.T, a, b string, score int) {
	t.Helper()
	a, b = min(a, b), max(a, b)
	m := store.Match{A: a, B: b, Score: score, Reasoning: "Both like jazz.", Highlights: []string{"jazz"},
		Parts: []string{"deterministic", "model"}, Transcript: []store.TranscriptLine{{Speaker: a, Text: "Hi"}, {Speaker: b, Text: "Hello"}},
		VersionA: 1, VersionB: 1, Algorithm: "test", ComputedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := f.st.PutMatch(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) do(t *testing.T, method, target, user string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, apitest.Request(method, target, user, ""))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s: body %q is not a JSON object", method, target, rec.Body.String())
	}
	return rec, body
}

type listBody struct {
	Matches []struct {
		Person struct {
			ID, Nickname, Avatar string
		} `json:"person"`
		Score      int       `json:"score"`
		Reasoning  string    `json:"reasoning"`
		Highlights []string  `json:"highlights"`
		Challenges []string  `json:"challenges"`
		ComputedAt time.Time `json:"computedAt"`
		Transcript []any     `json:"transcript"`
	} `json:"matches"`
	Next string `json:"next"`
}

func (f *fixture) list(t *testing.T, user, query string) listBody {
	t.Helper()
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, apitest.Request("GET", "/api/matches"+query, user, ""))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/matches%s = %d %s", query, rec.Code, rec.Body)
	}
	var b listBody
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestListRankedAndPaged(t *testing.T) {
	t.Parallel()
	f := setup(t)
	me := f.person(t, "me", true)
	var others []string
	for i, score := range []int{40, 90, 65} {
		o := f.person(t, string(rune('a'+i)), true)
		others = append(others, o)
		f.match(t, me, o, score)
	}
	first := f.list(t, me, "?limit=2")
	if len(first.Matches) != 2 || first.Next == "" {
		t.Fatalf("first page = %+v, want 2 matches and a cursor", first)
	}
	if first.Matches[0].Score != 90 || first.Matches[1].Score != 65 || first.Matches[0].Person.ID != others[1] {
		t.Errorf("first page scores %d, %d, want 90, 65 (best first)", first.Matches[0].Score, first.Matches[1].Score)
	}
	m := first.Matches[0]
	if m.Person.Nickname != "b" || m.Person.Avatar == "" || m.Reasoning == "" || len(m.Highlights) != 1 || m.Challenges == nil || m.ComputedAt.IsZero() || m.Transcript != nil {
		t.Errorf("match = %+v, want person, reasoning, lists, computedAt and no transcript in the list", m)
	}
	second := f.list(t, me, "?limit=2&cursor="+first.Next)
	if len(second.Matches) != 1 || second.Matches[0].Score != 40 || second.Next != "" {
		t.Errorf("second page = %+v, want the 40 and no cursor", second)
	}
	// The other side sees the same match.
	if theirs := f.list(t, others[1], ""); len(theirs.Matches) != 1 || theirs.Matches[0].Person.ID != me {
		t.Errorf("other side = %+v", theirs)
	}
}

func TestListLeavesOutHiddenAndBlocked(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	me := f.person(t, "me", true)
	visible, hidden, blocked := f.person(t, "v", true), f.person(t, "h", false), f.person(t, "b", true)
	for _, o := range []string{visible, hidden, blocked} {
		f.match(t, me, o, 50)
	}
	if err := f.st.PutBlock(ctx, store.Block{BlockerID: me, BlockedID: blocked, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got := f.list(t, me, "")
	if len(got.Matches) != 1 || got.Matches[0].Person.ID != visible {
		t.Errorf("matches = %+v, want only the visible person", got.Matches)
	}
}

func TestGetWithEvidence(t *testing.T) {
	t.Parallel()
	f := setup(t)
	me, other, stranger := f.person(t, "me", true), f.person(t, "o", true), f.person(t, "s", true)
	f.match(t, me, other, 77)
	rec, body := f.do(t, "GET", "/api/matches/"+other, me)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET = %d %v", rec.Code, body)
	}
	if body["score"] != float64(77) || body["person"].(map[string]any)["id"] != other {
		t.Errorf("body = %v", body)
	}
	lines, _ := body["transcript"].([]any)
	if len(lines) != 2 || lines[0].(map[string]any)["text"] != "Hi" {
		t.Errorf("transcript = %v, want the two lines", body["transcript"])
	}
	for name, tc := range map[string]struct {
		target, user string
		status       int
	}{
		"no match":        {"/api/matches/" + stranger, me, 404},
		"someone else's":  {"/api/matches/" + other, stranger, 404},
		"self":            {"/api/matches/" + me, me, 404},
		"unknown person":  {"/api/matches/" + id.New(), me, 404},
		"bad id":          {"/api/matches/alice", me, 400},
		"signed out":      {"/api/matches/" + other, "", 401},
		"list signed out": {"/api/matches", "", 401},
		"bad limit":       {"/api/matches?limit=0", me, 400},
		"bad cursor":      {"/api/matches?cursor=nope", me, 400},
	} {
		t.Run(name, func(t *testing.T) {
			rec, body := f.do(t, "GET", tc.target, tc.user)
			if rec.Code != tc.status || body["error"] == nil {
				t.Errorf("GET %s = %d %v, want %d with a JSON error", tc.target, rec.Code, body, tc.status)
			}
		})
	}
}

func TestGetHiddenOrBlockedIs404(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	me, other := f.person(t, "me", true), f.person(t, "o", true)
	f.match(t, me, other, 60)
	if err := f.st.PutBlock(ctx, store.Block{BlockerID: other, BlockedID: me, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := f.do(t, "GET", "/api/matches/"+other, me); rec.Code != http.StatusNotFound {
		t.Errorf("blocked by them: %d, want 404", rec.Code)
	}
	if rec, _ := f.do(t, "POST", "/api/matches/"+other+"/refresh", me); rec.Code != http.StatusNotFound {
		t.Errorf("refresh when blocked: %d, want 404", rec.Code)
	}
	hidden := f.person(t, "h", false)
	if rec, _ := f.do(t, "POST", "/api/matches/"+hidden+"/refresh", me); rec.Code != http.StatusNotFound {
		t.Errorf("refresh of a hidden person: %d, want 404", rec.Code)
	}
	if len(f.refresh.pairs) != 0 {
		t.Errorf("refreshes queued: %v", f.refresh.pairs)
	}
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	f := setup(t)
	me, other := f.person(t, "me", true), f.person(t, "o", true)
	rec, body := f.do(t, "POST", "/api/matches/"+other+"/refresh", me)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("refresh = %d %v, want 202", rec.Code, body)
	}
	if len(f.refresh.pairs) != 1 || f.refresh.pairs[0] != [2]string{me, other} {
		t.Errorf("queued %v", f.refresh.pairs)
	}
	// Cross-site posts are refused before anything is queued.
	req := apitest.Request("POST", "/api/matches/"+other+"/refresh", me, "")
	req.Header.Set("Origin", "https://evil.example")
	out := httptest.NewRecorder()
	f.srv.ServeHTTP(out, req)
	if out.Code != http.StatusForbidden || len(f.refresh.pairs) != 1 {
		t.Errorf("cross-site refresh = %d, queued %d", out.Code, len(f.refresh.pairs))
	}
	// A queue failure is a 500 with the internal message only.
	f.refresh.err = errors.New("queue down: secret detail")
	rec, body = f.do(t, "POST", "/api/matches/"+other+"/refresh", me)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("queue failure = %d %v", rec.Code, body)
	}
}
