package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// countingStore counts the writes to login sessions.
type countingStore struct {
	SessionStore
	renewals int
}

func (c *countingStore) RenewLoginSession(ctx context.Context, hash string, at time.Time) error {
	c.renewals++
	return c.SessionStore.RenewLoginSession(ctx, hash, at)
}

func TestSessionsSlidingRenewal(t *testing.T) {
	t.Parallel()
	sq, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	st := &countingStore{SessionStore: sq}
	now := time.Now()
	ttl := 30 * 24 * time.Hour
	s := NewSessions(st, ttl, func() time.Time { return now })
	w := httptest.NewRecorder()
	if err := s.Start(context.Background(), w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil), "u1"); err != nil {
		t.Fatal(err)
	}
	token := w.Result().Cookies()[0].Value
	auth := func() (string, *httptest.ResponseRecorder, error) {
		r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		r.AddCookie(&http.Cookie{Name: SessionCookie, Value: token})
		w := httptest.NewRecorder()
		uid, err := s.Authenticate(w, r)
		return uid, w, err
	}
	if uid, w, err := auth(); err != nil || uid != "u1" || st.renewals != 0 || len(w.Result().Cookies()) != 0 {
		t.Errorf("fresh session: %q, %v, %d renewals; want u1 without a renewal", uid, err, st.renewals)
	}
	now = now.Add(ttl/2 + time.Hour) // less than half left
	uid, w2, err := auth()
	if err != nil || uid != "u1" || st.renewals != 1 || len(w2.Result().Cookies()) != 1 {
		t.Fatalf("old session: %q, %v, %d renewals; want one renewal and a new cookie", uid, err, st.renewals)
	}
	if _, _, err := auth(); err != nil || st.renewals != 1 {
		t.Errorf("just renewed: %v, %d renewals; want no second write", err, st.renewals)
	}
	ls, err := sq.GetLoginSession(context.Background(), HashToken(token))
	if err != nil || !ls.ExpiresAt.After(now.Add(ttl-time.Minute)) {
		t.Errorf("stored session %+v, %v; want the expiry moved a full lifetime ahead", ls, err)
	}
	if ls.TokenHash == token || len(ls.TokenHash) != 64 {
		t.Error("the token is stored as it is, not hashed")
	}
	now = now.Add(ttl + time.Hour)
	if _, w, err := auth(); err == nil || len(w.Result().Cookies()) != 1 || w.Result().Cookies()[0].MaxAge >= 0 {
		t.Errorf("expired session: %v, want unauthenticated and the cookie cleared", err)
	}
	if _, err := sq.GetLoginSession(context.Background(), "nope"); err == nil {
		t.Error("unknown session found")
	}
}
