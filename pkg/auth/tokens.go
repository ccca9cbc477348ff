package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/secondme"
	"github.com/secondme/twin/pkg/store"
)

// Token timing.
const (
	// RefreshBefore is how long before its expiry an access token is refreshed.
	RefreshBefore = 5 * time.Minute
	// defaultTokenLife is assumed when SecondMe gives no expiresIn: the shortest documented lifetime.
	defaultTokenLife = 2 * time.Hour
	// refreshTimeout bounds one single-flight refresh, whoever waits for it.
	refreshTimeout = 20 * time.Second
)

// storedTokens are the SecondMe tokens sealed on an Identity.
type storedTokens struct {
	Access  string   `json:"a"`
	Refresh string   `json:"r,omitempty"`
	Expiry  int64    `json:"e"`
	Scope   []string `json:"s,omitempty"`
}

// storedTokensOf returns what to store of a token answer; an answer without a refresh token keeps
// the previous one.
func storedTokensOf(t secondme.Token, previousRefresh string, now time.Time) storedTokens {
	life := t.ExpiresIn
	if life <= 0 {
		life = defaultTokenLife
	}
	rt := t.RefreshToken
	if rt == "" {
		rt = previousRefresh
	}
	return storedTokens{Access: t.AccessToken, Refresh: rt, Expiry: now.Add(life).Unix(), Scope: t.Scope}
}

// tokenPurpose binds sealed tokens to their identity: a sealed blob copied to another identity does not open.
func tokenPurpose(subject string) string { return "secondme-tokens/v1|" + subject }

// sealTokens seals tokens for the identity subject and returns them with the access token's expiry.
func (s *Service) sealTokens(subject string, t storedTokens) ([]byte, time.Time, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("encode tokens: %w", err)
	}
	return s.sealer.Seal(tokenPurpose(subject), b), time.Unix(t.Expiry, 0).UTC(), nil
}

// openTokens opens the tokens sealed on an identity.
func (s *Service) openTokens(ident store.Identity) (storedTokens, error) {
	b, err := s.sealer.Open(tokenPurpose(ident.Subject), ident.SealedTokens)
	if err != nil {
		return storedTokens{}, fmt.Errorf("open tokens of a secondme identity: %w", err)
	}
	var t storedTokens
	if err := json.Unmarshal(b, &t); err != nil || t.Access == "" {
		return storedTokens{}, fmt.Errorf("decode tokens of a secondme identity: malformed")
	}
	return t, nil
}

// Errors of the token paths.
var (
	errNoSecondMe = fault.Errorf(fault.CodeConflict, "no SecondMe account linked")
	errRevoked    = fault.Errorf(fault.CodeUnauthenticated, "access to your SecondMe was revoked; sign in with SecondMe again")
	errSignInSM   = fault.Errorf(fault.CodeUnauthenticated, "your SecondMe sign-in has expired; sign in with SecondMe again")
)

// secondMeIdentity returns the person's SecondMe identity, or errNoSecondMe.
func (s *Service) secondMeIdentity(ctx context.Context, userID string) (store.Identity, error) {
	ids, err := s.st.ListIdentities(ctx, userID)
	if err != nil {
		return store.Identity{}, fmt.Errorf("list identities: %w", err)
	}
	var found *store.Identity
	for i := range ids {
		if ids[i].Provider == store.ProviderSecondMe && (found == nil || found.Revoked) {
			found = &ids[i]
		}
	}
	if found == nil {
		return store.Identity{}, errNoSecondMe
	}
	return *found, nil
}

// AccessToken returns a live SecondMe access token of the person, refreshing it (once, however many
// callers wait) when it expires within RefreshBefore. Errors: conflict "no SecondMe account linked";
// unauthenticated when the person must sign in with SecondMe again (revoked, or a refused refresh
// token); upstream_unavailable when SecondMe fails. Never an internal error for SecondMe's answers.
func (s *Service) AccessToken(ctx context.Context, userID string) (string, error) {
	if s.sm == nil {
		return "", errNoSecondMe
	}
	ident, err := s.secondMeIdentity(ctx, userID)
	if err != nil {
		return "", err
	}
	if at, ok, err := s.fresh(ident); err != nil || ok {
		return at, err
	}
	ch := s.flight.DoChan(ident.Subject, func() (any, error) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		return s.refresh(fctx, ident.Subject)
	})
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return "", res.Err
		}
		return res.Val.(string), nil
	}
}

// fresh returns the identity's access token when it is usable without a refresh.
func (s *Service) fresh(ident store.Identity) (string, bool, error) {
	if ident.Revoked {
		return "", false, errRevoked
	}
	if len(ident.SealedTokens) == 0 {
		return "", false, errSignInSM
	}
	t, err := s.openTokens(ident)
	if err != nil {
		return "", false, err
	}
	if s.now().Add(RefreshBefore).Before(time.Unix(t.Expiry, 0)) {
		return t.Access, true, nil
	}
	return "", false, nil
}

// refresh refreshes the tokens of a SecondMe identity and stores whatever comes back. A refused
// refresh token deletes the tokens: the person must sign in again.
func (s *Service) refresh(ctx context.Context, subject string) (string, error) {
	ident, err := s.st.GetIdentity(ctx, store.ProviderSecondMe, subject)
	if err != nil {
		return "", fmt.Errorf("get secondme identity: %w", err)
	}
	if at, ok, err := s.fresh(ident); err != nil || ok { // refreshed meanwhile, or gone
		return at, err
	}
	old, err := s.openTokens(ident)
	if err != nil {
		return "", err
	}
	if old.Refresh == "" {
		return "", s.dropTokens(ctx, ident)
	}
	nt, err := s.sm.Refresh(ctx, old.Refresh)
	if err != nil {
		if !secondme.NeedsSignIn(err) {
			return "", s.upstreamError(ctx, "refresh your SecondMe sign-in", err)
		}
		// Another instance may have refreshed (and rotated) the token first: use its result.
		if cur, err2 := s.st.GetIdentity(ctx, store.ProviderSecondMe, subject); err2 == nil && !bytes.Equal(cur.SealedTokens, ident.SealedTokens) {
			if at, ok, err3 := s.fresh(cur); err3 == nil && ok {
				return at, nil
			}
		}
		s.log.InfoContext(ctx, "secondme refresh token refused; sign-in needed", "user_id", ident.UserID, "sub_code", secondme.SubCodeOf(err))
		return "", s.dropTokens(ctx, ident)
	}
	now := s.now().UTC()
	sealed, expires, err := s.sealTokens(subject, storedTokensOf(nt, old.Refresh, now))
	if err != nil {
		return "", err
	}
	ident.SealedTokens, ident.TokenExpiresAt, ident.UpdatedAt = sealed, expires, now
	if err := s.st.PutIdentity(ctx, ident); err != nil {
		return "", fmt.Errorf("store refreshed tokens: %w", err)
	}
	return nt.AccessToken, nil
}

// dropTokens deletes the tokens of an identity whose refresh failed for good and returns the
// "sign in again" error.
func (s *Service) dropTokens(ctx context.Context, ident store.Identity) error {
	ident.SealedTokens, ident.TokenExpiresAt, ident.UpdatedAt = nil, time.Time{}, s.now().UTC()
	if err := s.st.PutIdentity(ctx, ident); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete refused tokens: %w", err)
	}
	return errSignInSM
}

// Sync re-imports the person's profile (nickname, avatar, bio), shades and key memories from
// SecondMe (POST /api/user/sync). Memories that fail to import are kept as they were. The profile
// version rises when the shades, memories or bio change. Errors: conflict "no SecondMe account
// linked"; unauthenticated when the person must sign in with SecondMe again; upstream_unavailable.
func (s *Service) Sync(ctx context.Context, userID string) error {
	at, err := s.AccessToken(ctx, userID)
	if err != nil {
		return err
	}
	u, err := s.st.GetUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("get user: %w", err)
	}
	imp, err := s.fetch(ctx, at, userID, u.CreatedAt)
	if err != nil {
		return err
	}
	imp.Avatar = s.importAvatar(ctx, userID, u.Avatar, imp.Avatar)
	for range 3 {
		now := s.now().UTC()
		changed := u.Bio != imp.Bio || !reflect.DeepEqual(u.Shades, imp.Shades) ||
			(imp.MemoriesOK && !reflect.DeepEqual(u.Memories, imp.Memories))
		u.Nickname, u.Avatar, u.Bio, u.Shades = imp.Nickname, imp.Avatar, imp.Bio, imp.Shades
		if imp.MemoriesOK {
			u.Memories = imp.Memories
		}
		if changed {
			u.ProfileVersion++
			u.ProfileChangedAt = now
		}
		u.UpdatedAt = now
		_, err = s.st.UpdateUser(ctx, u)
		if !errors.Is(err, store.ErrConflict) {
			break
		}
		if u, err = s.st.GetUser(ctx, userID); err != nil {
			return fmt.Errorf("get user: %w", err)
		}
	}
	if err != nil {
		return fmt.Errorf("update user after sync: %w", err)
	}
	return nil
}

// fetch reads a person's profile, shades and memories from SecondMe. A memory failure only clears
// MemoriesOK; any other failure is an error for the client.
func (s *Service) fetch(ctx context.Context, accessToken, userID string, created time.Time) (imported, error) {
	info, err := s.sm.UserInfo(ctx, accessToken)
	if err != nil {
		return imported{}, s.apiCallError(ctx, "read your SecondMe profile", err)
	}
	shades, err := s.sm.Shades(ctx, accessToken)
	if err != nil {
		return imported{}, s.apiCallError(ctx, "read your SecondMe shades", err)
	}
	var imp imported
	imp.Nickname, imp.Avatar, imp.Bio = profileFrom(info)
	imp.Shades = shadesFrom(userID, created, shades)
	mems, err := s.sm.KeyMemories(ctx, accessToken, maxMemories)
	if err != nil {
		s.log.WarnContext(ctx, "secondme memory import failed; going on without", "user_id", userID, "err", err)
		return imp, nil
	}
	imp.Memories, imp.MemoriesOK = memoriesFrom(userID, mems), true
	return imp, nil
}

// apiCallError maps a refused token to "sign in again" and anything else to upstream_unavailable.
func (s *Service) apiCallError(ctx context.Context, what string, err error) error {
	if secondme.IsAuthRevoked(err) {
		return errRevoked
	}
	if secondme.IsTokenInvalid(err) {
		return errSignInSM
	}
	return s.upstreamError(ctx, what, err)
}
