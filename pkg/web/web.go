// Package web serves the browser client: one HTML page and its static assets (plain HTML, CSS and
// ES modules, embedded with go:embed, no build step).
//
// Assets are served under /assets/<version>/, where version is a hash of every embedded asset, so a
// browser may cache them forever; the HTML page, which names the current version, is never cached.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/secondme/twin/pkg/lang"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy allows scripts, styles and connections from our own origin only: no inline
// script, no eval, no plugins, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' https: data:; connect-src 'self'; font-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves GET / and GET /assets/<version>/<file>, and an HTML 404 page for other pages.
type Handler struct {
	version  string
	index    []byte
	notFound map[string][]byte // the 404 page in each language
	assets   fs.FS
}

// New returns a handler for the embedded client.
func New() *Handler {
	assets, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	version := hashTree(assets)
	page, err := fs.ReadFile(assets, "index.html")
	if err != nil {
		panic(err)
	}
	versioned := func(b []byte) []byte {
		return bytes.ReplaceAll(b, []byte("/assets/VERSION/"), []byte("/assets/"+version+"/"))
	}
	notFound := make(map[string][]byte)
	for l, file := range notFoundPages {
		missing, err := fs.ReadFile(assets, file)
		if err != nil {
			panic(err)
		}
		notFound[l] = versioned(missing)
	}
	return &Handler{version: version, index: versioned(page), notFound: notFound, assets: assets}
}

// Version returns the fingerprint of the embedded assets.
func (h *Handler) Version() string { return h.version }

// Register adds the client's routes to a mux-like registrar, and when it takes one (api.Router does),
// the HTML 404 page for the pages it does not know.
func (h *Handler) Register(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("GET /{$}", http.HandlerFunc(h.serveIndex))
	mux.Handle("GET /assets/{version}/{file}", http.HandlerFunc(h.serveAsset))
	if p, ok := mux.(interface{ HandlePages(http.Handler) }); ok {
		p.HandlePages(http.HandlerFunc(h.ServeNotFound))
	}
}

// notFoundPages are the files of the 404 page in each language.
var notFoundPages = map[string]string{lang.English: "404.html", lang.Chinese: "404.zh-CN.html"}

// ServeNotFound answers 404 with an HTML page that leads back to the client, in the language the
// browser asks for (lang.FromRequest: the client's language cookie, else Accept-Language).
func (h *Handler) ServeNotFound(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Vary", "Accept-Language, Cookie")
	w.Header().Set("Content-Language", lang.FromRequest(r))
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write(h.notFound[lang.FromRequest(r)])
}

func securityHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", ContentSecurityPolicy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("X-Frame-Options", "DENY")
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(h.index)
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if r.PathValue("version") != h.version || file == "index.html" || strings.HasPrefix(file, "404.") || strings.HasPrefix(file, ".") {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(h.assets, file)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	securityHeaders(w)
	ct := mime.TypeByExtension(path.Ext(file))
	switch path.Ext(file) {
	case ".js":
		ct = "text/javascript; charset=utf-8"
	case ".woff2":
		ct = "font/woff2"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	_, _ = w.Write(b)
}

// hashTree fingerprints every file of an fs.
func hashTree(fsys fs.FS) string {
	sum := sha256.New()
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum.Write([]byte(p))
		sum.Write(b)
		return nil
	})
	return hex.EncodeToString(sum.Sum(nil))[:12]
}
