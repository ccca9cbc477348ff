package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/apitest"
)

type body struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		wantCode    string
		wantField   string
	}{
		{"valid", "application/json", `{"name":"a","count":1}`, "", ""},
		{"valid with charset", "application/json; charset=utf-8", `{"name":"a"}`, "", ""},
		{"no content type", "", `{"name":"a"}`, api.CodeUnsupportedMediaType, ""},
		{"form content type", "application/x-www-form-urlencoded", `name=a`, api.CodeUnsupportedMediaType, ""},
		{"malformed", "application/json", `{"name":`, api.CodeInvalidArgument, "body"},
		{"wrong type", "application/json", `{"count":"three"}`, api.CodeInvalidArgument, "count"},
		{"wrong element type", "application/json", `{"tags":[1]}`, api.CodeInvalidArgument, "tags"},
		{"unknown field", "application/json", `{"nmae":"a"}`, api.CodeInvalidArgument, "nmae"},
		{"trailing data", "application/json", `{"name":"a"} {}`, api.CodeInvalidArgument, "body"},
		{"empty", "application/json", ``, api.CodeInvalidArgument, "body"},
		{"not an object", "application/json", `[1,2]`, api.CodeInvalidArgument, "body"},
		{"invalid utf-8", "application/json", "{\"name\":\"\xff\xfe\"}", api.CodeInvalidArgument, "body"},
		{"oversized", "application/json", `{"name":"` + strings.Repeat("a", api.MaxBody) + `"}`, api.CodePayloadTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			var v body
			err := api.Decode(r, &v)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Decode = %v, want nil", err)
				}
				return
			}
			e := api.FromError(err)
			if e.Code != tt.wantCode {
				t.Fatalf("code = %q (%v), want %q", e.Code, err, tt.wantCode)
			}
			if tt.wantField != "" && e.Fields[tt.wantField] == "" {
				t.Errorf("fields = %v, want one naming %q", e.Fields, tt.wantField)
			}
		})
	}
}

func FuzzDecodeBytes(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1,"tags":["x"]}`, `{"count":1e400}`, `[]`, `{"tags":null}`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v body
		err := api.DecodeBytes(b, &v)
		if err != nil {
			if e := api.FromError(err); e.HTTPStatus() != http.StatusBadRequest {
				t.Fatalf("status %d for %q, want 400", e.HTTPStatus(), b)
			}
		}
	})
}

type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

func serve(tb testing.TB, h http.Handler, r *http.Request) (*httptest.ResponseRecorder, errorBody) {
	tb.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var eb errorBody
	if w.Code >= 400 {
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			tb.Fatalf("error Content-Type = %q, want JSON", ct)
		}
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
			tb.Fatalf("error body %q: %v", w.Body, err)
		}
	}
	return w, eb
}

func TestRouter(t *testing.T) {
	rt := api.NewRouter()
	rt.HandleFunc("GET /api/health", api.Health)
	rt.HandleFunc("GET /api/things/{id}", func(w http.ResponseWriter, r *http.Request) error {
		return api.NotFound("thing")
	})
	rt.HandleFunc("POST /api/things", func(w http.ResponseWriter, r *http.Request) error {
		var v body
		if err := api.Decode(r, &v); err != nil {
			return err
		}
		api.WriteJSON(w, http.StatusCreated, v)
		return nil
	})
	rt.HandleFunc("GET /api/panic", func(w http.ResponseWriter, r *http.Request) error {
		panic("boom: the cause")
	})
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	h := api.Wrap(rt, "/api/hook")

	tests := []struct {
		name     string
		req      *http.Request
		want     int
		wantCode string
	}{
		{"health", apitest.Request("GET", "/api/health", "", ""), 200, ""},
		{"unknown route", apitest.Request("GET", "/api/nope", "", ""), 404, api.CodeNotFound},
		{"wrong method", apitest.Request("DELETE", "/api/health", "", ""), 405, api.CodeMethodNotAllowed},
		{"handler not found", apitest.Request("GET", "/api/things/1", "", ""), 404, api.CodeNotFound},
		{"created", apitest.Request("POST", "/api/things", "", `{"name":"x"}`), 201, ""},
		{"bad body", apitest.Request("POST", "/api/things", "", `{"name":1}`), 400, api.CodeInvalidArgument},
		{"panic", apitest.Request("GET", "/api/panic", "", ""), 500, api.CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, eb := serve(t, h, tt.req)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
			if eb.Error.Code != tt.wantCode {
				t.Errorf("error code = %q, want %q", eb.Error.Code, tt.wantCode)
			}
			if w.Header().Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id header")
			}
		})
	}
	t.Run("panic message hides the cause and logs it", func(t *testing.T) {
		w, eb := serve(t, h, apitest.Request("GET", "/api/panic", "", ""))
		if eb.Error.Message != "internal error" || strings.Contains(w.Body.String(), "boom") {
			t.Errorf("body = %s, want message \"internal error\" without the cause", w.Body)
		}
		if !strings.Contains(logs.String(), "boom: the cause") {
			t.Errorf("log does not hold the cause: %s", logs.String())
		}
	})
	t.Run("wrong method names Allow", func(t *testing.T) {
		w, _ := serve(t, h, apitest.Request("PUT", "/api/things", "", ""))
		if w.Code != 405 || !strings.Contains(w.Header().Get("Allow"), "POST") {
			t.Errorf("status %d Allow %q, want 405 with POST", w.Code, w.Header().Get("Allow"))
		}
	})
}

func TestSameOrigin(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := api.SameOrigin(ok, "/api/hook")
	tests := []struct {
		name    string
		method  string
		path    string
		headers map[string]string
		want    int
	}{
		{"get passes", "GET", "/x", nil, 204},
		{"post same origin", "POST", "/x", map[string]string{"Origin": "http://example.com"}, 204},
		{"post fetch metadata", "POST", "/x", map[string]string{"Sec-Fetch-Site": "same-origin"}, 204},
		{"post cross site", "POST", "/x", map[string]string{"Origin": "https://evil.example"}, 403},
		{"post cross site metadata wins", "POST", "/x", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://example.com"}, 403},
		{"post no origin", "POST", "/x", nil, 403},
		{"post null origin", "DELETE", "/x", map[string]string{"Origin": "null"}, 403},
		{"exempt webhook", "POST", "/api/hook", nil, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://example.com"+tt.path, nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
		})
	}
}

func TestRequireUser(t *testing.T) {
	h := api.RequireUser(apitest.HeaderAuth{}, func(w http.ResponseWriter, r *http.Request) error {
		api.WriteJSON(w, 200, map[string]string{"user": api.UserID(r.Context())})
		return nil
	})
	w, eb := serve(t, h, apitest.Request("GET", "/", "", ""))
	if w.Code != 401 || eb.Error.Code != api.CodeUnauthenticated {
		t.Errorf("anonymous: status %d code %q, want 401 unauthenticated", w.Code, eb.Error.Code)
	}
	w, _ = serve(t, h, apitest.Request("GET", "/", "u1", ""))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"u1"`) {
		t.Errorf("signed in: status %d body %s, want 200 naming u1", w.Code, w.Body)
	}
}
