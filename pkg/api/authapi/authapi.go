// Package authapi is the auth function's route group: sign-in with a provider, its callback, logout
// and the SecondMe revocation webhook.
package authapi

import (
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/store"
)

// WebhookPath is the SecondMe webhook route. It authenticates by signature, so it is exempt from the
// same-origin check (not from the edge check): wrap the router with api.Wrap(rt, edge, authapi.WebhookPath).
const WebhookPath = "/api/webhooks/secondme"

// Both of auth's sign-in checks serve api.RequireUser.
var (
	_ api.Authenticator = (*auth.Service)(nil)
	_ api.Authenticator = (*auth.Sessions)(nil)
)

// maxLoginHint bounds the login_hint parameter.
const maxLoginHint = 256

// Handler serves the auth routes.
type Handler struct {
	svc     *auth.Service
	webhook *auth.Webhook
}

// New returns the auth routes over the sign-in service and the webhook receiver.
func New(svc *auth.Service, webhook *auth.Webhook) *Handler {
	return &Handler{svc: svc, webhook: webhook}
}

// Register adds the auth routes to rt. It leaves out GET /api/health, which every function's main
// (and the local stack) adds once.
func (h *Handler) Register(rt *api.Router) {
	rt.HandleFunc("GET /api/auth/providers", h.providers)
	rt.HandleFunc("GET /api/auth/login", h.login)
	rt.HandleFunc("GET /api/auth/callback", h.svc.Callback)
	rt.HandleFunc("POST /api/auth/logout", h.logout)
	rt.HandleFunc("POST "+WebhookPath, h.receiveWebhook)
}

// receiveWebhook serves POST /api/webhooks/secondme: the body (at most api.MaxBody), then the webhook's
// verdict on the delivery (auth.Webhook.Receive), answered {"status": "ok"|"revoked"}.
func (h *Handler) receiveWebhook(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, api.MaxBody+1))
	if err != nil {
		return fault.Invalid("body", "could not be read")
	}
	if len(body) > api.MaxBody {
		return fault.Errorf(fault.CodePayloadTooLarge, "body is larger than %d bytes", api.MaxBody)
	}
	status, err := h.webhook.Receive(r.Context(), r.Header, body)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{"status": status})
	return nil
}

// providers serves GET /api/auth/providers: {"providers": ["secondme", "oidc"]}, the sign-in providers
// configured here, so a sign-in page offers only those.
func (h *Handler) providers(w http.ResponseWriter, r *http.Request) error {
	api.WriteJSON(w, http.StatusOK, map[string][]string{"providers": h.svc.Providers()})
	return nil
}

// login serves GET /api/auth/login?provider=secondme|oidc&returnTo=/path&login_hint=...
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req := auth.LoginRequest{Provider: q.Get("provider"), ReturnTo: q.Get("returnTo"), LoginHint: q.Get("login_hint")}
	f := fault.Fields{}
	switch req.Provider {
	case store.ProviderSecondMe, store.ProviderOIDC:
	case "":
		f.Add("provider", "required: secondme or oidc")
	default:
		f.Add("provider", "must be secondme or oidc")
	}
	switch {
	case len(req.LoginHint) > maxLoginHint:
		f.Add("login_hint", "at most 256 bytes")
	case !utf8.ValidString(req.LoginHint) || strings.ContainsFunc(req.LoginHint, unicode.IsControl):
		f.Add("login_hint", "must be printable text")
	}
	if err := f.Err(); err != nil {
		return err
	}
	return h.svc.Login(w, r, req)
}

// logout serves POST /api/auth/logout: 204, and the session is revoked server-side.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Logout(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
