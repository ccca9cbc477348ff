// Package api is the HTTP layer shared by every function: JSON decoding and validation, the one error
// table, routing with JSON 404 and 405 answers, and the middleware (request ids, access logs, panic
// recovery, same-origin checks, sign-in).
package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/secondme/twin/pkg/store"
)

// Error codes of the HTTP API (DESIGN §3).
const (
	CodeInvalidArgument      = "invalid_argument"
	CodeUnauthenticated      = "unauthenticated"
	CodePermissionDenied     = "permission_denied"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeConflict             = "conflict"
	CodePayloadTooLarge      = "payload_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRateLimited          = "rate_limited"
	CodeUpstreamUnavailable  = "upstream_unavailable"
	CodeInternal             = "internal"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	CodeInvalidArgument:      http.StatusBadRequest,
	CodeUnauthenticated:      http.StatusUnauthorized,
	CodePermissionDenied:     http.StatusForbidden,
	CodeNotFound:             http.StatusNotFound,
	CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	CodeConflict:             http.StatusConflict,
	CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	CodeRateLimited:          http.StatusTooManyRequests,
	CodeUpstreamUnavailable:  http.StatusBadGateway,
	CodeInternal:             http.StatusInternalServerError,
}

// Error is an error a client may see: a code from the table, a message, and the fields at fault.
type Error struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header (seconds).
	RetryAfter int `json:"-"`
	// Status overrides the table's status for the code (503 rather than 502 for upstream_unavailable).
	Status int `json:"-"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// HTTPStatus returns the status of the error.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	if s, ok := statusOf[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Errorf returns an *Error with a code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an invalid_argument error naming one field and why it is wrong.
func Invalid(field, why string) *Error {
	return &Error{Code: CodeInvalidArgument, Message: field + ": " + why, Fields: map[string]string{field: why}}
}

// NotFound returns a not_found error for a kind of thing ("session", "user").
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found"}
}

// Fields collects validation failures and returns them as one invalid_argument error.
type Fields map[string]string

// Add records why a field is wrong, keeping the first reason for each field.
func (f Fields) Add(field, why string) {
	if _, ok := f[field]; !ok {
		f[field] = why
	}
}

// Err returns nil when no field failed, else an invalid_argument error naming every failed field.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	msg := "invalid fields:"
	for _, k := range sortedKeys(f) {
		msg += " " + k + " (" + f[k] + ")"
	}
	return &Error{Code: CodeInvalidArgument, Message: msg, Fields: f}
}

// StatusClientClosed is the status logged for a request whose client went away before the answer
// (nginx's 499). The client never sees it.
const StatusClientClosed = 499

// FromError converts any error into the *Error a client sees. Store sentinels map to their codes;
// anything else becomes internal, and its cause is for the log only. (A request whose client went
// away is WriteError's to tell: a cancel, answered 499 and never logged as a fault.)
func FromError(err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrNotFound):
		return NotFound("record")
	case errors.Is(err, store.ErrBadCursor):
		return Invalid("cursor", "not a cursor of this listing")
	case errors.Is(err, store.ErrConflict):
		return Errorf(CodeConflict, "the record changed; try again")
	case errors.Is(err, store.ErrQuotaExceeded):
		return &Error{Code: CodeRateLimited, Message: "daily quota reached", RetryAfter: 3600}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Code: CodeUpstreamUnavailable, Message: "timed out", Status: http.StatusServiceUnavailable}
	}
	return &Error{Code: CodeInternal, Message: "internal error"}
}

// clientGone reports whether the client of r went away: its context was canceled (net/http cancels
// it when the connection closes).
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// retryAfterHeader formats seconds for the Retry-After header.
func retryAfterHeader(seconds int) string { return strconv.Itoa(seconds) }
