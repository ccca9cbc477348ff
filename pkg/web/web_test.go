package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/api"
)

func get(tb testing.TB, h *Handler, path string) *httptest.ResponseRecorder {
	tb.Helper()
	mux := http.NewServeMux()
	h.Register(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

func TestServe(t *testing.T) {
	t.Parallel()
	h := New()
	v := h.Version()
	tests := []struct {
		name      string
		path      string
		status    int
		cache     string
		typPrefix string
	}{
		{"page", "/", 200, "no-cache", "text/html"},
		{"script", "/assets/" + v + "/app.js", 200, "immutable", "text/javascript"},
		{"style", "/assets/" + v + "/style.css", 200, "immutable", "text/css"},
		{"font", "/assets/" + v + "/inter.woff2", 200, "immutable", "font/woff2"},
		{"old version", "/assets/000000000000/app.js", 404, "", ""},
		{"unknown file", "/assets/" + v + "/nope.js", 404, "", ""},
		{"page through assets", "/assets/" + v + "/index.html", 404, "", ""},
		{"404 page through assets", "/assets/" + v + "/404.zh-CN.html", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(t, h, tt.path)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d", w.Code, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if got := w.Header().Get("Cache-Control"); !strings.Contains(got, tt.cache) {
				t.Errorf("Cache-Control = %q, want it to contain %q", got, tt.cache)
			}
			if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, tt.typPrefix) {
				t.Errorf("Content-Type = %q, want %q", got, tt.typPrefix)
			}
			if got := w.Header().Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("CSP = %q, want %q", got, ContentSecurityPolicy)
			}
		})
	}
}

func TestPageNamesCurrentAssets(t *testing.T) {
	t.Parallel()
	h := New()
	body := get(t, h, "/").Body.String()
	if strings.Contains(body, "/assets/VERSION/") {
		t.Error("page still holds the VERSION placeholder")
	}
	for _, ref := range regexp.MustCompile(`/assets/[^"]+`).FindAllString(body, -1) {
		if w := get(t, h, ref); w.Code != 200 {
			t.Errorf("page links %s, which answers %d", ref, w.Code)
		}
	}
}

// TestNoInlineScriptOrHTMLSinks guards the client's two rules: no inline script (the CSP forbids it
// anyway) and no API that parses strings as HTML, so text from people and models stays text.
func TestNoInlineScriptOrHTMLSinks(t *testing.T) {
	t.Parallel()
	sinks := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|setAttribute\("style"`)
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]|\son[a-z]+=`)
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(static, p)
		switch {
		case strings.HasSuffix(p, ".js"):
			if m := sinks.Find(b); m != nil {
				t.Errorf("%s uses %s", p, m)
			}
		case strings.HasSuffix(p, ".html"):
			if m := inline.Find(b); m != nil {
				t.Errorf("%s has inline script: %s", p, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNotFoundPage checks that a router taking a page handler answers unknown pages with the HTML 404
// page, under the CSP, naming current assets, while unknown API paths keep their JSON error.
func TestNotFoundPage(t *testing.T) {
	t.Parallel()
	h := New()
	rt := api.NewRouter()
	h.Register(rt)
	tests := []struct {
		path, typ, accept, heading string
	}{
		{"/nope", "text/html", "", "<h1>This page does not exist</h1>"},
		{"/some/deep/page", "text/html", "en-GB,en;q=0.9", "<h1>This page does not exist</h1>"},
		{"/zh/page", "text/html", "zh-CN,zh;q=0.9,en;q=0.8", "<h1>页面不存在</h1>"},
		{"/zh/by-quality", "text/html", "en;q=0.5, zh-TW;q=0.8", "<h1>页面不存在</h1>"},
		{"/api/nope", "application/json", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			rt.ServeHTTP(w, r)
			if w.Code != http.StatusNotFound {
				t.Fatalf("status = %d, want 404", w.Code)
			}
			if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, tt.typ) {
				t.Fatalf("Content-Type = %q, want %s", got, tt.typ)
			}
			if tt.typ != "text/html" {
				return
			}
			if got := w.Header().Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("CSP = %q", got)
			}
			body := w.Body.String()
			if !strings.Contains(body, tt.heading) || strings.Contains(body, "/assets/VERSION/") {
				t.Errorf("page = %s, want the 404 page with versioned assets", body)
			}
			for _, ref := range regexp.MustCompile(`/assets/[^"]+`).FindAllString(body, -1) {
				if w := get(t, h, ref); w.Code != 200 {
					t.Errorf("the 404 page links %s, which answers %d", ref, w.Code)
				}
			}
		})
	}
}
