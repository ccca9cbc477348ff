package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	userIDKey
)

// RequestID returns the request id of a context, "" if none.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// Wrap applies the middleware every function uses, outermost first: request id, access log, panic
// recovery, and the same-origin check for unsafe methods (except the paths in exempt, which
// authenticate themselves, such as a signed webhook).
func Wrap(h http.Handler, exempt ...string) http.Handler {
	return withRequestID(accessLog(recoverPanics(SameOrigin(h, exempt...))))
}

func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		rid := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", rid)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, rid)))
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

func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		slog.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.bytes, "ms", time.Since(start).Milliseconds(), "request_id", RequestID(r.Context()))
	})
}

func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.ErrorContext(r.Context(), "panic", "cause", fmt.Sprint(v), "stack", string(debug.Stack()),
					"request_id", RequestID(r.Context()))
				WriteError(w, r, Errorf(CodeInternal, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// SameOrigin refuses (403) a request with an unsafe method unless the browser says it is same-origin:
// Sec-Fetch-Site: same-origin, or an Origin header whose host is the request's host. Requests to the
// exempt paths pass.
func SameOrigin(next http.Handler, exempt ...string) http.Handler {
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
		if !sameOrigin(r) {
			WriteError(w, r, Errorf(CodePermissionDenied, "cross-site request refused"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		return true
	case "same-site", "cross-site":
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	host := r.Host
	if fwd := r.Header.Get("X-Forwarded-Host"); fwd != "" {
		host = fwd
	}
	return u.Host == host
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
			return Errorf(CodeUnauthenticated, "sign in first")
		}
		return h(w, r.WithContext(WithUserID(r.Context(), uid)))
	}
}

// Health answers GET /api/health without touching any dependency.
func Health(w http.ResponseWriter, r *http.Request) error {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}
