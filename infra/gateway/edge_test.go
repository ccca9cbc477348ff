package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestPathMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"/api/chat/stream", "/api/chat/stream", true},
		{"/api/chat/stream", "/api/chat/streams", false},
		{"/api/chat/stream", "/API/chat/stream", false},
		{"/assets/*", "/assets/app.js", true},
		{"/assets/*", "/assets/a/b/c.css", true},
		{"/assets/*", "/assets/", true},
		{"/assets/*", "/assets", false},
		{"assets/*", "/assets/x", true},
		{"/*.js", "/a/b.js", true},
		{"/v?/x", "/v1/x", true},
		{"/v?/x", "/v10/x", false},
		{"*", "/anything", true},
	} {
		if got := pathMatch(tc.pattern, tc.path); got != tc.want {
			t.Errorf("pathMatch(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

// recorded is what an origin received.
type recorded struct {
	origin string
	req    *http.Request
}

// projectEdge is the edge of template.yaml's distribution, with origins that record what they get
// and answer with some headers of their own.
func projectEdge(t *testing.T) (*edge, *Template, *recorded) {
	t.Helper()
	src, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := loadTemplate(src, projectInputs())
	if err != nil {
		t.Fatal(err)
	}
	if tm.Distribution == nil {
		t.Fatal("template.yaml has no distribution")
	}
	last := &recorded{}
	origin := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			*last = recorded{name, r}
			w.Header().Set("X-Frame-Options", "DENY")
			w.Header().Set("X-Content-Type-Options", "whatever")
			w.WriteHeader(http.StatusTeapot)
		})
	}
	handlers := map[string]http.Handler{}
	for _, a := range tm.APIs {
		handlers[a.Host()] = origin("api")
	}
	for _, f := range tm.Functions {
		if f.URL != nil {
			handlers[f.URL.Host] = origin(f.Name)
		}
	}
	e, err := newEdge(tm.Distribution, handlers)
	if err != nil {
		t.Fatal(err)
	}
	return e, tm, last
}

func TestEdgeRoutesAsTheDistribution(t *testing.T) {
	e, tm, last := projectEdge(t)
	apiHost := tm.APIs[0].Host()
	for _, tc := range []struct {
		method, target string
		status         int
		origin, host   string
		forwarded      bool // the viewer's cookies, query and headers reach the origin
	}{
		{"GET", "/?x=1", 418, "api", apiHost, true},
		{"GET", "/api/user/info?x=1", 418, "api", apiHost, true},
		{"POST", "/api/chat/stream?x=1", 418, "ChatStreamFunction", "chatstreamfunction.lambda-url.us-east-1.on.aws", true},
		{"GET", "/assets/app.123.js?x=1", 418, "api", apiHost, false},
		{"POST", "/assets/app.js", 403, "", "", false},
	} {
		*last = recorded{}
		r := httptest.NewRequest(tc.method, tc.target, nil)
		r.Host = "127.0.0.1:8080"
		r.Header.Set("Cookie", "sm_session=s")
		r.Header.Set("Origin", "http://127.0.0.1:8080")
		r.Header.Set("X-Origin-Verify", "forged")
		r.Header.Set("Accept-Encoding", "gzip, deflate, br")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, r)
		if rec.Code != tc.status || last.origin != tc.origin {
			t.Errorf("%s %s: %d to %q, want %d to %q", tc.method, tc.target, rec.Code, last.origin, tc.status, tc.origin)
			continue
		}
		if tc.origin == "" {
			continue
		}
		got := last.req
		if got.Host != tc.host || got.Header.Get("X-Origin-Verify") != "edge-secret" || len(got.Header.Values("X-Origin-Verify")) != 1 {
			t.Errorf("%s: host %q, X-Origin-Verify %q; want %q and the edge secret only", tc.target, got.Host, got.Header.Values("X-Origin-Verify"), tc.host)
		}
		fwd := got.Header.Get("Cookie") == "sm_session=s" && got.URL.RawQuery == "x=1" && got.Header.Get("Origin") != ""
		if tc.forwarded != fwd {
			t.Errorf("%s: cookie %q, query %q, origin %q; want the viewer's forwarded: %v", tc.target, got.Header.Get("Cookie"), got.URL.RawQuery, got.Header.Get("Origin"), tc.forwarded)
		}
		if !tc.forwarded && (got.Header.Get("User-Agent") != "Amazon CloudFront" || got.Header.Get("Accept-Encoding") != "br,gzip") {
			t.Errorf("%s: user agent %q, accept-encoding %q", tc.target, got.Header.Get("User-Agent"), got.Header.Get("Accept-Encoding"))
		}
		h := rec.Header()
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Strict-Transport-Security") == "" {
			t.Errorf("%s: response headers %v; want the security headers policy's (nosniff overriding, the origin's frame option kept)", tc.target, h)
		}
	}
}

func TestEdgeUnknownOrigin(t *testing.T) {
	d := &Distribution{Origins: map[string]*Origin{"Api": {ID: "Api", DomainName: "example.com"}}, Default: Behavior{TargetOrigin: "Api"}}
	if _, err := newEdge(d, map[string]http.Handler{}); err == nil || !strings.Contains(err.Error(), "Api") {
		t.Errorf("newEdge = %v, want an error naming the origin", err)
	}
}
