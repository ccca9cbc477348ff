package store

import "time"

// RematchDecision is what MarkRematch tells the caller to do with a person's edit.
type RematchDecision int

// Decisions of MarkRematch.
const (
	// RematchNow means no window was open: one opened now, dirty; the rematch is to be sent at once
	// (the deterministic part) and for the end of the window (the model part).
	RematchNow RematchDecision = iota
	// RematchAtWindowEnd means a window was open and clean (opened by the rematch of the last
	// window's end): the person is now marked dirty; the rematch is to be sent at once (the
	// deterministic part) and for the end of the window (the model part).
	RematchAtWindowEnd
	// RematchCoalesced means the person was already dirty: the rematch sent for the window's end will
	// read this edit too, so nothing is to be sent.
	RematchCoalesced
)

// Deferral is a pair whose match was stored without its model part because a budget ran out; the
// nightly rematch resumes them, the longest deferred first.
type Deferral struct {
	A, B string // A < B
	// Since is when the model part was first deferred.
	Since time.Time
}
