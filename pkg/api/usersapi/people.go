package usersapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store"
)

// getPublic serves the public profile of a discoverable person. Anyone may read it, signed in or
// not; a signed-in reader does not find a person when either blocked the other. People may always
// read their own public view, to see what others see.
func (h *Handler) getPublic(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	target, err := pathID(r)
	if err != nil {
		return err
	}
	viewer, err := h.viewer(w, r)
	if err != nil {
		return err
	}
	u, err := h.st.GetUser(ctx, target)
	if errors.Is(err, store.ErrNotFound) {
		return fault.NotFound("user")
	}
	if err != nil {
		return fmt.Errorf("get user %s: %w", target, err)
	}
	if viewer != target {
		if !u.Discoverable {
			return fault.NotFound("user")
		}
		if viewer != "" {
			blocked, err := h.st.Blocked(ctx, viewer, target)
			if err != nil {
				return fmt.Errorf("blocks between %s and %s: %w", viewer, target, err)
			}
			if blocked {
				return fault.NotFound("user")
			}
		}
	}
	api.WriteJSON(w, http.StatusOK, profile.PublicView(u))
	return nil
}

// viewer returns the signed-in reader of a public route, "" for an anonymous one.
func (h *Handler) viewer(w http.ResponseWriter, r *http.Request) (string, error) {
	uid, err := h.auth.Authenticate(w, r)
	if err != nil {
		if api.FromError(err).Code == fault.CodeUnauthenticated {
			return "", nil
		}
		return "", err
	}
	return uid, nil
}

// other returns the {id} of a block route: an id in our format that is not the caller's. Whether a
// person has the id is not looked up: blocking (or unblocking) an id nobody has answers 204 and takes the
// same steps as for a person who hides their profile, so the route does not tell whether an account
// exists. A block of an id nobody has is a row that matches no one and goes when the blocker is erased.
func (h *Handler) other(ctx context.Context, r *http.Request) (string, error) {
	other, err := pathID(r)
	if err != nil {
		return "", err
	}
	if other == api.UserID(ctx) {
		return "", fault.Invalid("id", "you cannot block yourself")
	}
	return other, nil
}

// postBlock blocks a person: neither sees the other any more, and their match is removed.
func (h *Handler) postBlock(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	other, err := h.other(ctx, r)
	if err != nil {
		return err
	}
	me := api.UserID(ctx)
	if err := h.st.PutBlock(ctx, store.Block{BlockerID: me, BlockedID: other, CreatedAt: h.now().UTC()}); err != nil {
		return fmt.Errorf("block %s by %s: %w", other, me, err)
	}
	if err := h.st.DeleteMatch(ctx, me, other); err != nil {
		return fmt.Errorf("remove match %s-%s: %w", me, other, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteBlock lifts a block; the person is matched again in the background.
func (h *Handler) deleteBlock(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	other, err := h.other(ctx, r)
	if err != nil {
		return err
	}
	me := api.UserID(ctx)
	if err := h.st.DeleteBlock(ctx, me, other); err != nil {
		return fmt.Errorf("unblock %s by %s: %w", other, me, err)
	}
	h.scheduleRematch(ctx, me)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
