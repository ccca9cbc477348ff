package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/api"
)

func TestDecodeEvent(t *testing.T) {
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
			var e *api.Error
			if !errors.As(err, &e) || e.Code != api.CodeInvalidArgument || e.Fields[tc.field] == "" {
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
			var e *api.Error
			if !errors.As(err, &e) || e.HTTPStatus() != 400 {
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
