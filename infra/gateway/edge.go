package main

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// edge plays the template's CloudFront distribution: the public origin. Each request goes to the
// origin of the first cache behavior whose path pattern matches (else the default behavior's), as
// the behavior's policies shape it: the viewer's headers, cookies and query string forwarded or not,
// Host made the origin's, the origin's custom headers set (a viewer's own copy of them dropped), and
// the response headers policy's headers added to the answer.
type edge struct {
	d       *Distribution
	origins map[string]http.Handler // origin id -> what serves it
}

// newEdge returns the edge of d; handlers maps the host of every HTTP API and function URL of the
// template to what serves it. An origin that is none of them is an error naming it.
func newEdge(d *Distribution, handlers map[string]http.Handler) (*edge, error) {
	e := &edge{d: d, origins: map[string]http.Handler{}}
	for _, id := range slices.Sorted(maps.Keys(d.Origins)) {
		o := d.Origins[id]
		h, ok := handlers[o.DomainName]
		if !ok {
			return nil, fmt.Errorf("distribution origin %s: DomainName %q is neither an HTTP API nor a function URL of the template", id, o.DomainName)
		}
		e.origins[id] = h
	}
	return e, nil
}

// behavior returns the cache behavior for a path: the first whose pattern matches, else the default.
func (e *edge) behavior(path string) Behavior {
	for _, b := range e.d.Behaviors {
		if pathMatch(b.PathPattern, path) {
			return b
		}
	}
	return e.d.Default
}

func (e *edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := e.behavior(r.URL.Path)
	if !slices.Contains(b.Methods, r.Method) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, "<html><body><h1>403 ERROR</h1><p>The request could not be satisfied: this distribution is not configured to allow the HTTP request method that was used for this request.</p></body></html>")
		return
	}
	o := e.d.Origins[b.TargetOrigin]
	or := r.Clone(r.Context())
	or.Body = r.Body
	if !b.ForwardAll {
		kept := http.Header{}
		for _, k := range []string{"Content-Length", "Content-Type"} {
			if v := r.Header.Values(k); len(v) > 0 {
				kept[k] = v
			}
		}
		if b.Cached {
			if ae := normalizedAcceptEncoding(r.Header.Get("Accept-Encoding")); ae != "" {
				kept.Set("Accept-Encoding", ae)
			}
		}
		or.Header = kept
		or.Header.Set("User-Agent", "Amazon CloudFront")
		or.URL.RawQuery = ""
	}
	if !b.ForwardHost {
		or.Host = o.DomainName
	}
	xff := sourceIP(r)
	if prev := r.Header.Get("X-Forwarded-For"); prev != "" && b.ForwardAll {
		xff = prev + ", " + xff
	}
	or.Header.Set("X-Forwarded-For", xff)
	or.Header.Set("Via", "2.0 "+randomHex(16)+".cloudfront.net (CloudFront)")
	or.Header.Set("X-Amz-Cf-Id", randomHex(28))
	for name, value := range o.Headers {
		or.Header.Del(name)
		or.Header.Set(name, value)
	}
	if o.Path != "" {
		or.URL.Path = o.Path + r.URL.Path
		or.URL.RawPath = ""
	}
	or.RequestURI = or.URL.RequestURI()
	if len(b.ResponseHeaders) > 0 {
		w = &policyWriter{ResponseWriter: w, headers: b.ResponseHeaders}
	}
	e.origins[b.TargetOrigin].ServeHTTP(w, or)
}

// normalizedAcceptEncoding is the Accept-Encoding CloudFront sends when the cache policy caches
// compressed objects: br and gzip, those the viewer accepts.
func normalizedAcceptEncoding(v string) string {
	var out []string
	for _, enc := range []string{"br", "gzip"} {
		if strings.Contains(v, enc) {
			out = append(out, enc)
		}
	}
	return strings.Join(out, ",")
}

// pathMatch reports whether a CloudFront path pattern matches a path: * is any run of characters
// (/ included), ? is one character, everything else matches itself, case-sensitively. The leading /
// of the pattern is optional.
func pathMatch(pattern, path string) bool {
	if !strings.HasPrefix(pattern, "/") && !strings.HasPrefix(pattern, "*") {
		pattern = "/" + pattern
	}
	p, s := []rune(pattern), []rune(path)
	// match[i][j]: p[i:] matches s[j:]
	next := make([]bool, len(s)+1)
	next[len(s)] = true
	for i := len(p) - 1; i >= 0; i-- {
		cur := make([]bool, len(s)+1)
		for j := len(s); j >= 0; j-- {
			switch {
			case p[i] == '*':
				cur[j] = next[j] || (j < len(s) && cur[j+1])
			case j < len(s) && (p[i] == '?' || p[i] == s[j]):
				cur[j] = next[j+1]
			}
		}
		next = cur
	}
	return next[0]
}

// policyWriter adds a response headers policy's headers to the origin's answer.
type policyWriter struct {
	http.ResponseWriter
	headers []responseHeader
	wrote   bool
}

func (p *policyWriter) WriteHeader(status int) {
	if !p.wrote {
		p.wrote = true
		h := p.ResponseWriter.Header()
		for _, rh := range p.headers {
			if rh.Override || h.Get(rh.Name) == "" {
				h.Set(rh.Name, rh.Value)
			}
		}
	}
	p.ResponseWriter.WriteHeader(status)
}

func (p *policyWriter) Write(b []byte) (int, error) {
	if !p.wrote {
		p.WriteHeader(http.StatusOK)
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController flush the stream through the policy.
func (p *policyWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
