package secondme

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// SubCodes of the SecondMe API worth telling apart (docs/secondme-api.md, Envelope).
const (
	SubTokenInvalid          = "oauth2.token.invalid"
	SubTokenExpired          = "oauth2.token.expired"
	SubTokenRevoked          = "oauth2.token.revoked"
	SubAuthorizationRevoked  = "oauth2.authorization.revoked"
	SubCodeInvalid           = "oauth2.code.invalid"
	SubCodeExpired           = "oauth2.code.expired"
	SubCodeUsed              = "oauth2.code.used"
	SubRedirectURIMismatch   = "oauth2.redirect_uri.mismatch"
	SubClientSecretMismatch  = "oauth2.client.secret_mismatch"
	SubRefreshTokenInvalid   = "oauth2.refresh_token.invalid"
	SubRefreshTokenExpired   = "oauth2.refresh_token.expired"
	SubRefreshTokenRevoked   = "oauth2.refresh_token.revoked"
	SubScopeInsufficient     = "oauth2.scope.insufficient"
	SubSessionNotFound       = "secondme.session.not_found"
	SubSessionUnauthorized   = "secondme.session.unauthorized"
	SubStreamError           = "secondme.stream.error"
	SubInternalError         = "internal.error"
	SubConnectionError       = "connection.error"
	SubInvalidParam          = "invalid.param"
	subRefreshTokenPrefix    = "oauth2.refresh_token."
	subCodePrefix            = "oauth2.code."
	subClientPrefix          = "oauth2.client."
	subTokenPrefix           = "oauth2.token."
	maxErrorMessageCharacter = 300
)

// Error is an error answer of the SecondMe API: the status (the envelope's code, or the HTTP status
// when the envelope has none), the subCode ("module.resource.reason"; from `subCode` or the older
// `error_code`) and the message (or `detail`).
type Error struct {
	Status  int
	SubCode string
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "secondme: %d", e.Status)
	if e.SubCode != "" {
		b.WriteString(" " + e.SubCode)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// asError returns the *Error in err's chain, or nil.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// SubCodeOf returns the subCode of a SecondMe error, "" for any other error.
func SubCodeOf(err error) string {
	if e := asError(err); e != nil {
		return e.SubCode
	}
	return ""
}

// IsTokenInvalid reports whether the access token was refused: oauth2.token.invalid, expired or
// revoked, or a 401 without a subCode (the `{"detail": ...}` answer). Refresh, then sign in again.
func IsTokenInvalid(err error) bool {
	e := asError(err)
	if e == nil {
		return false
	}
	return strings.HasPrefix(e.SubCode, subTokenPrefix) || (e.SubCode == "" && e.Status == http.StatusUnauthorized)
}

// IsAuthRevoked reports whether the person revoked the app (oauth2.authorization.revoked).
func IsAuthRevoked(err error) bool {
	e := asError(err)
	return e != nil && e.SubCode == SubAuthorizationRevoked
}

// IsRefreshInvalid reports whether a refresh token was refused (oauth2.refresh_token.invalid, expired
// or revoked): the person must sign in again.
func IsRefreshInvalid(err error) bool {
	e := asError(err)
	return e != nil && strings.HasPrefix(e.SubCode, subRefreshTokenPrefix)
}

// IsCodeInvalid reports whether an authorization code was refused (oauth2.code.invalid, expired or used).
func IsCodeInvalid(err error) bool {
	e := asError(err)
	return e != nil && strings.HasPrefix(e.SubCode, subCodePrefix)
}

// IsMisconfigured reports whether SecondMe refused the app's own credentials or settings
// (oauth2.redirect_uri.mismatch, oauth2.client.*): an operator must fix the configuration.
func IsMisconfigured(err error) bool {
	e := asError(err)
	return e != nil && (e.SubCode == SubRedirectURIMismatch || strings.HasPrefix(e.SubCode, subClientPrefix))
}

// IsScopeInsufficient reports whether the app lacks a scope for the call (oauth2.scope.insufficient).
func IsScopeInsufficient(err error) bool {
	e := asError(err)
	return e != nil && e.SubCode == SubScopeInsufficient
}

// IsNotFound reports whether SecondMe answered 404 (an unknown endpoint or record).
func IsNotFound(err error) bool {
	e := asError(err)
	return e != nil && e.Status == http.StatusNotFound
}

// IsTemporary reports whether the failure may pass on its own: 408, 429, any 5xx, or connection.error.
func IsTemporary(err error) bool {
	e := asError(err)
	if e == nil {
		return false
	}
	return e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests ||
		e.Status >= 500 || e.SubCode == SubConnectionError
}

// NeedsSignIn reports whether the failure can only be cured by signing in with SecondMe again: a
// refused refresh token, a revoked authorization, or a refused access token.
func NeedsSignIn(err error) bool {
	return IsRefreshInvalid(err) || IsAuthRevoked(err) || IsTokenInvalid(err)
}
