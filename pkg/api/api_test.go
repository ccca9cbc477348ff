package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/apitest"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/requestid"
)

type body struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType string
		body        string
		wantCode    string
		wantField   string
	}{
		{"valid", "application/json", `{"name":"a","count":1}`, "", ""},
		{"valid with charset", "application/json; charset=utf-8", `{"name":"a"}`, "", ""},
		{"no content type", "", `{"name":"a"}`, fault.CodeUnsupportedMediaType, ""},
		{"form content type", "application/x-www-form-urlencoded", `name=a`, fault.CodeUnsupportedMediaType, ""},
		{"malformed", "application/json", `{"name":`, fault.CodeInvalidArgument, "body"},
		{"wrong type", "application/json", `{"count":"three"}`, fault.CodeInvalidArgument, "count"},
		{"wrong element type", "application/json", `{"tags":[1]}`, fault.CodeInvalidArgument, "tags"},
		{"unknown field", "application/json", `{"nmae":"a"}`, fault.CodeInvalidArgument, "nmae"},
		{"trailing data", "application/json", `{"name":"a"} {}`, fault.CodeInvalidArgument, "body"},
		{"empty", "application/json", ``, fault.CodeInvalidArgument, "body"},
		{"not an object", "application/json", `[1,2]`, fault.CodeInvalidArgument, "body"},
		{"invalid utf-8", "application/json", "{\"name\":\"\xff\xfe\"}", fault.CodeInvalidArgument, "body"},
		{"oversized", "application/json", `{"name":"` + strings.Repeat("a", api.MaxBody) + `"}`, fault.CodePayloadTooLarge, ""},
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
			if e := api.FromError(err); api.Status(e) != http.StatusBadRequest {
				t.Fatalf("status %d for %q, want 400", api.Status(e), b)
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
	t.Parallel()
	rt := api.NewRouter()
	rt.HandleFunc("GET /api/health", api.Health)
	rt.HandleFunc("GET /api/things/{id}", func(w http.ResponseWriter, r *http.Request) error {
		return fault.NotFound("thing")
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
	mw := api.Middleware{Edge: api.Edge{PublicURL: apitest.Origin}, Exempt: []string{"/api/hook"}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	h := mw.Wrap(rt)

	tests := []struct {
		name     string
		req      *http.Request
		want     int
		wantCode string
	}{
		{"health", apitest.Request("GET", "/api/health", "", ""), 200, ""},
		{"unknown route", apitest.Request("GET", "/api/nope", "", ""), 404, fault.CodeNotFound},
		{"wrong method", apitest.Request("DELETE", "/api/health", "", ""), 405, fault.CodeMethodNotAllowed},
		{"handler not found", apitest.Request("GET", "/api/things/1", "", ""), 404, fault.CodeNotFound},
		{"created", apitest.Request("POST", "/api/things", "", `{"name":"x"}`), 201, ""},
		{"bad body", apitest.Request("POST", "/api/things", "", `{"name":1}`), 400, fault.CodeInvalidArgument},
		{"panic", apitest.Request("GET", "/api/panic", "", ""), 500, fault.CodeInternal},
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
			if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff on a JSON response", got)
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
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	const public = "https://twin.example"
	tests := []struct {
		name    string
		public  string
		method  string
		target  string
		headers map[string]string
		want    int
	}{
		{"get passes", public, "GET", "https://twin.example/x", nil, 204},
		{"get passes without a public origin", "", "GET", "https://twin.example/x", nil, 204},
		{"post from the public origin", public, "POST", "https://twin.example/x", map[string]string{"Origin": "https://twin.example"}, 204},
		{"origin with the default port", public, "POST", "https://twin.example/x", map[string]string{"Origin": "https://twin.example:443"}, 204},
		{"origin in capitals", public, "PUT", "https://twin.example/x", map[string]string{"Origin": "HTTPS://Twin.Example"}, 204},
		{"public origin with a port", "http://127.0.0.1:8080", "POST", "http://127.0.0.1:8080/x", map[string]string{"Origin": "http://127.0.0.1:8080"}, 204},
		{"post fetch metadata", public, "POST", "https://twin.example/x", map[string]string{"Sec-Fetch-Site": "same-origin"}, 204},
		{"same host, other scheme", public, "POST", "https://twin.example/x", map[string]string{"Origin": "http://twin.example"}, 403},
		{"same host, other port", public, "POST", "https://twin.example/x", map[string]string{"Origin": "https://twin.example:8443"}, 403},
		{"origin is the request's host, not the public origin", public, "POST", "https://api.internal/x", map[string]string{"Origin": "https://api.internal"}, 403},
		{"forged forwarded host", public, "POST", "https://twin.example/x", map[string]string{"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example"}, 403},
		{"forwarded host and host both forged", public, "DELETE", "https://evil.example/x", map[string]string{"Origin": "https://evil.example", "X-Forwarded-Host": "evil.example"}, 403},
		{"post cross site", public, "POST", "https://twin.example/x", map[string]string{"Origin": "https://evil.example"}, 403},
		{"sibling subdomain", public, "POST", "https://twin.example/x", map[string]string{"Origin": "https://evil.twin.example"}, 403},
		{"same-site refused", public, "POST", "https://twin.example/x", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://twin.example"}, 403},
		{"cross-site metadata wins", public, "POST", "https://twin.example/x", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://twin.example"}, 403},
		{"post no origin", public, "POST", "https://twin.example/x", nil, 403},
		{"post null origin", public, "DELETE", "https://twin.example/x", map[string]string{"Origin": "null"}, 403},
		{"origin with a path", public, "POST", "https://twin.example/x", map[string]string{"Origin": "https://twin.example/x"}, 403},
		{"no public origin: fetch metadata refused", "", "POST", "https://twin.example/x", map[string]string{"Sec-Fetch-Site": "same-origin"}, 403},
		{"no public origin: own origin refused", "", "PATCH", "https://twin.example/x", map[string]string{"Origin": "https://twin.example"}, 403},
		{"exempt webhook", public, "POST", "https://twin.example/api/hook", nil, 204},
		{"exempt webhook without a public origin", "", "POST", "https://twin.example/api/hook", nil, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w, eb := serve(t, api.SameOrigin(ok, tt.public, "/api/hook"), r)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d", w.Code, tt.want)
			}
			if tt.want == 403 && eb.Error.Code != fault.CodePermissionDenied {
				t.Errorf("code = %q, want %q", eb.Error.Code, fault.CodePermissionDenied)
			}
		})
	}
}

func TestEdgeSecret(t *testing.T) {
	t.Parallel()
	const secret = "edge-secret-0123456789"
	var seen []string // the X-Origin-Verify values the handler saw
	rt := api.NewRouter()
	for _, pattern := range []string{"GET /api/health", "POST /api/hook", "POST /api/things"} {
		rt.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) error {
			seen = append(seen, r.Header.Get(api.OriginVerifyHeader))
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
	}
	tests := []struct {
		name   string
		secret string
		method string
		path   string
		verify []string // X-Origin-Verify values sent
		want   int
	}{
		{"right secret", secret, "GET", "/api/health", []string{secret}, 204},
		{"right secret, unsafe method", secret, "POST", "/api/things", []string{secret}, 204},
		{"right secret, webhook", secret, "POST", "/api/hook", []string{secret}, 204},
		{"no header", secret, "GET", "/api/health", nil, 403},
		{"no header, webhook", secret, "POST", "/api/hook", nil, 403},
		{"no header, unknown route", secret, "GET", "/api/nope", nil, 403},
		{"wrong secret", secret, "GET", "/api/health", []string{"edge-secret-0123456788"}, 403},
		{"prefix of the secret", secret, "GET", "/api/health", []string{secret[:10]}, 403},
		{"secret with more", secret, "GET", "/api/health", []string{secret + "x"}, 403},
		{"empty value", secret, "GET", "/api/health", []string{""}, 403},
		{"twice, once right", secret, "GET", "/api/health", []string{"wrong", secret}, 403},
		{"no edge configured", "", "GET", "/api/health", nil, 204},
		{"no edge configured, header passed on as sent", "", "GET", "/api/health", []string{"anything"}, 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			h := api.Wrap(rt, api.Edge{PublicURL: apitest.Origin, Secret: tt.secret}, "/api/hook")
			r := apitest.Request(tt.method, tt.path, "", "")
			for _, v := range tt.verify {
				r.Header.Add(api.OriginVerifyHeader, v)
			}
			w, eb := serve(t, h, r)
			if w.Code != tt.want {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.want, w.Body)
			}
			if tt.want == 403 {
				if eb.Error.Code != fault.CodePermissionDenied {
					t.Errorf("code = %q, want %q", eb.Error.Code, fault.CodePermissionDenied)
				}
				if len(seen) != 0 {
					t.Errorf("the handler ran for a refused request")
				}
				return
			}
			if len(seen) != 1 {
				t.Fatalf("handler ran %d times, want 1", len(seen))
			}
			if tt.secret != "" && seen[0] != "" {
				t.Errorf("the handler saw X-Origin-Verify %q; it must be removed", seen[0])
			}
		})
	}
}

func TestCanceledRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		cancel     bool   // the client went away before the handler returned
		wantStatus int    // in the access log and on the response
		wantLevel  string // the level of the failure's own log line
	}{
		{"client gone, context error", context.Canceled, true, api.StatusClientClosed, "INFO"},
		{"client gone, wrapped store error", fmt.Errorf("query: %w", context.Canceled), true, api.StatusClientClosed, "INFO"},
		{"client gone, another failure", errors.New("connection reset"), true, api.StatusClientClosed, "INFO"},
		{"client gone, a client error stays", fault.Invalid("name", "required"), true, api.StatusClientClosed, ""},
		{"client here, canceled internally is a fault", context.Canceled, false, 500, "ERROR"},
		{"client here, internal error", errors.New("boom"), false, 500, "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			mw := api.Middleware{Edge: api.Edge{PublicURL: apitest.Origin}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rt := api.NewRouter()
			rt.HandleFunc("GET /api/slow", func(w http.ResponseWriter, r *http.Request) error {
				if tt.cancel {
					cancel()
				}
				return tt.err
			})
			w := httptest.NewRecorder()
			mw.Wrap(rt).ServeHTTP(w, apitest.Request("GET", "/api/slow", "", "").WithContext(ctx))
			if w.Code != tt.wantStatus && !(tt.wantLevel == "" && w.Code == 400) {
				t.Errorf("response status = %d, want %d", w.Code, tt.wantStatus)
			}
			var access map[string]any
			levels := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				if rec["path"] == "/api/slow" && rec["bytes"] != nil {
					access = rec
				} else {
					levels[fmt.Sprint(rec["level"])] = true
				}
			}
			if access == nil {
				t.Fatalf("no access log line in %s", logs.String())
			}
			if got := int(access["status"].(float64)); got != tt.wantStatus {
				t.Errorf("access log status = %d, want %d (%v)", got, tt.wantStatus, access)
			}
			if tt.cancel && access["msg"] != "request canceled" {
				t.Errorf("access log message = %q, want \"request canceled\"", access["msg"])
			}
			if levels["ERROR"] != (tt.wantLevel == "ERROR") {
				t.Errorf("ERROR logged = %v, want %v:\n%s", levels["ERROR"], tt.wantLevel == "ERROR", logs.String())
			}
			if tt.wantLevel != "" && !levels[tt.wantLevel] {
				t.Errorf("no %s line for the failure:\n%s", tt.wantLevel, logs.String())
			}
		})
	}
}

func TestRequireUser(t *testing.T) {
	t.Parallel()
	h := api.RequireUser(apitest.HeaderAuth{}, func(w http.ResponseWriter, r *http.Request) error {
		api.WriteJSON(w, 200, map[string]string{"user": api.UserID(r.Context())})
		return nil
	})
	w, eb := serve(t, h, apitest.Request("GET", "/", "", ""))
	if w.Code != 401 || eb.Error.Code != fault.CodeUnauthenticated {
		t.Errorf("anonymous: status %d code %q, want 401 unauthenticated", w.Code, eb.Error.Code)
	}
	w, _ = serve(t, h, apitest.Request("GET", "/", "u1", ""))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"u1"`) {
		t.Errorf("signed in: status %d body %s, want 200 naming u1", w.Code, w.Body)
	}
}

// TestRequestIDInLogs checks that the access log and the lines a route logs through api.Logger carry
// the request's id as request_id, the same id the X-Request-Id header gives: the gateway's when the
// request came with one, else a new one per request.
func TestRequestIDInLogs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		gateway string // the id the gateway gave, "" for none
	}{
		{"the gateway's id", "Ab1Cd2Ef3Gh4="},
		{"no gateway: a new id", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			rt := api.NewRouter()
			rt.HandleFunc("GET /api/thing", func(w http.ResponseWriter, r *http.Request) error {
				api.Logger(r.Context()).InfoContext(r.Context(), "route line")
				return fault.Invalid("name", "required")
			})
			mw := api.Middleware{Edge: api.Edge{PublicURL: apitest.Origin}, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			req := apitest.Request("GET", "/api/thing", "", "")
			if tt.gateway != "" {
				req = req.WithContext(requestid.With(req.Context(), tt.gateway))
			}
			w := httptest.NewRecorder()
			mw.Wrap(rt).ServeHTTP(w, req)
			rid := w.Header().Get("X-Request-Id")
			if rid == "" || (tt.gateway != "" && rid != tt.gateway) {
				t.Fatalf("X-Request-Id = %q, want %q (or a new id when empty)", rid, tt.gateway)
			}
			msgs := map[string]bool{}
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				msgs[fmt.Sprint(rec["msg"])] = true
				if rec["request_id"] != rid {
					t.Errorf("log line %q: request_id = %v, want %s", rec["msg"], rec["request_id"], rid)
				}
			}
			if !msgs["route line"] || !msgs["request"] {
				t.Errorf("want the route's line and the access line, got %s", logs.String())
			}
		})
	}
}
