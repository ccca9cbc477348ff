package chat

import (
	"errors"
	"time"
)

// Errors of the chat service. The HTTP layer maps each to its status (chatapi).
var (
	// ErrSessionNotFound means the session does not exist or belongs to someone else.
	ErrSessionNotFound = errors.New("session not found")
	// ErrTwinNotFound means the twin's person does not exist, is not discoverable, or one of the two
	// blocked the other.
	ErrTwinNotFound = errors.New("twin not found")
	// ErrTwinRefused means the twin's person does not take twin chats.
	ErrTwinRefused = errors.New("this twin does not take chats with you")
	// ErrTwinMismatch means a turn named a session and a twin that is not the session's.
	ErrTwinMismatch = errors.New("twinId is not the twin of this session")
	// ErrTurnConflict means the clientMessageId was used in this session by a turn that is either
	// running right now or too old to be replayed.
	ErrTurnConflict = errors.New("clientMessageId was already used in this session")
	// ErrClientGone means the client went away during the turn; whatever the model wrote was saved as
	// an incomplete reply.
	ErrClientGone = errors.New("client went away")
)

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
