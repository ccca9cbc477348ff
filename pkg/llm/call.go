package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Attempt makes one request to a provider, passes every piece of text to emit as it arrives and
// returns the name of the model that answered. It marks failures worth a retry with transient.
type Attempt func(ctx context.Context, emit func(string) error) (model string, err error)

// Policy is what every network provider shares: a deadline for the whole call and one retry.
type Policy struct {
	// Provider names the provider in errors and logs.
	Provider string
	// Timeout bounds the whole call, its retry included.
	Timeout time.Duration
	// RetryDelay is the pause before the one retry.
	RetryDelay time.Duration
}

// transientError marks a failure that a second Attempt may not meet: a connection error, 408, 429,
// 5xx, or a stream that broke before any text came.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// Transient marks err as worth one retry.
func Transient(err error) error { return &transientError{err: err} }

// IsTransient reports whether err was marked by Transient: a failure worth one retry.
func IsTransient(err error) bool {
	var t *transientError
	return errors.As(err, &t)
}

// TransientStatus reports whether an HTTP status is worth one retry.
func TransientStatus(status int) bool {
	return status == 408 || status == 429 || status >= 500
}

// deltaError carries the error of the caller's onDelta through a provider, untouched.
type deltaError struct{ err error }

func (e *deltaError) Error() string { return e.err.Error() }
func (e *deltaError) Unwrap() error { return e.err }

// Call runs try under the policy: one deadline for the call, one retry of a transient failure
// when no text has reached onDelta yet (never after), failures wrapped with ErrUnavailable, the
// caller's cancellation returned as ctx.Err(), onDelta's error returned as is. On failure the Reply
// holds the text onDelta accepted so far.
func (p Policy) Call(ctx context.Context, onDelta func(string) error, try Attempt) (Reply, error) {
	var text strings.Builder
	emitted := false
	emit := func(s string) error {
		if s == "" {
			return nil
		}
		emitted = true
		if onDelta != nil {
			if err := onDelta(s); err != nil {
				return &deltaError{err: err}
			}
		}
		text.WriteString(s)
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	for n := 1; ; n++ {
		model, err := try(dctx, emit)
		if err == nil {
			return Reply{Text: text.String(), Model: model}, nil
		}
		partial := Reply{Text: text.String()}
		var de *deltaError
		if errors.As(err, &de) {
			return partial, de.err
		}
		if ctx.Err() != nil {
			return partial, ctx.Err()
		}
		if dctx.Err() != nil {
			return partial, fmt.Errorf("%s: no answer within %s: %w", p.Provider, p.Timeout, ErrUnavailable)
		}
		if n == 1 && !emitted && IsTransient(err) {
			slog.WarnContext(ctx, "llm: retrying after a transient failure", "provider", p.Provider, "err", err)
			if sleep(dctx, p.RetryDelay) {
				continue
			}
			if ctx.Err() != nil {
				return partial, ctx.Err()
			}
		}
		return partial, fmt.Errorf("%s: %w: %w", p.Provider, ErrUnavailable, err)
	}
}

// sleep waits d and reports whether ctx is still live afterwards.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
