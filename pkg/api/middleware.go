package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/requestid"
)

type ctxKey int

const (
	userIDKey ctxKey = iota
	loggerKey
)

// RequestID returns the request id of a context, "" if none: the id API Gateway or the Function URL
// gave the request, else one Wrap made.
func RequestID(ctx context.Context) string { return requestid.From(ctx) }

// Logger returns the logger of a request's context: the Middleware's logger with the request's
// request_id, or slog.Default() outside Wrap. The route groups log through it.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Edge is what the functions know of the public origin in front of them (docs/platform.md, "One public
// origin").
type Edge struct {
	// PublicURL is the origin browsers use, scheme://host[:port] (https://twin.example). An unsafe
	// request must come from it; when it is empty every unsafe request is refused.
	PublicURL string
	// Secret, when set, is the X-Origin-Verify value the edge adds to every request it forwards; a
	// request without it did not come through the edge and is refused. Empty: no edge, no check.
	Secret string
}

// OriginVerifyHeader carries the edge secret from the edge to the functions.
const OriginVerifyHeader = "X-Origin-Verify"

// Wrap applies Middleware{Edge: edge, Exempt: exempt}, logging to slog.Default().
func Wrap(h http.Handler, edge Edge, exempt ...string) http.Handler {
	return Middleware{Edge: edge, Exempt: exempt}.Wrap(h)
}

// Middleware is what every function puts around its routes.
type Middleware struct {
	// Edge is the public origin in front of the function.
	Edge Edge
	// Exempt are the paths the same-origin check lets through: they authenticate themselves, such as
	// a signed webhook.
	Exempt []string
	// Logger receives the access log and every line logged through Logger(ctx) while serving a
	// request (slog.Default() when nil).
	Logger *slog.Logger
}

// Wrap returns h inside the middleware, outermost first: the request id and the request's logger,
// the slot of the person's language (SetLanguage), the access log, the edge check (see Edge.Secret), panic recovery, and the same-origin check for
// unsafe methods against Edge.PublicURL (except the Exempt paths).
func (m Middleware) Wrap(h http.Handler) http.Handler {
	logger := m.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return withRequestID(logger, withLanguageSlot(accessLog(FromEdge(m.Edge.Secret, recoverPanics(SameOrigin(h, m.Edge.PublicURL, m.Exempt...))))))
}

// withRequestID gives the request its id (the gateway's, else a new one) in its context and in the
// X-Request-Id response header, and its logger, which logs the id as request_id.
func withRequestID(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		rid := requestid.From(ctx)
		if rid == "" {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			rid = hex.EncodeToString(b)
			ctx = requestid.With(ctx, rid)
		}
		w.Header().Set("X-Request-Id", rid)
		ctx = context.WithValue(ctx, loggerKey, logger.With("request_id", rid))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// statusWriter remembers the status and size of a response. It passes Flush through for streaming.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog logs one line per request. A request whose client went away (its context canceled) is
// logged as a cancel with status 499, whatever the handler managed to send.
func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		msg, status := "request", sw.status
		if clientGone(r) {
			msg, status = "request canceled", StatusClientClosed
		}
		Logger(r.Context()).InfoContext(r.Context(), msg, "method", r.Method, "path", r.URL.Path, "status", status,
			"bytes", sw.bytes, "ms", time.Since(start).Milliseconds())
	})
}

// FromEdge refuses (403, before anything else runs) every request that does not carry the edge secret
// in X-Origin-Verify, and removes the header before the handler sees the request. An empty secret
// turns the check off.
func FromEdge(secret string, next http.Handler) http.Handler {
	if secret == "" {
		return next
	}
	want := []byte(secret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Values(OriginVerifyHeader)
		if len(got) != 1 || subtle.ConstantTimeCompare([]byte(got[0]), want) != 1 {
			WriteError(w, r, fault.Errorf(fault.CodePermissionDenied, "requests go through the public origin"))
			return
		}
		r.Header.Del(OriginVerifyHeader)
		next.ServeHTTP(w, r)
	})
}

func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				Logger(r.Context()).ErrorContext(r.Context(), "panic", "cause", fmt.Sprint(v), "stack", string(debug.Stack()))
				WriteError(w, r, fault.Errorf(fault.CodeInternal, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// SameOrigin refuses (403) a request with an unsafe method unless the browser says it comes from the
// public origin: Sec-Fetch-Site: same-origin, or an Origin header equal to publicURL (scheme, host and
// port). The request's own Host and X-Forwarded-Host are never consulted. An empty publicURL refuses
// every unsafe request. Requests to the exempt paths pass.
func SameOrigin(next http.Handler, publicURL string, exempt ...string) http.Handler {
	public := origin(publicURL)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
			return
		}
		for _, p := range exempt {
			if r.URL.Path == p {
				next.ServeHTTP(w, r)
				return
			}
		}
		if !fromOrigin(r, public) {
			WriteError(w, r, fault.Errorf(fault.CodePermissionDenied, "cross-site request refused"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// fromOrigin reports whether an unsafe request comes from the public origin (normalized by origin;
// "" when none is configured).
func fromOrigin(r *http.Request, public string) bool {
	if public == "" {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "same-site", "cross-site":
		return false
	}
	o := r.Header.Get("Origin")
	return o != "" && origin(o) == public
}

// origin normalizes a URL to scheme://host[:port] in lower case, without a default port (80 for http,
// 443 for https), as browsers send Origin. It returns "" for anything that is not an http(s) origin:
// "null", a path, a query, user information.
func origin(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return ""
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	port := u.Port()
	switch {
	case scheme != "http" && scheme != "https":
		return ""
	case scheme == "http" && port == "80", scheme == "https" && port == "443":
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}

// WithUserID returns a context carrying the signed-in person's id.
func WithUserID(ctx context.Context, userID string) context.Context {
	return context.WithValue(ctx, userIDKey, userID)
}

// UserID returns the signed-in person's id from a context, "" if nobody is signed in.
func UserID(ctx context.Context) string {
	s, _ := ctx.Value(userIDKey).(string)
	return s
}

// Authenticator finds the person signed in on a request.
type Authenticator interface {
	// Authenticate returns the user id of the request's live login session, or an error that maps to
	// unauthenticated. It may renew the session cookie on w.
	Authenticate(w http.ResponseWriter, r *http.Request) (string, error)
}

// RequireUser runs h with the signed-in person's id in the context (see UserID), and answers 401
// when nobody is signed in.
func RequireUser(a Authenticator, h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		uid, err := a.Authenticate(w, r)
		if err != nil {
			return err
		}
		if uid == "" {
			return fault.Errorf(fault.CodeUnauthenticated, "sign in first")
		}
		return h(w, r.WithContext(WithUserID(r.Context(), uid)))
	}
}

// Health answers GET /api/health without touching any dependency.
func Health(w http.ResponseWriter, r *http.Request) error {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}
