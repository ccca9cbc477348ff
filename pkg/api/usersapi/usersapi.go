// Package usersapi is the users route group: a person's own profile, shades, sync, export and erase,
// other people's public profiles, and blocks (docs/api.md). The same Handler serves the users Lambda
// function and the local stack.
package usersapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store"
)

// Store is the part of the storage contract the users routes use.
type Store interface {
	profile.ExportStore
	UpdateUser(ctx context.Context, u store.User) (store.User, error)
	EraseUser(ctx context.Context, userID string) error
	PutBlock(ctx context.Context, b store.Block) error
	DeleteBlock(ctx context.Context, blockerID, blockedID string) error
	Blocked(ctx context.Context, a, b string) (bool, error)
	DeleteMatch(ctx context.Context, a, b string) error
}

// Rematcher recomputes a person's matches in the background.
type Rematcher interface {
	// Rematch schedules new compatibility jobs for the user. An error means nothing was scheduled;
	// the nightly job catches up, so callers log it and go on.
	Rematch(ctx context.Context, userID string) error
}

// Syncer re-imports a person's profile, shades and memories from SecondMe.
type Syncer interface {
	// Sync re-imports the user's data. For a person without a linked SecondMe account it returns an
	// *fault.Error with code conflict; other *fault.Errors are for the client, anything else is internal.
	Sync(ctx context.Context, userID string) error
}

// SessionCookie is the name of the login session cookie, cleared when a person erases their account.
const SessionCookie = "sm_session"

// Handler serves the users routes.
type Handler struct {
	st      Store
	auth    api.Authenticator
	rematch Rematcher
	sync    Syncer
	avatars Avatars
	account Account
	now     func() time.Time
}

// Option changes a Handler.
type Option func(*Handler)

// WithClock makes the handler read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns the users route group.
func New(st Store, auth api.Authenticator, rematch Rematcher, sync Syncer, opts ...Option) *Handler {
	h := &Handler{st: st, auth: auth, rematch: rematch, sync: sync, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Register adds the users routes to rt. It leaves out GET /api/health, which every function's main
// adds once (the local stack serves several groups on one router).
func (h *Handler) Register(rt *api.Router) {
	signedIn := func(f api.HandlerFunc) api.HandlerFunc { return api.RequireUser(h.auth, f) }
	rt.HandleFunc("GET /api/user/info", signedIn(h.getInfo))
	rt.HandleFunc("PATCH /api/user/info", signedIn(h.patchInfo))
	rt.HandleFunc("GET /api/user/shades", signedIn(h.getShades))
	rt.HandleFunc("PUT /api/user/shades", signedIn(h.putShades))
	rt.HandleFunc("POST /api/user/sync", signedIn(h.postSync))
	rt.HandleFunc("GET /api/user/export", signedIn(h.getExport))
	rt.HandleFunc("POST /api/user/export", signedIn(h.postExport))
	rt.HandleFunc("GET /api/user/export/{jobId}", signedIn(h.getExportJob))
	rt.HandleFunc("GET /api/user/export/{jobId}/archive", h.getArchive)
	rt.HandleFunc("POST /api/user/avatar", signedIn(h.postAvatar))
	rt.HandleFunc("GET /api/user/avatar", signedIn(h.getAvatar))
	rt.HandleFunc("DELETE /api/user", signedIn(h.deleteUser))
	rt.HandleFunc("GET /api/users/{id}", h.getPublic)
	rt.HandleFunc("POST /api/users/{id}/block", signedIn(h.postBlock))
	rt.HandleFunc("DELETE /api/users/{id}/block", signedIn(h.deleteBlock))
}

// me loads the signed-in person, whose language the request's answers then take (api.SetLanguage).
func (h *Handler) me(ctx context.Context) (store.User, error) {
	uid := api.UserID(ctx)
	u, err := h.st.GetUser(ctx, uid)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fault.NotFound("user")
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", uid, err)
	}
	api.SetLanguage(ctx, u.Language)
	return u, nil
}

// update reads the signed-in person, applies change and writes the result, reading and applying
// once more if the record changed in between.
func (h *Handler) update(ctx context.Context, change func(u *store.User) error) (store.User, error) {
	for attempt := 0; ; attempt++ {
		u, err := h.me(ctx)
		if err != nil {
			return store.User{}, err
		}
		if err := change(&u); err != nil {
			return store.User{}, err
		}
		saved, err := h.st.UpdateUser(ctx, u)
		if errors.Is(err, store.ErrConflict) && attempt == 0 {
			continue
		}
		if errors.Is(err, store.ErrNotFound) {
			return store.User{}, fault.NotFound("user")
		}
		if err != nil {
			return store.User{}, fmt.Errorf("update user %s: %w", u.ID, err)
		}
		return saved, nil
	}
}

// scheduleRematch asks for new matches of a person; a failure is logged, since the nightly job catches up.
func (h *Handler) scheduleRematch(ctx context.Context, userID string) {
	if err := h.rematch.Rematch(ctx, userID); err != nil {
		api.Logger(ctx).WarnContext(ctx, "rematch not scheduled; the nightly job will catch up", "user_id", userID, "err", err)
	}
}

// pathID returns the {id} path value, or a 400 naming "id" when it is not in our format.
func pathID(r *http.Request) (string, error) {
	v := r.PathValue("id")
	if !id.Valid(v) {
		return "", fault.Invalid("id", "not an id in our format")
	}
	return v, nil
}
