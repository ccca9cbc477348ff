package auth

import (
	"context"
	"time"

	"github.com/secondme/twin/pkg/store"
)

// SessionStore is what Sessions needs of the store.
type SessionStore interface {
	// CreateLoginSession stores a login session; ErrConflict if the hash exists.
	CreateLoginSession(ctx context.Context, s store.LoginSession) error
	// GetLoginSession returns a live login session; ErrNotFound if there is none or it has expired.
	GetLoginSession(ctx context.Context, tokenHash string) (store.LoginSession, error)
	// RenewLoginSession moves the expiry of a live login session; ErrNotFound if there is none.
	RenewLoginSession(ctx context.Context, tokenHash string, expiresAt time.Time) error
	// DeleteLoginSession revokes a login session; deleting an unknown one is not an error.
	DeleteLoginSession(ctx context.Context, tokenHash string) error
}

// IdentityStore is what token refresh, sync and the webhook need of the store.
type IdentityStore interface {
	// GetUser returns a user; ErrNotFound if there is none.
	GetUser(ctx context.Context, id string) (store.User, error)
	// UpdateUser replaces a user if its stored Rev equals u.Rev; ErrConflict if it changed.
	UpdateUser(ctx context.Context, u store.User) (store.User, error)
	// GetIdentity returns an identity; ErrNotFound if there is none.
	GetIdentity(ctx context.Context, provider, subject string) (store.Identity, error)
	// PutIdentity replaces an existing identity; ErrNotFound if there is none.
	PutIdentity(ctx context.Context, i store.Identity) error
	// ListIdentities returns the identities of a user.
	ListIdentities(ctx context.Context, userID string) ([]store.Identity, error)
	// DeleteUserLoginSessions revokes every login session of a user.
	DeleteUserLoginSessions(ctx context.Context, userID string) error
	// ClaimEvent records an event id until expiresAt; ErrConflict if it was claimed before.
	ClaimEvent(ctx context.Context, eventID string, expiresAt time.Time) error
}

// Store is everything pkg/auth needs of the store: sessions, identities, users and event claims.
type Store interface {
	SessionStore
	IdentityStore
	// CreateUser stores a new user; ErrConflict if the id exists.
	CreateUser(ctx context.Context, u store.User) error
	// CreateIdentity stores a new identity; ErrConflict if (Provider, Subject) exists.
	CreateIdentity(ctx context.Context, i store.Identity) error
}

var _ Store = store.Store(nil)

// Rematcher schedules compatibility jobs for a person (pkg/rematch provides it).
type Rematcher interface {
	// Rematch schedules new compatibility jobs for the user. An error means nothing was scheduled;
	// sign-in logs it and goes on.
	Rematch(ctx context.Context, userID string) error
}
