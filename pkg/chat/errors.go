package chat

import (
	"errors"
	"time"

	"github.com/secondme/twin/pkg/fault"
)

// Errors of the chat service that a client sees as they are (the HTTP layer maps their codes).
var (
	// ErrSessionNotFound means the session does not exist or belongs to someone else.
	ErrSessionNotFound = fault.NotFound("session")
	// ErrTwinNotFound means the twin's person does not exist, is not discoverable, or one of the two
	// blocked the other.
	ErrTwinNotFound = fault.NotFound("twin")
	// ErrTwinRefused means the twin's person does not take twin chats.
	ErrTwinRefused = fault.New(fault.CodePermissionDenied, "this twin does not take chats with you")
	// ErrTwinMismatch means a turn named a session and a twin that is not the session's.
	ErrTwinMismatch = fault.Invalid("twinId", "not the twin of this session")
	// ErrTurnConflict means the clientMessageId was used in this session by a turn that is either
	// running right now or too old to be replayed.
	ErrTurnConflict = fault.New(fault.CodeConflict,
		"clientMessageId was already used in this session by a turn that is running or too old to replay")
)

// ErrClientGone means the client went away during the turn; whatever the model wrote was saved as an
// incomplete reply. Nobody is left to read an answer, so the HTTP layer writes none.
var ErrClientGone = errors.New("client went away")

// QuotaError means the person's daily quota of model calls is spent until RetryAfter has passed.
type QuotaError struct {
	RetryAfter time.Duration
}

func (e *QuotaError) Error() string { return "daily quota of model calls reached" }

// ModelError means the model did not answer. The person's message is saved; a retry with the same
// clientMessageId completes the turn.
type ModelError struct {
	// Timeout is true when the model's deadline passed.
	Timeout bool
	Err     error
}

func (e *ModelError) Error() string {
	if e.Timeout {
		return "model timed out"
	}
	return "model unavailable: " + e.Err.Error()
}

func (e *ModelError) Unwrap() error { return e.Err }
