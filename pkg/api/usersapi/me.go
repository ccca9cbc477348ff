package usersapi

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store"
)

// shadesBody is the body of PUT /api/user/shades and the answer of both shade routes.
type shadesBody struct {
	Shades *[]profile.Shade `json:"shades"`
}

func (h *Handler) getInfo(w http.ResponseWriter, r *http.Request) error {
	u, err := h.me(r.Context())
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, profile.InfoOf(u))
	return nil
}

func (h *Handler) patchInfo(w http.ResponseWriter, r *http.Request) error {
	var p profile.Patch
	if err := api.Decode(r, &p); err != nil {
		return err
	}
	var rematch bool
	u, err := h.update(r.Context(), func(u *store.User) (err error) {
		rematch, err = p.Apply(u, h.now().UTC())
		return err
	})
	if err != nil {
		return err
	}
	if rematch {
		h.scheduleRematch(r.Context(), u.ID)
	}
	api.WriteJSON(w, http.StatusOK, profile.InfoOf(u))
	return nil
}

func (h *Handler) getShades(w http.ResponseWriter, r *http.Request) error {
	u, err := h.me(r.Context())
	if err != nil {
		return err
	}
	writeShades(w, u)
	return nil
}

func (h *Handler) putShades(w http.ResponseWriter, r *http.Request) error {
	var body shadesBody
	if err := api.Decode(r, &body); err != nil {
		return err
	}
	if body.Shades == nil {
		return fault.Invalid("shades", "required (an empty list removes every shade)")
	}
	u, err := h.update(r.Context(), func(u *store.User) error {
		return profile.ReplaceShades(u, *body.Shades, h.now().UTC())
	})
	if err != nil {
		return err
	}
	h.scheduleRematch(r.Context(), u.ID)
	writeShades(w, u)
	return nil
}

func writeShades(w http.ResponseWriter, u store.User) {
	shades := profile.ShadesOf(u.Shades)
	api.WriteJSON(w, http.StatusOK, shadesBody{Shades: &shades})
}

func (h *Handler) postSync(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	uid := api.UserID(ctx)
	if err := h.sync.Sync(ctx, uid); err != nil {
		return fmt.Errorf("sync user %s: %w", uid, err)
	}
	h.scheduleRematch(ctx, uid)
	u, err := h.me(ctx)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, profile.InfoOf(u))
	return nil
}

func (h *Handler) getExport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := h.me(ctx); err != nil {
		return err
	}
	doc, err := profile.Export(ctx, h.st, api.UserID(ctx), h.now())
	if err != nil {
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode export: %w", err)
	}
	if len(b) > MaxInlineExport {
		return fault.Errorf(fault.CodePayloadTooLarge, "your data is too large to download at once: start an export (POST /api/user/export)")
	}
	w.Header().Set("Content-Disposition", `attachment; filename="secondme-export.json"`)
	api.WriteJSON(w, http.StatusOK, json.RawMessage(b))
	return nil
}

func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	uid := api.UserID(ctx)
	if h.account != nil {
		// The profile, identities and sessions now; chats, matches and media in a job.
		if err := h.account.Erase(ctx, uid); err != nil {
			return err
		}
		clearSessionCookie(w, r)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if h.avatars != nil {
		// The images first: a failure leaves the account whole, and erasing again retries.
		if err := h.avatars.Erase(ctx, uid); err != nil {
			return err
		}
	}
	if err := h.st.EraseUser(ctx, uid); err != nil {
		return fmt.Errorf("erase user %s: %w", uid, err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: !plainLoopback(r),
		SameSite: http.SameSiteLaxMode,
	})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// plainLoopback reports whether r came over plain http to a loopback host (the local stack), where
// pkg/auth sets the session cookie without Secure; everywhere else the cookie is Secure.
func plainLoopback(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return false
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	ip := net.ParseIP(host)
	return strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback())
}
