package usersapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/apitest"
	"github.com/secondme/twin/pkg/api/usersapi"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// fakeRematch records the people it was asked to rematch and fails with err.
type fakeRematch struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeRematch) Rematch(ctx context.Context, userID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, userID)
	return f.err
}

func (f *fakeRematch) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// testStore is a whole store that can also list every record it holds.
type testStore interface {
	store.Store
	Dump(ctx context.Context, w io.Writer) error
}

// fakeSync stands for the SecondMe import: it rewrites the bio, or fails with err.
type fakeSync struct {
	st  testStore
	err error
}

func (f *fakeSync) Sync(ctx context.Context, userID string) error {
	if f.err != nil {
		return f.err
	}
	u, err := f.st.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	u.Bio = "Synced from SecondMe"
	_, err = f.st.UpdateUser(ctx, u)
	return err
}

// env is one handler over a fresh SQLite store with three people: Ana (discoverable, with a public
// and a private-only shade), Ben (discoverable) and Cleo (hidden).
type env struct {
	st             testStore
	h              http.Handler
	rematch        *fakeRematch
	sync           *fakeSync
	ana, ben, cleo string
	logs           *bytes.Buffer
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(tb.TempDir(), "test.db"))
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return newEnvOn(tb, st)
}

// newEnvOn is newEnv on a given store.
func newEnvOn(tb testing.TB, st testStore) *env {
	tb.Helper()
	ctx := context.Background()
	e := &env{st: st, rematch: &fakeRematch{}, sync: &fakeSync{st: st}, ana: id.New(), ben: id.New(), cleo: id.New()}
	users := []store.User{
		{
			ID: e.ana, Nickname: "Ana", Bio: "Climbs and cooks.", Provider: store.ProviderOIDC, Discoverable: true,
			AllowTwinChat: true, Language: "en", ProfileVersion: 1, CreatedAt: now, UpdatedAt: now,
			Shades: []store.Shade{
				{ID: id.New(), Name: "PRIVATE-Granite addict", Confidence: store.ConfidenceHigh,
					Description: "PRIVATE-desc", Content: "PRIVATE-content", Topics: []string{"PRIVATE-topic"},
					Public: &store.PublicShade{Name: "Climber", Description: "Likes mountains.", Content: "Weekend climbs.", Topics: []string{"climbing"}}},
				{ID: id.New(), Name: "PRIVATE-ONLY shade", Confidence: store.ConfidenceLow, Content: "PRIVATE-ONLY content"},
			},
			Memories: []store.Memory{{ID: id.New(), Subject: "first climb", Content: "PRIVATE-memory", CreatedAt: now}},
		},
		{ID: e.ben, Nickname: "Ben", Provider: store.ProviderOIDC, Discoverable: true, AllowTwinChat: true, CreatedAt: now, UpdatedAt: now},
		{ID: e.cleo, Nickname: "Cleo", Provider: store.ProviderOIDC, CreatedAt: now, UpdatedAt: now},
	}
	for _, u := range users {
		if err := st.CreateUser(ctx, u); err != nil {
			tb.Fatalf("create user: %v", err)
		}
	}
	e.logs = &bytes.Buffer{}
	rt := api.NewRouter()
	rt.HandleFunc("GET /api/health", api.Health)
	usersapi.New(st, apitest.HeaderAuth{}, e.rematch, e.sync, usersapi.WithClock(func() time.Time { return now })).Register(rt)
	e.h = api.Middleware{Edge: api.Edge{PublicURL: apitest.Origin}, Logger: slog.New(slog.NewJSONHandler(e.logs, nil))}.Wrap(rt)
	return e
}

// expand replaces {ana}, {ben}, {cleo} and {unknown} with ids.
func (e *env) expand(s string) string {
	return strings.NewReplacer("{ana}", e.ana, "{ben}", e.ben, "{cleo}", e.cleo, "{unknown}", "01HZZZZZZZZZZZZZZZZZZZZZZZ").Replace(s)
}

func (e *env) user(tb testing.TB, uid string) store.User {
	tb.Helper()
	u, err := e.st.GetUser(context.Background(), uid)
	if err != nil {
		tb.Fatalf("get user %s: %v", uid, err)
	}
	return u
}

type errorBody struct {
	Error fault.Error `json:"error"`
}

func errorOf(tb testing.TB, w *httptest.ResponseRecorder) fault.Error {
	tb.Helper()
	var eb errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
		tb.Fatalf("error body %q: %v", w.Body, err)
	}
	return eb.Error
}

func decode[T any](tb testing.TB, w *httptest.ResponseRecorder) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		tb.Fatalf("body %q: %v", w.Body, err)
	}
	return v
}

// wantField checks a 400 that names field.
func wantField(field string) func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
	return func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
		t.Helper()
		got := errorOf(t, w)
		if got.Code != fault.CodeInvalidArgument || got.Fields[field] == "" {
			t.Errorf("error = %+v, want invalid_argument naming %q", got, field)
		}
	}
}

func wantCode(code string) func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
	return func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
		t.Helper()
		if got := errorOf(t, w); got.Code != code {
			t.Errorf("error code = %q, want %q", got.Code, code)
		}
	}
}

func shadesJSON(n int) string {
	var b strings.Builder
	b.WriteString(`{"shades":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"name":"s%d"}`, i)
	}
	b.WriteString("]}")
	return b.String()
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	type check func(t *testing.T, e *env, w *httptest.ResponseRecorder)
	tests := []struct {
		name   string
		setup  func(t *testing.T, e *env)
		method string
		path   string
		user   string
		body   string
		header map[string]string
		want   int
		check  check
	}{
		// Health.
		{name: "health", method: "GET", path: "/api/health", want: 200, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			if got := strings.TrimSpace(w.Body.String()); got != `{"status":"ok"}` {
				t.Errorf("body = %s", got)
			}
		}},

		// Own profile.
		{name: "info", method: "GET", path: "/api/user/info", user: "{ana}", want: 200, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			got := decode[profile.Info](t, w)
			want := profile.Info{ID: e.ana, Nickname: "Ana", Bio: "Climbs and cooks.", Provider: "oidc", Discoverable: true, AllowTwinChat: true, Language: "en", CreatedAt: now}
			if got != want {
				t.Errorf("info = %+v, want %+v", got, want)
			}
		}},
		{name: "info anonymous", method: "GET", path: "/api/user/info", want: 401, check: wantCode(fault.CodeUnauthenticated)},
		{name: "info of an erased person", method: "GET", path: "/api/user/info", user: "{unknown}", want: 404, check: wantCode(fault.CodeNotFound)},
		{name: "info wrong method", method: "POST", path: "/api/user/info", user: "{ana}", body: `{}`, want: 405, check: wantCode(fault.CodeMethodNotAllowed)},
		{name: "patch info", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"nickname":"  Ana B. ","bio":"New bio","avatar":"/media/avatars/{ana}/a.png"}`, want: 200,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				got := decode[profile.Info](t, w)
				if got.Nickname != "Ana B." || got.Bio != "New bio" || got.Avatar != "/media/avatars/"+e.ana+"/a.png" || !got.Discoverable {
					t.Errorf("info = %+v", got)
				}
				u := e.user(t, e.ana)
				if u.Nickname != "Ana B." || u.ProfileVersion != 2 || !u.ProfileChangedAt.Equal(now) {
					t.Errorf("stored nickname %q version %d changed %v", u.Nickname, u.ProfileVersion, u.ProfileChangedAt)
				}
				if got := e.rematch.called(); len(got) != 1 || got[0] != e.ana {
					t.Errorf("rematch calls = %v, want [ana]", got)
				}
			}},
		{name: "patch one switch leaves the rest", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"discoverable":false}`, want: 200,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				u := e.user(t, e.ana)
				if u.Discoverable || !u.AllowTwinChat || u.Nickname != "Ana" || u.Bio != "Climbs and cooks." || len(u.Shades) != 2 {
					t.Errorf("stored %+v", u)
				}
				if got := e.rematch.called(); len(got) != 0 {
					t.Errorf("rematch calls = %v, want none", got)
				}
			}},
		{name: "patch discoverable on rematches", method: "PATCH", path: "/api/user/info", user: "{cleo}", body: `{"discoverable":true,"allowTwinChat":true}`, want: 200,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if u := e.user(t, e.cleo); !u.Discoverable || !u.AllowTwinChat {
					t.Errorf("stored %+v", u)
				}
				if got := e.rematch.called(); len(got) != 1 || got[0] != e.cleo {
					t.Errorf("rematch calls = %v, want [cleo]", got)
				}
			}},
		{name: "patch language", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"language":"zh-CN"}`, want: 200,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if got := decode[profile.Info](t, w).Language; got != "zh-CN" {
					t.Errorf("language = %q, want zh-CN", got)
				}
				if u := e.user(t, e.ana); u.Language != "zh-CN" || u.ProfileVersion != 1 || u.Nickname != "Ana" {
					t.Errorf("stored language %q version %d nickname %q", u.Language, u.ProfileVersion, u.Nickname)
				}
				if got := e.rematch.called(); len(got) != 0 {
					t.Errorf("rematch calls = %v, want none", got)
				}
			}},
		{name: "error in the person's language", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"nickname":"  "}`,
			header: map[string]string{"Accept-Language": "zh-CN"}, want: 400,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				// Ana reads English (her profile's language), whatever her browser asks for.
				if got := errorOf(t, w); got.Message != "invalid fields: nickname (required)" || got.Fields["nickname"] != "required" {
					t.Errorf("error = %+v, want the English message", got)
				}
			}},
		{name: "error in the browser's language", method: "PATCH", path: "/api/user/info", user: "{cleo}", body: `{"nickname":"  "}`,
			header: map[string]string{"Accept-Language": "zh-CN,en;q=0.5"}, want: 400,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if got := errorOf(t, w); got.Message != "请求有误：nickname（必填）。" || got.Code != fault.CodeInvalidArgument {
					t.Errorf("error = %+v, want the Chinese message", got)
				}
			}},
		{name: "patch language lower case", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"language":"zh-cn"}`, want: 400, check: wantField("language")},
		{name: "patch language other", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"language":"fr"}`, want: 400, check: wantField("language")},
		{name: "patch language empty", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"language":""}`, want: 400, check: wantField("language")},
		{name: "patch language bare zh", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"language":"zh"}`, want: 400, check: wantField("language")},
		{name: "patch language not a string", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"language":1}`, want: 400, check: wantField("language")},
		{name: "patch empty object", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{}`, want: 200},
		{name: "patch null leaves the field", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"nickname":null}`, want: 200,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if got := decode[profile.Info](t, w).Nickname; got != "Ana" {
					t.Errorf("nickname = %q, want Ana", got)
				}
			}},
		{name: "patch malformed JSON", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"nickname":`, want: 400, check: wantField("body")},
		{name: "patch not an object", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `[1]`, want: 400, check: wantField("body")},
		{name: "patch wrong type", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"discoverable":"yes"}`, want: 400, check: wantField("discoverable")},
		{name: "patch unknown field", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"email":"a@b.c"}`, want: 400, check: wantField("email")},
		{name: "patch read-only field", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"id":"01HZZZZZZZZZZZZZZZZZZZZZZZ"}`, want: 400, check: wantField("id")},
		{name: "patch empty nickname", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"nickname":"  "}`, want: 400, check: wantField("nickname")},
		{name: "patch long nickname", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"nickname":"` + strings.Repeat("n", 65) + `"}`, want: 400, check: wantField("nickname")},
		{name: "patch long bio", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"bio":"` + strings.Repeat("b", 1001) + `"}`, want: 400, check: wantField("bio")},
		{name: "patch http avatar", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"avatar":"http://example.com/a.png"}`, want: 400, check: wantField("avatar")},
		{name: "patch hot-linked avatar", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"avatar":"https://example.com/a.png"}`, want: 400, check: wantField("avatar")},
		{name: "patch another's picture", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"avatar":"/media/avatars/{ben}/a.png"}`, want: 400, check: wantField("avatar")},
		{name: "patch many faults", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"nickname":"","avatar":"ftp://x"}`, want: 400,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if got := errorOf(t, w).Fields; got["nickname"] == "" || got["avatar"] == "" {
					t.Errorf("fields = %v, want nickname and avatar", got)
				}
				if u := e.user(t, e.ana); u.Nickname != "Ana" {
					t.Errorf("stored nickname %q changed by a refused patch", u.Nickname)
				}
			}},
		{name: "patch invalid UTF-8", method: "PATCH", path: "/api/user/info", user: "{ana}", body: "{\"nickname\":\"\xff\"}", want: 400, check: wantField("body")},
		{name: "patch escaped control character", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"nickname":"a\u0000b"}`, want: 400, check: wantField("nickname")},
		{name: "patch oversized body", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"bio":"` + strings.Repeat("b", api.MaxBody) + `"}`, want: 413, check: wantCode(fault.CodePayloadTooLarge)},
		{name: "patch without JSON content type", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{}`, header: map[string]string{"Content-Type": "text/plain"}, want: 415, check: wantCode(fault.CodeUnsupportedMediaType)},
		{name: "patch anonymous", method: "PATCH", path: "/api/user/info", body: `{"nickname":"X"}`, want: 401, check: wantCode(fault.CodeUnauthenticated)},
		{name: "patch cross-site", method: "PATCH", path: "/api/user/info", user: "{ana}", body: `{"nickname":"X"}`, header: map[string]string{"Origin": "https://evil.example"}, want: 403, check: wantCode(fault.CodePermissionDenied)},

		// Own shades.
		{name: "shades", method: "GET", path: "/api/user/shades", user: "{ana}", want: 200, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			got := decode[struct{ Shades []profile.Shade }](t, w).Shades
			if len(got) != 2 || got[0].Public == nil || got[0].Public.Name != "Climber" || got[1].Public != nil || got[1].Content != "PRIVATE-ONLY content" {
				t.Errorf("shades = %+v", got)
			}
			if !strings.Contains(w.Body.String(), `"public":null`) {
				t.Errorf("a private shade does not show public null: %s", w.Body)
			}
		}},
		{name: "shades of a person without any", method: "GET", path: "/api/user/shades", user: "{ben}", want: 200, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			if got := strings.TrimSpace(w.Body.String()); got != `{"shades":[]}` {
				t.Errorf("body = %s, want an empty list", got)
			}
		}},
		{name: "shades anonymous", method: "GET", path: "/api/user/shades", want: 401, check: wantCode(fault.CodeUnauthenticated)},
		{name: "put shades", method: "PUT", path: "/api/user/shades", user: "{ana}",
			body: `{"shades":[{"name":"Chess","confidence":"VERY_HIGH","topics":["chess"," openings "],"public":{"name":"Board games","description":"Plays a little.","content":"","topics":["games"]}},{"name":"Secret garden","content":"Private.","public":null}]}`,
			want: 200, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				got := decode[struct{ Shades []profile.Shade }](t, w).Shades
				if len(got) != 2 || !id.Valid(got[0].ID) || !id.Valid(got[1].ID) || got[0].Topics[1] != "openings" || got[1].Public != nil || got[1].Confidence != "MEDIUM" {
					t.Errorf("shades = %+v", got)
				}
				u := e.user(t, e.ana)
				if len(u.Shades) != 2 || u.Shades[0].Name != "Chess" || u.ProfileVersion != 2 {
					t.Errorf("stored shades %+v version %d", u.Shades, u.ProfileVersion)
				}
				if got := e.rematch.called(); len(got) != 1 || got[0] != e.ana {
					t.Errorf("rematch calls = %v, want [ana]", got)
				}
			}},
		{name: "put shades keeps ids", setup: func(t *testing.T, e *env) {}, method: "PUT", path: "/api/user/shades", user: "{ana}",
			body: `{"shades":[{"id":"01HZZZZZZZZZZZZZZZZZZZZZZZ","name":"Kept"}]}`, want: 200,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if got := e.user(t, e.ana).Shades; len(got) != 1 || got[0].ID != "01HZZZZZZZZZZZZZZZZZZZZZZZ" {
					t.Errorf("stored shades %+v", got)
				}
			}},
		{name: "put empty list clears", method: "PUT", path: "/api/user/shades", user: "{ana}", body: `{"shades":[]}`, want: 200,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if got := e.user(t, e.ana).Shades; len(got) != 0 {
					t.Errorf("stored shades %+v, want none", got)
				}
			}},
		{name: "put shades while rematch fails", setup: func(t *testing.T, e *env) { e.rematch.err = errors.New("queue full") },
			method: "PUT", path: "/api/user/shades", user: "{ana}", body: `{"shades":[{"name":"x"}]}`, want: 200,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if !strings.Contains(e.logs.String(), "queue full") {
					t.Errorf("the rematch failure is not logged: %s", e.logs)
				}
			}},
		{name: "put shades missing", method: "PUT", path: "/api/user/shades", user: "{ana}", body: `{}`, want: 400, check: wantField("shades")},
		{name: "put shades null", method: "PUT", path: "/api/user/shades", user: "{ana}", body: `{"shades":null}`, want: 400, check: wantField("shades")},
		{name: "put shades not a list", method: "PUT", path: "/api/user/shades", user: "{ana}", body: `{"shades":{}}`, want: 400, check: wantField("shades")},
		{name: "put shades wrong type", method: "PUT", path: "/api/user/shades", user: "{ana}", body: `{"shades":[{"name":"x","topics":"chess"}]}`, want: 400, check: wantField("shades.topics")},
		{name: "put shades unknown field", method: "PUT", path: "/api/user/shades", user: "{ana}", body: `{"shades":[{"name":"x","shadeName":"y"}]}`, want: 400, check: wantField("shadeName")},
		{name: "put shades fourth unnamed", method: "PUT", path: "/api/user/shades", user: "{ana}",
			body: `{"shades":[{"name":"a"},{"name":"b"},{"name":"c"},{"name":""}]}`, want: 400,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				wantField("shades[3].name")(t, e, w)
				if got := e.user(t, e.ana); len(got.Shades) != 2 || got.ProfileVersion != 1 {
					t.Errorf("stored shades changed by a refused edit")
				}
			}},
		{name: "put too many shades", method: "PUT", path: "/api/user/shades", user: "{ana}", body: shadesJSON(51), want: 400, check: wantField("shades")},
		{name: "put fifty shades", method: "PUT", path: "/api/user/shades", user: "{ana}", body: shadesJSON(50), want: 200},
		{name: "put shade bad confidence", method: "PUT", path: "/api/user/shades", user: "{ana}", body: `{"shades":[{"name":"a","confidence":"SURE"}]}`, want: 400, check: wantField("shades[0].confidence")},
		{name: "put shade bad id", method: "PUT", path: "/api/user/shades", user: "{ana}", body: `{"shades":[{"id":"1","name":"a"}]}`, want: 400, check: wantField("shades[0].id")},
		{name: "put shade long public content", method: "PUT", path: "/api/user/shades", user: "{ana}", body: `{"shades":[{"name":"a","public":{"content":"` + strings.Repeat("c", 2001) + `"}}]}`, want: 400, check: wantField("shades[0].public.content")},
		{name: "put shades anonymous", method: "PUT", path: "/api/user/shades", body: `{"shades":[]}`, want: 401, check: wantCode(fault.CodeUnauthenticated)},

		// Sync.
		{name: "sync", method: "POST", path: "/api/user/sync", user: "{ana}", want: 200, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			if got := decode[profile.Info](t, w).Bio; got != "Synced from SecondMe" {
				t.Errorf("bio = %q, want the synced one", got)
			}
			if got := e.rematch.called(); len(got) != 1 || got[0] != e.ana {
				t.Errorf("rematch calls = %v, want [ana]", got)
			}
		}},
		{name: "sync without SecondMe", setup: func(t *testing.T, e *env) {
			e.sync.err = fault.Errorf(fault.CodeConflict, "no SecondMe account linked")
		}, method: "POST", path: "/api/user/sync", user: "{ana}", want: 409, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			if got := errorOf(t, w); got.Message != "no SecondMe account linked" {
				t.Errorf("error = %+v", got)
			}
		}},
		{name: "sync failure", setup: func(t *testing.T, e *env) { e.sync.err = errors.New("secret cause") },
			method: "POST", path: "/api/user/sync", user: "{ana}", want: 500, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if got := errorOf(t, w); got.Message != "internal error" || strings.Contains(w.Body.String(), "secret") {
					t.Errorf("body = %s", w.Body)
				}
			}},
		{name: "sync anonymous", method: "POST", path: "/api/user/sync", want: 401, check: wantCode(fault.CodeUnauthenticated)},

		// Export and erase.
		{name: "export anonymous", method: "GET", path: "/api/user/export", want: 401, check: wantCode(fault.CodeUnauthenticated)},
		{name: "export of an erased person", method: "GET", path: "/api/user/export", user: "{unknown}", want: 404, check: wantCode(fault.CodeNotFound)},
		{name: "delete", method: "DELETE", path: "/api/user", user: "{ana}", want: 204, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			if got, want := w.Header().Get("Set-Cookie"), "sm_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"; got != want {
				t.Errorf("Set-Cookie = %q, want %q", got, want)
			}
			if _, err := e.st.GetUser(context.Background(), e.ana); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetUser after erase: %v, want ErrNotFound", err)
			}
			e.user(t, e.ben) // others stay
		}},
		{name: "delete on local plain http", method: "DELETE", path: "http://127.0.0.1:8080/api/user", user: "{ana}", header: map[string]string{"Sec-Fetch-Site": "same-origin"}, want: 204,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if got, want := w.Header().Get("Set-Cookie"), "sm_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"; got != want {
					t.Errorf("Set-Cookie = %q, want %q", got, want)
				}
			}},
		{name: "delete behind API Gateway", method: "DELETE", path: "http://127.0.0.1/api/user", user: "{ana}", header: map[string]string{"Sec-Fetch-Site": "same-origin", "X-Forwarded-Proto": "https"}, want: 204,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
				if got := w.Header().Get("Set-Cookie"); !strings.Contains(got, "; Secure") {
					t.Errorf("Set-Cookie = %q, want Secure", got)
				}
			}},
		{name: "delete anonymous", method: "DELETE", path: "/api/user", want: 401, check: wantCode(fault.CodeUnauthenticated)},
		{name: "delete cross-site", method: "DELETE", path: "/api/user", user: "{ana}", header: map[string]string{"Origin": "https://evil.example"}, want: 403,
			check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) { e.user(t, e.ana) }},

		// Public profiles.
		{name: "public profile anonymous", method: "GET", path: "/api/users/{ana}", want: 200, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			got := decode[profile.PublicProfile](t, w)
			if got.ID != e.ana || got.Nickname != "Ana" || !got.AllowTwinChat || len(got.Shades) != 1 || got.Shades[0].Name != "Climber" {
				t.Errorf("public profile = %+v", got)
			}
			if strings.Contains(w.Body.String(), "PRIVATE") {
				t.Errorf("public profile shows private data: %s", w.Body)
			}
		}},
		{name: "public profile signed in", method: "GET", path: "/api/users/{ana}", user: "{ben}", want: 200},
		{name: "public profile unknown", method: "GET", path: "/api/users/{unknown}", want: 404, check: wantCode(fault.CodeNotFound)},
		{name: "public profile malformed id", method: "GET", path: "/api/users/not-an-id", want: 400, check: wantField("id")},
		{name: "public profile lower-case id", method: "GET", path: "/api/users/01hzzzzzzzzzzzzzzzzzzzzzzz", want: 400, check: wantField("id")},
		{name: "public profile hidden", method: "GET", path: "/api/users/{cleo}", user: "{ben}", want: 404, check: wantCode(fault.CodeNotFound)},
		{name: "public profile hidden anonymous", method: "GET", path: "/api/users/{cleo}", want: 404, check: wantCode(fault.CodeNotFound)},
		{name: "own public view while hidden", method: "GET", path: "/api/users/{cleo}", user: "{cleo}", want: 200},
		{name: "public profile blocked by its owner", setup: block("ana", "ben"), method: "GET", path: "/api/users/{ana}", user: "{ben}", want: 404, check: wantCode(fault.CodeNotFound)},
		{name: "public profile of someone blocked", setup: block("ana", "ben"), method: "GET", path: "/api/users/{ben}", user: "{ana}", want: 404, check: wantCode(fault.CodeNotFound)},
		{name: "public profile wrong method", method: "PUT", path: "/api/users/{ana}", user: "{ana}", body: `{}`, want: 405, check: wantCode(fault.CodeMethodNotAllowed)},

		// Blocks.
		{name: "block", setup: func(t *testing.T, e *env) {
			a, b := min(e.ana, e.ben), max(e.ana, e.ben)
			if err := e.st.PutMatch(context.Background(), store.Match{A: a, B: b, Score: 80, ComputedAt: now}); err != nil {
				t.Fatal(err)
			}
		}, method: "POST", path: "/api/users/{ben}/block", user: "{ana}", want: 204, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			ctx := context.Background()
			if blocked, err := e.st.Blocked(ctx, e.ben, e.ana); err != nil || !blocked {
				t.Errorf("Blocked = %v, %v; want true", blocked, err)
			}
			if _, err := e.st.GetMatch(ctx, e.ana, e.ben); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetMatch after block: %v, want ErrNotFound", err)
			}
		}},
		{name: "block twice", setup: block("ana", "ben"), method: "POST", path: "/api/users/{ben}/block", user: "{ana}", want: 204},
		{name: "block a hidden person", method: "POST", path: "/api/users/{cleo}/block", user: "{ana}", want: 204, check: emptyBody},
		{name: "block yourself", method: "POST", path: "/api/users/{ana}/block", user: "{ana}", want: 400, check: wantField("id")},
		// No existence oracle: an unknown id answers as a hidden (private) person does.
		{name: "block unknown", method: "POST", path: "/api/users/{unknown}/block", user: "{ana}", want: 204, check: emptyBody},
		{name: "block malformed id", method: "POST", path: "/api/users/x/block", user: "{ana}", want: 400, check: wantField("id")},
		{name: "block anonymous", method: "POST", path: "/api/users/{ben}/block", want: 401, check: wantCode(fault.CodeUnauthenticated)},
		{name: "block cross-site", method: "POST", path: "/api/users/{ben}/block", user: "{ana}", header: map[string]string{"Origin": "https://evil.example"}, want: 403, check: wantCode(fault.CodePermissionDenied)},
		{name: "block wrong method", method: "GET", path: "/api/users/{ben}/block", user: "{ana}", want: 405, check: wantCode(fault.CodeMethodNotAllowed)},
		{name: "unblock", setup: block("ana", "ben"), method: "DELETE", path: "/api/users/{ben}/block", user: "{ana}", want: 204, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			if blocked, err := e.st.Blocked(context.Background(), e.ana, e.ben); err != nil || blocked {
				t.Errorf("Blocked = %v, %v; want false", blocked, err)
			}
			if got := e.rematch.called(); len(got) != 1 || got[0] != e.ana {
				t.Errorf("rematch calls = %v, want [ana]", got)
			}
		}},
		{name: "unblock someone else's block", setup: block("ben", "ana"), method: "DELETE", path: "/api/users/{ben}/block", user: "{ana}", want: 204, check: func(t *testing.T, e *env, w *httptest.ResponseRecorder) {
			if blocked, _ := e.st.Blocked(context.Background(), e.ana, e.ben); !blocked {
				t.Error("Ana lifted Ben's block")
			}
		}},
		{name: "unblock never blocked", method: "DELETE", path: "/api/users/{ben}/block", user: "{ana}", want: 204},
		{name: "unblock unknown", method: "DELETE", path: "/api/users/{unknown}/block", user: "{ana}", want: 204, check: emptyBody},
		{name: "unblock a hidden person", method: "DELETE", path: "/api/users/{cleo}/block", user: "{ana}", want: 204, check: emptyBody},
		{name: "unblock yourself", method: "DELETE", path: "/api/users/{ana}/block", user: "{ana}", want: 400, check: wantField("id")},

		// Routing.
		{name: "unknown route", method: "GET", path: "/api/nope", want: 404, check: wantCode(fault.CodeNotFound)},
		{name: "unknown route under users", method: "GET", path: "/api/users/{ana}/secrets", want: 404, check: wantCode(fault.CodeNotFound)},
		{name: "wrong method on user", method: "GET", path: "/api/user", user: "{ana}", want: 405, check: wantCode(fault.CodeMethodNotAllowed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			r := apitest.Request(tt.method, e.expand(tt.path), e.expand(tt.user), e.expand(tt.body))
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.want, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); w.Code != 204 && !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", ct)
			}
			if tt.check != nil {
				tt.check(t, e, w)
			}
		})
	}
}

// emptyBody checks that an answer has no body, so that answers of one status cannot differ.
func emptyBody(t *testing.T, _ *env, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Body.Len() != 0 {
		t.Errorf("body %q, want none", w.Body.String())
	}
}

// block returns a setup step in which the first person blocks the second.
func block(blocker, blocked string) func(t *testing.T, e *env) {
	return func(t *testing.T, e *env) {
		t.Helper()
		ids := map[string]string{"ana": e.ana, "ben": e.ben, "cleo": e.cleo}
		if err := e.st.PutBlock(context.Background(), store.Block{BlockerID: ids[blocker], BlockedID: ids[blocked], CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
}
