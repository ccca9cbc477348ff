package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestEveryTemplateRouteIsAnswered sends a request for every route template.yaml declares, through
// the public origin, and checks that the function the template sends it to serves it: no route 404
// or 405 from the function's own router (what a route the template has but the function lacks
// gets), and no 404 from the HTTP API (a route the distribution cannot reach). Requests are signed
// out, so each handler answers cheaply (401, or its own validation).
func TestEveryTemplateRouteIsAnswered(t *testing.T) {
	g, _ := startGateway(t)
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	type route struct{ fn, method, path string }
	var routes []route
	for _, p := range g.pools {
		for _, r := range p.fn.Routes {
			routes = append(routes, route{p.fn.Name, r.Method, r.Path})
		}
		if p.fn.URL != nil {
			routes = append(routes, route{p.fn.Name, "POST", "/api/chat/stream"})
		}
	}
	if len(routes) < 20 {
		t.Fatalf("only %d routes in template.yaml", len(routes))
	}
	// {proxy+} of /assets/ is an asset the page links.
	resp, err := client.Get(g.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, asset, _ := strings.Cut(string(page), `/assets/`)
	asset, _, _ = strings.Cut(asset, `"`)
	id := "01M8A4R3NT5QFY907RQCCRGGZW"
	fill := strings.NewReplacer("{id}", id, "{userId}", id, "{proxy+}", asset)
	for _, r := range routes {
		path := fill.Replace(r.path)
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			req, _ := http.NewRequest(r.method, g.url+path, strings.NewReader("{}"))
			req.Header.Set("Origin", g.url)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var e struct {
				Message string
				Error   struct{ Code, Message string }
			}
			_ = json.Unmarshal(b, &e)
			switch {
			case resp.StatusCode == http.StatusMethodNotAllowed,
				resp.StatusCode == http.StatusNotFound && strings.HasPrefix(e.Error.Message, "no route"):
				t.Errorf("%s does not serve %s %s: %d %s", r.fn, r.method, r.path, resp.StatusCode, b)
			case resp.StatusCode == http.StatusNotFound && e.Message == "Not Found":
				t.Errorf("the public origin does not reach %s %s: %d %s", r.method, r.path, resp.StatusCode, b)
			case resp.StatusCode >= 500:
				t.Errorf("%s %s = %d %s", r.method, r.path, resp.StatusCode, b)
			}
		})
	}
}
