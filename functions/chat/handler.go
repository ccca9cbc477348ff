package main

import (
	"net/http"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/chatapi"
	"github.com/secondme/twin/pkg/chat"
)

// newHandler is the chat function's HTTP handler behind the public origin: health, sessions, history
// and the JSON chat turn.
func newHandler(svc *chat.Service, auth api.Authenticator, edge api.Edge) http.Handler {
	rt := api.NewRouter()
	rt.HandleFunc("GET /api/health", api.Health)
	chatapi.New(svc, auth).Register(rt)
	return api.Wrap(rt, edge)
}
