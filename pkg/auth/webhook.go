package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/store"
)

// Webhook defaults (docs/secondme-api.md, Revocation webhook).
const (
	DefaultSignatureHeader = "X-SecondMe-Signature"
	DefaultTimestampHeader = "X-SecondMe-Timestamp"
	// AlgHMACSHA256Hex is HMAC-SHA256 over the raw body, hex encoded (the default).
	AlgHMACSHA256Hex = "hmac-sha256-hex"
	// AlgHMACSHA256Base64 is HMAC-SHA256 over the raw body, base64 encoded.
	AlgHMACSHA256Base64 = "hmac-sha256-base64"
	// WebhookWindow is how far a delivery's timestamp may be from now, either way.
	WebhookWindow = 5 * time.Minute
	// eventRetention is how long a delivered eventId is remembered to refuse replays. The identity a
	// revocation applied to remembers its eventId for longer (Identity.RevokedBy, maxRevokedBy of them).
	eventRetention = 30 * 24 * time.Hour
	// maxRevokedBy is how many revocation event ids an identity keeps, the newest.
	maxRevokedBy = 32
)

// Webhook event names and reasons.
const (
	EventAuthorizationRevoked = "authorization.revoked"
	ReasonTestDelivery        = "test_delivery"
)

// WebhookConfig configures the revocation webhook.
type WebhookConfig struct {
	// Secret is the per-app webhook secret; without one every delivery is refused (503).
	Secret []byte
	// PreviousSecret, when set, is the secret before a rotation: deliveries signed with either are
	// accepted until it is removed.
	PreviousSecret []byte
	// SignatureHeader carries the signature (DefaultSignatureHeader when empty).
	SignatureHeader string
	// Algorithm is AlgHMACSHA256Hex (default) or AlgHMACSHA256Base64.
	Algorithm string
	// TimestampHeader carries the delivery time in epoch seconds or milliseconds (DefaultTimestampHeader when empty).
	TimestampHeader string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives the webhook's log lines (slog.Default() when nil).
	Logger *slog.Logger
}

// Webhook receives SecondMe's signed revocation webhook (POST /api/webhooks/secondme). It is
// authenticated by its signature alone.
type Webhook struct {
	cfg     WebhookConfig
	secrets atomic.Pointer[webhookSecrets]
	st      IdentityStore
	mac     func() hash.Hash
	enc     func([]byte) string
	hexSig  bool
	log     *slog.Logger
}

// NewWebhook returns the webhook receiver; an unknown algorithm is an error.
func NewWebhook(st IdentityStore, cfg WebhookConfig) (*Webhook, error) {
	if cfg.SignatureHeader == "" {
		cfg.SignatureHeader = DefaultSignatureHeader
	}
	if cfg.TimestampHeader == "" {
		cfg.TimestampHeader = DefaultTimestampHeader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Webhook{cfg: cfg, st: st, mac: sha256.New, log: loggerOr(cfg.Logger)}
	h.SetSecrets(cfg.Secret, cfg.PreviousSecret)
	switch strings.ToLower(cfg.Algorithm) {
	case "", AlgHMACSHA256Hex:
		h.enc, h.hexSig = hex.EncodeToString, true
	case AlgHMACSHA256Base64:
		h.enc = base64.StdEncoding.EncodeToString
	default:
		return nil, fmt.Errorf("webhook algorithm %q: want %s or %s", cfg.Algorithm, AlgHMACSHA256Hex, AlgHMACSHA256Base64)
	}
	return h, nil
}

// webhookSecrets are the secrets a signature is checked against.
type webhookSecrets struct{ current, previous []byte }

// SetSecrets replaces the webhook secrets while the Webhook is in use: current signs (Sign) and is
// accepted; previous, when not empty, is accepted too, for the time SecondMe may still sign with it.
func (h *Webhook) SetSecrets(current, previous []byte) {
	h.secrets.Store(&webhookSecrets{current: current, previous: previous})
}

// Sign returns the signature of body with the current secret, as SecondMe sends it (for tests and tools).
func (h *Webhook) Sign(body []byte) string {
	return h.sign(h.secrets.Load().current, body)
}

// sign returns the signature of body with secret.
func (h *Webhook) sign(secret, body []byte) string {
	m := hmac.New(h.mac, secret)
	m.Write(body)
	return h.enc(m.Sum(nil))
}

// Event is a webhook delivery.
type Event struct {
	Event           string `json:"event"`
	Type            string `json:"type"`
	EventID         string `json:"eventId"`
	AppScopedUserID string `json:"appScopedUserId"`
	Reason          string `json:"reason"`
}

// maxIDLength bounds eventId and appScopedUserId.
const maxIDLength = 256

// DecodeEvent decodes a webhook body strictly: one JSON object (valid UTF-8, nothing after it) whose
// known fields have the right types, with an eventId, a reason, an appScopedUserId unless it is a
// test delivery, and, when an event name is given, authorization.revoked. Unknown fields are
// ignored, so that a field SecondMe adds does not lose a revocation.
func DecodeEvent(body []byte) (Event, error) {
	if !utf8.Valid(body) {
		return Event{}, fault.Invalid("body", "not valid UTF-8")
	}
	if b := bytes.TrimSpace(body); len(b) == 0 || b[0] != '{' {
		return Event{}, fault.Invalid("body", "must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var ev Event
	if err := dec.Decode(&ev); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return Event{}, fault.Invalid(te.Field, "must be a string")
		}
		return Event{}, fault.Invalid("body", "malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Event{}, fault.Invalid("body", "unexpected data after the JSON object")
	}
	f := fault.Fields{}
	checkID := func(name, v string, required bool) {
		switch {
		case v == "" && required:
			f.Add(name, "required")
		case len(v) > maxIDLength:
			f.Add(name, fmt.Sprintf("at most %d bytes", maxIDLength))
		case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			f.Add(name, "contains control characters")
		}
	}
	checkID("eventId", ev.EventID, true)
	checkID("reason", ev.Reason, true)
	checkID("appScopedUserId", ev.AppScopedUserID, ev.Reason != ReasonTestDelivery)
	for name, v := range map[string]string{"event": ev.Event, "type": ev.Type} {
		if v != "" && v != EventAuthorizationRevoked {
			f.Add(name, "must be "+EventAuthorizationRevoked)
		}
	}
	if err := f.Err(); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// Receive takes a delivery of POST /api/webhooks/secondme (its headers and body; the HTTP layer bounds
// the body) and returns the status to answer, "ok" or "revoked". In order: the signature
// (401 when missing or wrong, compared in constant time), the timestamp (401 when outside the
// 5-minute window either way), the event (400 when malformed), then the eventId (409 when seen
// before: a replay changes nothing). A test delivery answers 200 and changes nothing. A revocation
// deletes the identity's tokens, marks it revoked, records the eventId on the identity and ends the
// person's login sessions, then returns "revoked"; a failure before that is a 5xx, so SecondMe retries.
//
// The timestamp is not signed, so a captured delivery can be sent again with a fresh one. Its event
// record refuses it for eventRetention; after that, the identity's record of the revocations applied
// to it does (409 as well), so that a replay never revokes the grant the person made since.
func (h *Webhook) Receive(ctx context.Context, header http.Header, body []byte) (string, error) {
	if len(h.secrets.Load().current) == 0 {
		h.log.ErrorContext(ctx, "secondme webhook received but no webhook secret is configured")
		return "", fault.Unavailable("webhook not configured")
	}
	if !h.validSignature(header.Get(h.cfg.SignatureHeader), body) {
		h.log.WarnContext(ctx, "secondme webhook refused: bad signature")
		return "", fault.Errorf(fault.CodeUnauthenticated, "invalid webhook signature")
	}
	now := h.cfg.Now()
	at, ok := parseTimestamp(header.Get(h.cfg.TimestampHeader))
	if !ok || now.Sub(at).Abs() > WebhookWindow {
		h.log.WarnContext(ctx, "secondme webhook refused: timestamp outside the window")
		return "", fault.Errorf(fault.CodeUnauthenticated, "webhook timestamp missing or outside the %s window", WebhookWindow)
	}
	ev, err := DecodeEvent(body)
	if err != nil {
		return "", err
	}
	if ev.Reason == ReasonTestDelivery {
		h.log.InfoContext(ctx, "secondme webhook test delivery", "event_id", ev.EventID)
		return "ok", nil
	}
	if err := h.st.ClaimEvent(ctx, "secondme-webhook:"+ev.EventID, now.Add(eventRetention)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			h.log.WarnContext(ctx, "secondme webhook replay refused", "event_id", ev.EventID)
			return "", fault.Errorf(fault.CodeConflict, "event %s was already received", ev.EventID)
		}
		return "", fmt.Errorf("claim webhook event: %w", err)
	}
	userID, err := h.revoke(ctx, ev, now)
	if errors.Is(err, errRevokedBefore) {
		h.log.WarnContext(ctx, "secondme webhook replay refused: the identity was revoked by this event before", "event_id", ev.EventID)
		return "", fault.Errorf(fault.CodeConflict, "event %s was already received", ev.EventID)
	}
	if err != nil {
		return "", err
	}
	h.log.InfoContext(ctx, "secondme authorization revoked", "event_id", ev.EventID, "user_id", userID, "reason", ev.Reason)
	return "revoked", nil
}

// errRevokedBefore means that the event's revocation was applied to the identity before.
var errRevokedBefore = errors.New("the identity was revoked by this event before")

// revoke deletes the tokens of the SecondMe identity of the event, marks it revoked, records the
// event on it and ends the person's login sessions. An unknown identity has nothing to revoke; an
// identity the event revoked before is errRevokedBefore, and nothing changes: its tokens, if any,
// come from a grant made since.
func (h *Webhook) revoke(ctx context.Context, ev Event, now time.Time) (string, error) {
	ident, err := h.st.GetIdentity(ctx, store.ProviderSecondMe, ev.AppScopedUserID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get revoked identity: %w", err)
	}
	if slices.Contains(ident.RevokedBy, ev.EventID) {
		return ident.UserID, errRevokedBefore
	}
	ident.RevokedBy = append(ident.RevokedBy, ev.EventID)
	ident.RevokedBy = ident.RevokedBy[max(0, len(ident.RevokedBy)-maxRevokedBy):]
	ident.SealedTokens, ident.TokenExpiresAt, ident.Revoked, ident.UpdatedAt = nil, time.Time{}, true, now.UTC()
	if err := h.st.PutIdentity(ctx, ident); err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("revoke identity: %w", err)
	}
	if err := h.st.DeleteUserLoginSessions(ctx, ident.UserID); err != nil {
		return "", fmt.Errorf("end sessions of a revoked identity: %w", err)
	}
	return ident.UserID, nil
}

// validSignature compares the header (optionally prefixed "sha256=") with the body's signature by the
// current secret and, when there is one, the previous one, each in constant time (hex
// case-insensitively).
func (h *Webhook) validSignature(header string, body []byte) bool {
	got := strings.TrimPrefix(strings.TrimSpace(header), "sha256=")
	if h.hexSig {
		got = strings.ToLower(got)
	}
	sec := h.secrets.Load()
	ok := hmac.Equal([]byte(got), []byte(h.sign(sec.current, body)))
	if len(sec.previous) > 0 {
		ok = hmac.Equal([]byte(got), []byte(h.sign(sec.previous, body))) || ok
	}
	return got != "" && ok
}

// parseTimestamp reads epoch seconds, or epoch milliseconds (values past the year 33658).
func parseTimestamp(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	if n > 1e12 {
		if n > math.MaxInt64/int64(time.Millisecond) {
			return time.Time{}, false
		}
		return time.UnixMilli(n), true
	}
	return time.Unix(n, 0), true
}
