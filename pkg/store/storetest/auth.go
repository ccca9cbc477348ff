package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

func newIdentity(provider, userID string) store.Identity {
	return store.Identity{
		Provider:       provider,
		Subject:        "sub-" + id.New(),
		UserID:         userID,
		SealedTokens:   []byte{0, 1, 2, 0xfe, 0xff},
		TokenExpiresAt: at(3600_000),
		CreatedAt:      at(0),
		UpdatedAt:      at(1),
	}
}

func testIdentities(t *testing.T, s store.Store) {
	t.Run("create and get", func(t *testing.T) {
		i := newIdentity(store.ProviderSecondMe, id.New())
		check(t, s.CreateIdentity(ctx, i), "CreateIdentity")
		got, err := s.GetIdentity(ctx, i.Provider, i.Subject)
		check(t, err, "GetIdentity")
		same(t, got, i, normIdentity, "GetIdentity")
	})
	t.Run("unique on provider and subject", func(t *testing.T) {
		i := newIdentity(store.ProviderOIDC, id.New())
		check(t, s.CreateIdentity(ctx, i), "CreateIdentity")
		other := i
		other.UserID = id.New()
		wantErr(t, s.CreateIdentity(ctx, other), store.ErrConflict, "CreateIdentity with a taken subject")
		got, err := s.GetIdentity(ctx, i.Provider, i.Subject)
		check(t, err, "GetIdentity")
		if got.UserID != i.UserID {
			t.Errorf("UserID after conflict = %s, want %s", got.UserID, i.UserID)
		}
		otherProvider := i
		otherProvider.Provider = store.ProviderSecondMe
		check(t, s.CreateIdentity(ctx, otherProvider), "CreateIdentity same subject, other provider")
	})
	t.Run("get not found", func(t *testing.T) {
		_, err := s.GetIdentity(ctx, store.ProviderOIDC, "nobody")
		wantErr(t, err, store.ErrNotFound, "GetIdentity unknown")
	})
	t.Run("put replaces", func(t *testing.T) {
		i := newIdentity(store.ProviderSecondMe, id.New())
		check(t, s.CreateIdentity(ctx, i), "CreateIdentity")
		i.SealedTokens, i.TokenExpiresAt, i.Revoked, i.UpdatedAt = []byte("new sealed"), at(7200_000), true, at(50)
		i.RevokedBy = []string{"evt-1", "evt-2"}
		check(t, s.PutIdentity(ctx, i), "PutIdentity")
		got, err := s.GetIdentity(ctx, i.Provider, i.Subject)
		check(t, err, "GetIdentity")
		same(t, got, i, normIdentity, "GetIdentity after PutIdentity")
	})
	t.Run("put not found", func(t *testing.T) {
		i := newIdentity(store.ProviderSecondMe, id.New())
		wantErr(t, s.PutIdentity(ctx, i), store.ErrNotFound, "PutIdentity unknown")
		_, err := s.GetIdentity(ctx, i.Provider, i.Subject)
		wantErr(t, err, store.ErrNotFound, "GetIdentity after a refused PutIdentity")
	})
	t.Run("list of user", func(t *testing.T) {
		uid := id.New()
		want := []store.Identity{newIdentity(store.ProviderSecondMe, uid), newIdentity(store.ProviderOIDC, uid)}
		for _, i := range want {
			check(t, s.CreateIdentity(ctx, i), "CreateIdentity")
		}
		check(t, s.CreateIdentity(ctx, newIdentity(store.ProviderOIDC, id.New())), "CreateIdentity of another user")
		got, err := s.ListIdentities(ctx, uid)
		check(t, err, "ListIdentities")
		byKey := func(a, b store.Identity) int {
			return strings.Compare(a.Provider+"\x00"+a.Subject, b.Provider+"\x00"+b.Subject)
		}
		slices.SortFunc(got, byKey)
		slices.SortFunc(want, byKey)
		same(t, got, want, normIdentities, "ListIdentities")

		none, err := s.ListIdentities(ctx, id.New())
		check(t, err, "ListIdentities of nobody")
		if len(none) != 0 {
			t.Errorf("ListIdentities of nobody = %v, want none", none)
		}
	})
}

func normIdentities(is []store.Identity) []store.Identity {
	var out []store.Identity
	for _, i := range is {
		out = append(out, normIdentity(i))
	}
	return out
}

func newLogin(userID string, expiresIn time.Duration) store.LoginSession {
	now := time.Now()
	return store.LoginSession{TokenHash: "hash-" + id.New(), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(expiresIn)}
}

func testLoginSessions(t *testing.T, s store.Store) {
	t.Run("create and get", func(t *testing.T) {
		l := newLogin(id.New(), time.Hour)
		check(t, s.CreateLoginSession(ctx, l), "CreateLoginSession")
		got, err := s.GetLoginSession(ctx, l.TokenHash)
		check(t, err, "GetLoginSession")
		same(t, got, l, normLogin, "GetLoginSession")
	})
	t.Run("create conflict", func(t *testing.T) {
		l := newLogin(id.New(), time.Hour)
		check(t, s.CreateLoginSession(ctx, l), "CreateLoginSession")
		other := l
		other.UserID = id.New()
		wantErr(t, s.CreateLoginSession(ctx, other), store.ErrConflict, "CreateLoginSession with a taken hash")
		got, err := s.GetLoginSession(ctx, l.TokenHash)
		check(t, err, "GetLoginSession")
		if got.UserID != l.UserID {
			t.Errorf("UserID after conflict = %s, want %s", got.UserID, l.UserID)
		}
	})
	t.Run("get not found", func(t *testing.T) {
		_, err := s.GetLoginSession(ctx, "hash-unknown")
		wantErr(t, err, store.ErrNotFound, "GetLoginSession unknown")
	})
	t.Run("expired is not found", func(t *testing.T) {
		l := newLogin(id.New(), -time.Second)
		check(t, s.CreateLoginSession(ctx, l), "CreateLoginSession")
		_, err := s.GetLoginSession(ctx, l.TokenHash)
		wantErr(t, err, store.ErrNotFound, "GetLoginSession expired")
		wantErr(t, s.RenewLoginSession(ctx, l.TokenHash, time.Now().Add(time.Hour)), store.ErrNotFound, "RenewLoginSession expired")
		_, err = s.GetLoginSession(ctx, l.TokenHash)
		wantErr(t, err, store.ErrNotFound, "GetLoginSession after renewing an expired one")
	})
	t.Run("renew", func(t *testing.T) {
		l := newLogin(id.New(), time.Minute)
		check(t, s.CreateLoginSession(ctx, l), "CreateLoginSession")
		later := time.Now().Add(30 * 24 * time.Hour)
		check(t, s.RenewLoginSession(ctx, l.TokenHash, later), "RenewLoginSession")
		got, err := s.GetLoginSession(ctx, l.TokenHash)
		check(t, err, "GetLoginSession")
		if !ms(got.ExpiresAt).Equal(ms(later)) {
			t.Errorf("ExpiresAt after renew = %v, want %v", got.ExpiresAt, ms(later))
		}
		wantErr(t, s.RenewLoginSession(ctx, "hash-unknown", later), store.ErrNotFound, "RenewLoginSession unknown")
	})
	t.Run("delete", func(t *testing.T) {
		l := newLogin(id.New(), time.Hour)
		check(t, s.CreateLoginSession(ctx, l), "CreateLoginSession")
		check(t, s.DeleteLoginSession(ctx, l.TokenHash), "DeleteLoginSession")
		_, err := s.GetLoginSession(ctx, l.TokenHash)
		wantErr(t, err, store.ErrNotFound, "GetLoginSession after delete")
		check(t, s.DeleteLoginSession(ctx, l.TokenHash), "DeleteLoginSession again")
	})
	t.Run("delete user login sessions", func(t *testing.T) {
		uid, other := id.New(), id.New()
		mine := []store.LoginSession{newLogin(uid, time.Hour), newLogin(uid, time.Hour), newLogin(uid, -time.Hour)}
		theirs := newLogin(other, time.Hour)
		for _, l := range append(mine, theirs) {
			check(t, s.CreateLoginSession(ctx, l), "CreateLoginSession")
		}
		check(t, s.DeleteUserLoginSessions(ctx, uid), "DeleteUserLoginSessions")
		for _, l := range mine {
			_, err := s.GetLoginSession(ctx, l.TokenHash)
			wantErr(t, err, store.ErrNotFound, "GetLoginSession of a revoked user")
		}
		_, err := s.GetLoginSession(ctx, theirs.TokenHash)
		check(t, err, "GetLoginSession of another user")
		check(t, s.DeleteUserLoginSessions(ctx, id.New()), "DeleteUserLoginSessions of nobody")
	})
}

func testEvents(t *testing.T, s store.Store) {
	t.Run("claim once", func(t *testing.T) {
		e1, e2 := "evt-"+id.New(), "evt-"+id.New()
		until := time.Now().Add(time.Hour)
		check(t, s.ClaimEvent(ctx, e1, until), "ClaimEvent")
		wantErr(t, s.ClaimEvent(ctx, e1, until), store.ErrConflict, "ClaimEvent again")
		check(t, s.ClaimEvent(ctx, e2, until), "ClaimEvent of another event")
	})
}
