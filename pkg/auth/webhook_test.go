package auth

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

func TestDecodeEvent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		field      string // "" when valid
	}{
		{"revocation", `{"event":"authorization.revoked","eventId":"e1","appScopedUserId":"asu","reason":"user_revoked"}`, ""},
		{"type key and unknown fields", `{"type":"authorization.revoked","eventId":"e1","appScopedUserId":"asu","reason":"user_revoked","appId":"x","extra":{"a":1}}`, ""},
		{"test delivery without user", `{"eventId":"e2","reason":"test_delivery"}`, ""},
		{"no eventId", `{"appScopedUserId":"asu","reason":"user_revoked"}`, "eventId"},
		{"no user", `{"eventId":"e1","reason":"user_revoked"}`, "appScopedUserId"},
		{"no reason", `{"eventId":"e1","appScopedUserId":"asu"}`, "reason"},
		{"number id", `{"eventId":1,"appScopedUserId":"asu","reason":"user_revoked"}`, "eventId"},
		{"other event", `{"event":"user.updated","eventId":"e1","appScopedUserId":"asu","reason":"x"}`, "event"},
		{"control characters", `{"eventId":"e\u0001","appScopedUserId":"asu","reason":"user_revoked"}`, "eventId"},
		{"trailing data", `{"eventId":"e1","appScopedUserId":"asu","reason":"user_revoked"} {}`, "body"},
		{"array", `[{"eventId":"e1"}]`, "body"},
		{"invalid UTF-8", "{\"eventId\":\"\xff\"}", "body"},
		{"empty", ``, "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeEvent([]byte(tc.body))
			if tc.field == "" {
				if err != nil {
					t.Errorf("DecodeEvent: %v", err)
				}
				return
			}
			var e *fault.Error
			if !errors.As(err, &e) || e.Code != fault.CodeInvalidArgument || e.Fields[tc.field] == "" {
				t.Errorf("DecodeEvent = %v, want invalid_argument naming %s", err, tc.field)
			}
		})
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"event":"authorization.revoked","eventId":"e1","appScopedUserId":"asu","reason":"user_revoked"}`))
	f.Add([]byte(`{"eventId":"e2","reason":"test_delivery"}`))
	f.Add([]byte(`{"eventId":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := DecodeEvent(body)
		if err != nil {
			var e *fault.Error
			if !errors.As(err, &e) || e.Code != fault.CodeInvalidArgument {
				t.Fatalf("error %v is not a 400", err)
			}
			return
		}
		if ev.EventID == "" || ev.Reason == "" || (ev.AppScopedUserID == "" && ev.Reason != ReasonTestDelivery) {
			t.Fatalf("accepted an incomplete event %+v", ev)
		}
	})
}

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	at := time.Unix(1767225600, 0)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1767225600", at, true},
		{"1767225600000", at, true},
		{" 1767225600 ", at, true},
		{"", time.Time{}, false},
		{"-5", time.Time{}, false},
		{"2026-01-01T00:00:00Z", time.Time{}, false},
		{"99999999999999999999", time.Time{}, false},
	} {
		got, ok := parseTimestamp(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseTimestamp(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestWebhookSignature(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{"", AlgHMACSHA256Hex, AlgHMACSHA256Base64} {
		h, err := NewWebhook(nil, WebhookConfig{Secret: []byte("k"), Algorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(`{"a":1}`)
		sig := h.Sign(body)
		for _, ok := range []string{sig, "sha256=" + sig} {
			if !h.validSignature(ok, body) {
				t.Errorf("%s: %q refused", alg, ok)
			}
		}
		for _, bad := range []string{"", sig[:len(sig)-1], h.Sign([]byte(`{"a":2}`))} {
			if h.validSignature(bad, body) {
				t.Errorf("%s: %q accepted", alg, bad)
			}
		}
	}
	if _, err := NewWebhook(nil, WebhookConfig{Algorithm: "md5"}); err == nil {
		t.Error("unknown algorithm accepted")
	}
}

// TestReplayAfterTheEventRecordIsGone delivers a revocation, lets the person sign in again a month
// later, and replays the captured delivery with a fresh timestamp (the timestamp is not signed) once the
// event's record has expired: the replay does not revoke the grant made after the first delivery.
func TestReplayAfterTheEventRecordIsGone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "twin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	clock := now.Add(-eventRetention - 24*time.Hour) // the first delivery: its record has expired by now
	h, err := NewWebhook(st, WebhookConfig{Secret: []byte("k"), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"event":"authorization.revoked","eventId":"evt-1","appScopedUserId":"asu_1","reason":"user_revoked"}`)
	deliver := func() error {
		r := httptest.NewRequest(http.MethodPost, "/api/webhooks/secondme", bytes.NewReader(body))
		r.Header.Set(DefaultSignatureHeader, h.Sign(body))
		r.Header.Set(DefaultTimestampHeader, strconv.FormatInt(clock.Unix(), 10))
		_, err := h.Receive(ctx, r.Header, body)
		return err
	}
	userID := id.New()
	ident := store.Identity{Provider: store.ProviderSecondMe, Subject: "asu_1", UserID: userID, SealedTokens: []byte("first grant"),
		TokenExpiresAt: clock.Add(time.Hour), CreatedAt: clock, UpdatedAt: clock}
	if err := st.CreateIdentity(ctx, ident); err != nil {
		t.Fatal(err)
	}
	if err := deliver(); err != nil {
		t.Fatalf("first delivery: %v, want it accepted", err)
	}
	if got, _ := st.GetIdentity(ctx, ident.Provider, ident.Subject); !got.Revoked || got.SealedTokens != nil {
		t.Fatalf("after the first delivery: revoked=%v tokens=%q, want revoked without tokens", got.Revoked, got.SealedTokens)
	}

	// A month later the person signs in again, as Service does: fresh tokens, the revoked mark cleared.
	clock = now
	again, err := st.GetIdentity(ctx, ident.Provider, ident.Subject)
	if err != nil {
		t.Fatal(err)
	}
	again.SealedTokens, again.TokenExpiresAt, again.Revoked, again.UpdatedAt = []byte("second grant"), now.Add(time.Hour), false, now
	if err := st.PutIdentity(ctx, again); err != nil {
		t.Fatal(err)
	}
	login := store.LoginSession{TokenHash: "hash-" + userID, UserID: userID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := st.CreateLoginSession(ctx, login); err != nil {
		t.Fatal(err)
	}

	if err := deliver(); err == nil {
		t.Errorf("replay after the event record expired: accepted, want it refused")
	}
	got, err := st.GetIdentity(ctx, ident.Provider, ident.Subject)
	if err != nil || got.Revoked || string(got.SealedTokens) != "second grant" {
		t.Errorf("after the replay: revoked=%v tokens=%q (%v), want the second grant untouched", got.Revoked, got.SealedTokens, err)
	}
	if _, err := st.GetLoginSession(ctx, login.TokenHash); err != nil {
		t.Errorf("the replay ended the person's login session: %v", err)
	}
}

// TestWebhookSecretRotation: while SecondMe rotates the webhook secret, deliveries signed with the new
// or the previous secret are accepted, a forged one is not, a replay is still refused whichever secret
// signed it, and once the previous secret is removed its signatures are refused.
func TestWebhookSecretRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "twin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now()
	h, err := NewWebhook(st, WebhookConfig{Secret: []byte("new"), PreviousSecret: []byte("old"), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	signer := func(secret string) *Webhook {
		s, _ := NewWebhook(nil, WebhookConfig{Secret: []byte(secret)})
		return s
	}
	deliver := func(secret, eventID, subject string) error {
		body := []byte(`{"event":"authorization.revoked","eventId":"` + eventID + `","appScopedUserId":"` + subject + `","reason":"user_revoked"}`)
		hdr := http.Header{}
		hdr.Set(DefaultSignatureHeader, signer(secret).Sign(body))
		hdr.Set(DefaultTimestampHeader, strconv.FormatInt(now.Unix(), 10))
		_, err := h.Receive(ctx, hdr, body)
		return err
	}
	code := func(err error) string {
		var e *fault.Error
		if errors.As(err, &e) {
			return e.Code
		}
		return ""
	}
	for _, subject := range []string{"asu_old", "asu_new"} {
		ident := store.Identity{Provider: store.ProviderSecondMe, Subject: subject, UserID: id.New(), SealedTokens: []byte("grant"),
			TokenExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
		if err := st.CreateIdentity(ctx, ident); err != nil {
			t.Fatal(err)
		}
	}
	if err := deliver("old", "evt-old", "asu_old"); err != nil {
		t.Errorf("signed with the previous secret: %v, want it accepted", err)
	}
	if err := deliver("new", "evt-new", "asu_new"); err != nil {
		t.Errorf("signed with the current secret: %v, want it accepted", err)
	}
	for _, subject := range []string{"asu_old", "asu_new"} {
		if got, _ := st.GetIdentity(ctx, store.ProviderSecondMe, subject); !got.Revoked {
			t.Errorf("%s not revoked", subject)
		}
	}
	if err := deliver("forged", "evt-forged", "asu_new"); code(err) != fault.CodeUnauthenticated {
		t.Errorf("forged signature: %v, want unauthenticated", err)
	}
	if err := deliver("new", "evt-old", "asu_old"); code(err) != fault.CodeConflict {
		t.Errorf("replay signed with the other secret: %v, want conflict", err)
	}
	h.SetSecrets([]byte("new"), nil)
	if err := deliver("old", "evt-late", "asu_old"); code(err) != fault.CodeUnauthenticated {
		t.Errorf("previous secret after the rotation ended: %v, want unauthenticated", err)
	}
	h.SetSecrets(nil, []byte("old"))
	if err := deliver("old", "evt-none", "asu_old"); code(err) != fault.CodeUpstreamUnavailable {
		t.Errorf("only a previous secret: %v, want unavailable (not configured)", err)
	}
}
