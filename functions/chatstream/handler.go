package main

import (
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/lambdaurl"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/chatapi"
	"github.com/secondme/twin/pkg/chat"
)

// newHandler is the chatstream function's HTTP handler behind the public origin: health and POST
// /api/chat/stream, with the cookies of a Function URL event restored as a Cookie header.
func newHandler(svc *chat.Service, auth api.Authenticator, edge api.Edge) http.Handler {
	rt := api.NewRouter()
	rt.HandleFunc("GET /api/health", api.Health)
	chatapi.New(svc, auth).RegisterStream(rt)
	return withEventCookies(api.Wrap(rt, edge))
}

// withEventCookies puts the cookies of a Lambda Function URL event (payload 2.0 carries them in
// "cookies", not in the headers, and lambdaurl copies only the headers) back into the Cookie header,
// where the sign-in cookie is read.
func withEventCookies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ev, ok := lambdaurl.RequestFromContext(r.Context()); ok && len(ev.Cookies) > 0 && r.Header.Get("Cookie") == "" {
			r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
		}
		next.ServeHTTP(w, r)
	})
}
