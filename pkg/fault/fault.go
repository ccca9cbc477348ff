// Package fault holds the errors a client may see: a stable code, a message meant for a person, the
// fields at fault and when to retry. Domain packages return them; pkg/api maps each code to its HTTP
// status and writes the JSON error.
package fault

import (
	"fmt"
	"slices"
	"time"
)

// Codes of the errors a client may see. Their values are part of the API's contract: never change one.
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

// Error is an error a client may see: a code, a message, and the fields at fault.
type Error struct {
	Code    string
	Message string
	// Fields maps each field at fault to why it is wrong.
	Fields map[string]string
	// RetryAfter, when set, is how long the client should wait before trying again.
	RetryAfter time.Duration
	// Temporary marks an upstream_unavailable error that may pass soon on its own (a timeout, a
	// provider that cannot be reached): the client should retry. The HTTP layer answers it 503, not 502.
	Temporary bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is reports whether target is an *Error with the same code and message, so that a package may declare
// its errors as variables and callers test them with errors.Is.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Message == e.Message
}

// New returns an *Error with a code and a message.
func New(code, message string) *Error {
	return &Error{Code: code, Message: message}
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

// Unavailable returns a temporary upstream_unavailable error: what the client needs is out of reach for
// now and a retry may succeed.
func Unavailable(message string) *Error {
	return &Error{Code: CodeUpstreamUnavailable, Message: message, Temporary: true}
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
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	msg := "invalid fields:"
	for _, k := range keys {
		msg += " " + k + " (" + f[k] + ")"
	}
	return &Error{Code: CodeInvalidArgument, Message: msg, Fields: f}
}
