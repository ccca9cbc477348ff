package api

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/secondme/twin/pkg/lang"
)

// languageKey is the context key of a request's languageSlot.
type languageKey struct{}

// languageSlot holds the signed-in person's language once a handler has read it. The middleware puts
// an empty one in every request's context, so that the error a handler returns is written in the
// language the handler learnt (the writer sees the outer request, not the handler's).
type languageSlot struct{ tag atomic.Pointer[string] }

// withLanguageSlot gives every request an empty languageSlot.
func withLanguageSlot(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), languageKey{}, &languageSlot{})))
	})
}

// SetLanguage records the signed-in person's language (their profile's) for the rest of the request:
// the answers written through Language, errors included, use it. An empty or unknown tag changes
// nothing, and so does a context outside the middleware.
func SetLanguage(ctx context.Context, tag string) {
	if s, ok := ctx.Value(languageKey{}).(*languageSlot); ok && lang.Valid(tag) {
		s.tag.Store(&tag)
	}
}

// Language returns the language to answer a request in: the signed-in person's, when a handler has
// set it (SetLanguage), else what the browser says (lang.FromRequest: the client's language cookie,
// else Accept-Language), else English.
func Language(r *http.Request) string {
	if s, ok := r.Context().Value(languageKey{}).(*languageSlot); ok {
		if t := s.tag.Load(); t != nil {
			return *t
		}
	}
	return lang.FromRequest(r)
}
