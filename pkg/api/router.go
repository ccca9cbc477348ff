package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/secondme/twin/pkg/fault"
)

// HandlerFunc is an HTTP handler that returns its error instead of writing it; the router writes it
// through the error table.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP writes the error of h, if any.
func (h HandlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// Router is a ServeMux that answers unknown routes with a JSON 404 and wrong methods with a JSON 405.
// An unknown GET outside /api/ goes to the page handler, when one is set (the web client's HTML 404).
type Router struct {
	mux      *http.ServeMux
	patterns []string
	pages    http.Handler
}

// NewRouter returns an empty router.
func NewRouter() *Router { return &Router{mux: http.NewServeMux()} }

// Handle registers a handler for a ServeMux pattern such as "GET /api/users/{id}".
func (rt *Router) Handle(pattern string, h http.Handler) {
	rt.mux.Handle(pattern, h)
	rt.patterns = append(rt.patterns, pattern)
}

// HandleFunc registers an error-returning handler for a pattern.
func (rt *Router) HandleFunc(pattern string, h HandlerFunc) { rt.Handle(pattern, h) }

// HandlePages sets the handler of unknown GET and HEAD requests outside /api/: people's browsers, which
// should get a page rather than JSON.
func (rt *Router) HandlePages(h http.Handler) { rt.pages = h }

// PagesPattern stands, in Patterns, for the pages handler: it answers any GET no other pattern does.
const PagesPattern = "GET /{path...}"

// Patterns returns the patterns registered, in order, then PagesPattern when a pages handler is set
// (the route checks compare them with template.yaml).
func (rt *Router) Patterns() []string {
	ps := slices.Clone(rt.patterns)
	if rt.pages != nil {
		ps = append(ps, PagesPattern)
	}
	return ps
}

// ServeHTTP routes the request.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.mux.Handler(r); pattern != "" {
		rt.mux.ServeHTTP(w, r)
		return
	}
	// No pattern matched: the mux would answer 404 or 405 in plain text. Find out which, in JSON.
	probe := &statusProbe{header: http.Header{}}
	rt.mux.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		WriteError(w, r, fault.Errorf(fault.CodeMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	if rt.pages != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) && !strings.HasPrefix(r.URL.Path, "/api/") {
		rt.pages.ServeHTTP(w, r)
		return
	}
	WriteError(w, r, fault.Errorf(fault.CodeNotFound, "no route %s", strings.ToValidUTF8(r.URL.Path, "?")))
}

// statusProbe records the status the mux would answer with and discards the body.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(status int)      { p.status = status }
