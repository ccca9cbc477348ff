package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/store"
)

// DefaultSessionTTL is the lifetime of a login session without use; each use in the second half
// of it renews it.
const DefaultSessionTTL = 30 * 24 * time.Hour

// Sessions are the login sessions of browsers: a 256-bit random token in the sm_session cookie
// (HttpOnly, Secure except on plain-http loopback, SameSite=Lax, Path=/), stored only as its SHA-256
// hash with an expiry, renewed when less than half of the lifetime is left.
type Sessions struct {
	st  SessionStore
	ttl time.Duration
	now func() time.Time
}

// NewSessions returns Sessions over st; ttl 0 means DefaultSessionTTL, now nil means time.Now.
func NewSessions(st SessionStore, ttl time.Duration, now func() time.Time) *Sessions {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Sessions{st: st, ttl: ttl, now: now}
}

// HashToken returns the stored form of a session token: hex SHA-256.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Start signs userID in on this browser: it revokes the browser's previous session, if any, stores
// a new one and sets the cookie.
func (s *Sessions) Start(ctx context.Context, w http.ResponseWriter, r *http.Request, userID string) error {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := s.st.DeleteLoginSession(ctx, HashToken(c.Value)); err != nil {
			return fmt.Errorf("revoke previous session: %w", err)
		}
	}
	token := randomToken()
	now := s.now().UTC()
	ls := store.LoginSession{TokenHash: HashToken(token), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}
	if err := s.st.CreateLoginSession(ctx, ls); err != nil {
		return fmt.Errorf("create login session: %w", err)
	}
	setCookie(w, r, SessionCookie, token, "/", s.ttl)
	return nil
}

// errSignIn is the answer for a missing, unknown or expired session.
var errSignIn = fault.Errorf(fault.CodeUnauthenticated, "sign in first")

// Authenticate returns the user of the request's live session. With less than half of the lifetime
// left it renews the session (one store write) and the cookie. No cookie, or an unknown or expired
// session, is unauthenticated (and the stale cookie is cleared).
func (s *Sessions) Authenticate(w http.ResponseWriter, r *http.Request) (string, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return "", errSignIn
	}
	hash := HashToken(c.Value)
	ls, err := s.st.GetLoginSession(r.Context(), hash)
	now := s.now().UTC()
	if errors.Is(err, store.ErrNotFound) || (err == nil && !now.Before(ls.ExpiresAt)) {
		clearCookie(w, r, SessionCookie, "/")
		return "", fault.Errorf(fault.CodeUnauthenticated, "your session has ended; sign in again")
	}
	if err != nil {
		return "", fmt.Errorf("get login session: %w", err)
	}
	if ls.ExpiresAt.Sub(now) < s.ttl/2 {
		err := s.st.RenewLoginSession(r.Context(), hash, now.Add(s.ttl))
		switch {
		case errors.Is(err, store.ErrNotFound): // revoked meanwhile
			clearCookie(w, r, SessionCookie, "/")
			return "", fault.Errorf(fault.CodeUnauthenticated, "your session has ended; sign in again")
		case err != nil:
			return "", fmt.Errorf("renew login session: %w", err)
		}
		setCookie(w, r, SessionCookie, c.Value, "/", s.ttl)
	}
	return ls.UserID, nil
}

// End signs the browser out: the session is deleted server-side and the cookie cleared. Without a
// session it only clears the cookie.
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) error {
	clearCookie(w, r, SessionCookie, "/")
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	if err := s.st.DeleteLoginSession(r.Context(), HashToken(c.Value)); err != nil {
		return fmt.Errorf("delete login session: %w", err)
	}
	return nil
}
