// Package api is the HTTP layer shared by every function: JSON decoding and validation, the one error
// table, routing with JSON 404 and 405 answers, and the middleware (request ids, access logs, panic
// recovery, same-origin checks, sign-in).
package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/store"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	fault.CodeInvalidArgument:      http.StatusBadRequest,
	fault.CodeUnauthenticated:      http.StatusUnauthorized,
	fault.CodePermissionDenied:     http.StatusForbidden,
	fault.CodeNotFound:             http.StatusNotFound,
	fault.CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	fault.CodeConflict:             http.StatusConflict,
	fault.CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	fault.CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	fault.CodeRateLimited:          http.StatusTooManyRequests,
	fault.CodeUpstreamUnavailable:  http.StatusBadGateway,
	fault.CodeInternal:             http.StatusInternalServerError,
}

// Status returns the HTTP status of e: the table's status for its code, 503 for a temporary
// upstream_unavailable, 500 for a code the table does not know.
func Status(e *fault.Error) int {
	if e.Temporary && e.Code == fault.CodeUpstreamUnavailable {
		return http.StatusServiceUnavailable
	}
	if s, ok := statusOf[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// StatusClientClosed is the status logged for a request whose client went away before the answer
// (nginx's 499). The client never sees it.
const StatusClientClosed = 499

// FromError converts any error into the *fault.Error a client sees. Store sentinels map to their codes;
// anything else becomes internal, and its cause is for the log only. (A request whose client went
// away is WriteError's to tell: a cancel, answered 499 and never logged as a fault.)
func FromError(err error) *fault.Error {
	var e *fault.Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrNotFound):
		return fault.NotFound("record")
	case errors.Is(err, store.ErrBadCursor):
		return fault.Invalid("cursor", "not a cursor of this listing")
	case errors.Is(err, store.ErrConflict):
		return fault.New(fault.CodeConflict, "the record changed; try again")
	case errors.Is(err, store.ErrQuotaExceeded):
		return &fault.Error{Code: fault.CodeRateLimited, Message: "daily quota reached", RetryAfter: time.Hour}
	case errors.Is(err, context.DeadlineExceeded):
		return fault.Unavailable("timed out")
	}
	return fault.New(fault.CodeInternal, "internal error")
}

// clientGone reports whether the client of r went away: its context was canceled (net/http cancels
// it when the connection closes).
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// retryAfterHeader formats a wait for the Retry-After header: whole seconds, rounded up.
func retryAfterHeader(d time.Duration) string { return strconv.Itoa(int(math.Ceil(d.Seconds()))) }
