package usersapi

import (
	"context"
	"net/http"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/avatar"
	"github.com/secondme/twin/pkg/fault"
)

// Avatars makes and reports portraits of people's twins (avatar.Service).
type Avatars interface {
	// Start queues a portrait in style (the default when empty) and returns the queued job.
	Start(ctx context.Context, userID, style string) (avatar.State, error)
	// State returns the person's latest job.
	State(ctx context.Context, userID string) (avatar.State, error)
	// Erase deletes the person's images and job.
	Erase(ctx context.Context, userID string) error
}

// WithAvatars serves POST and GET /api/user/avatar with a, and erases a person's images with their
// account. Without it both routes answer 503.
func WithAvatars(a Avatars) Option { return func(h *Handler) { h.avatars = a } }

// errNoAvatars answers the avatar routes of a function whose media storage is not configured.
var errNoAvatars = fault.Unavailable("portraits are not available here")

// avatarRequest is the body of POST /api/user/avatar.
type avatarRequest struct {
	Style string `json:"style"`
}

// postAvatar queues a portrait of the person's twin: 202 with the job, which GET /api/user/avatar
// then reports.
func (h *Handler) postAvatar(w http.ResponseWriter, r *http.Request) error {
	if h.avatars == nil {
		return errNoAvatars
	}
	var req avatarRequest
	if r.ContentLength != 0 {
		if err := api.Decode(r, &req); err != nil {
			return err
		}
	}
	ctx := r.Context()
	if _, err := h.me(ctx); err != nil {
		return err
	}
	st, err := h.avatars.Start(ctx, api.UserID(ctx), req.Style)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusAccepted, st)
	return nil
}

// getAvatar reports the person's latest portrait job: none, queued, running, done with its url, or
// failed with a reason.
func (h *Handler) getAvatar(w http.ResponseWriter, r *http.Request) error {
	if h.avatars == nil {
		return errNoAvatars
	}
	ctx := r.Context()
	st, err := h.avatars.State(ctx, api.UserID(ctx))
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, st)
	return nil
}
