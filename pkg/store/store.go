// Package store holds the records of Second Me and the storage contract that every store implements.
//
// Two stores implement the contract: dynamostore (DynamoDB, deployed) and sqlitestore (SQLite, the
// local stack). The suite in storetest proves both behave the same. Consumers do not import Store:
// each declares the few methods it needs as a small interface of its own.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Sentinel errors of the contract. Implementations wrap them, so callers test with errors.Is.
var (
	// ErrNotFound means the record does not exist (or has expired).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a conditional write failed: the record exists already, or changed since it was read.
	ErrConflict = errors.New("conflict")
	// ErrQuotaExceeded means a quota counter has reached its limit.
	ErrQuotaExceeded = errors.New("quota exceeded")
	// ErrBadCursor means a page cursor was tampered with, or belongs to another listing.
	ErrBadCursor = errors.New("bad cursor")
)

// Confidence levels of a shade, from the SecondMe API.
const (
	ConfidenceVeryHigh = "VERY_HIGH"
	ConfidenceHigh     = "HIGH"
	ConfidenceMedium   = "MEDIUM"
	ConfidenceLow      = "LOW"
	ConfidenceVeryLow  = "VERY_LOW"
)

// Identity providers.
const (
	ProviderSecondMe = "secondme"
	ProviderOIDC     = "oidc"
)

// Message roles.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// User is a person: their profile, privacy switches, shades and key memories.
type User struct {
	ID            string
	Nickname      string
	Avatar        string
	Bio           string
	Provider      string
	Discoverable  bool
	AllowTwinChat bool
	// Language is the language the person reads Second Me in: "zh-CN" or "en" (package lang), "" until
	// they choose one.
	Language string
	Shades   []Shade
	Memories []Memory
	// ProfileVersion increases whenever the shades, memories or bio change; compatibility results
	// record the versions they were computed from.
	ProfileVersion int64
	// ProfileChangedAt is when ProfileVersion last increased; the nightly rematch reads people changed since T.
	ProfileChangedAt time.Time
	// Rev increases on every write; UpdateUser refuses a write whose Rev is not the stored one.
	Rev       int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Shade is one facet of a person's personality. Public is nil when the shade is private to its
// owner's own twin; only Public fields are ever shown to other people or their twins.
type Shade struct {
	ID          string
	Name        string
	Icon        string
	Confidence  string
	Description string
	Content     string
	Topics      []string
	Public      *PublicShade
}

// PublicShade is what other people may see of a shade.
type PublicShade struct {
	Name        string
	Description string
	Content     string
	Topics      []string
}

// Memory is one key memory imported from SecondMe. Memories are private: only the owner's own twin uses them.
type Memory struct {
	ID        string
	Subject   string
	Content   string
	CreatedAt time.Time
}

// Identity links a provider's subject to a user. (Provider, Subject) is unique.
type Identity struct {
	Provider string
	Subject  string
	UserID   string
	// SealedTokens holds the provider tokens sealed with AES-256-GCM; never plaintext.
	SealedTokens []byte
	// TokenExpiresAt is when the access token inside SealedTokens expires.
	TokenExpiresAt time.Time
	Revoked        bool
	// RevokedBy holds the ids of the webhook events whose revocations were applied to the identity,
	// oldest first: a revocation delivered again, even after its event record expired, is known by them.
	RevokedBy []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// LoginSession is a signed-in browser. Only the SHA-256 hash of the cookie token is stored.
type LoginSession struct {
	TokenHash string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ChatSession is a conversation of a person (Owner) with a twin (TwinID; the owner's own id for their own twin).
type ChatSession struct {
	ID          string
	OwnerID     string
	TwinID      string
	Title       string
	LastMessage string
	// Summary is the rolling summary of turns older than the recent window.
	Summary string
	// SummarizedThrough is the id of the newest message folded into Summary.
	SummarizedThrough string
	MessageCount      int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// ChatMessage is one message of a session. IDs are ULIDs, so they sort by time.
type ChatMessage struct {
	ID        string
	SessionID string
	Role      string
	Content   string
	// ClientMessageID makes a user message idempotent within its session.
	ClientMessageID string
	// ReplyTo is, on an assistant message, the id of the user message it answers.
	ReplyTo string
	// Incomplete marks a reply cut short (client gone, model failed mid-stream).
	Incomplete bool
	// Model names the model that wrote an assistant message.
	Model     string
	CreatedAt time.Time
}

// SessionUpdate is what a finished turn changes on its session.
type SessionUpdate struct {
	LastMessage       string
	Summary           string
	SummarizedThrough string
	// AddMessages is how many messages the turn added (counted into MessageCount).
	AddMessages int64
	UpdatedAt   time.Time
}

// Conversation is what a chat turn reads of a session in one call.
type Conversation struct {
	Session ChatSession
	// Messages are the session's newest messages, oldest first.
	Messages []ChatMessage
	// Twin is the person whose twin the session talks with (Session.TwinID); the zero User when there
	// is no such person.
	Twin User
	// Blocked is true when Twin and the session's owner are different people and either blocked the other.
	Blocked bool
}

// Charge is the unit of a daily quota a chat turn consumes once it holds its claim: one on UserID's
// counter for Day (YYYY-MM-DD, UTC), refused when the counter has reached Limit (as ConsumeQuota). The
// zero Charge charges nothing.
type Charge struct {
	UserID string
	Day    string
	Limit  int
}

// Match is the compatibility of two people, stored once per pair with A < B.
type Match struct {
	A, B      string
	Score     int // 0-100
	Reasoning string
	// Highlights and Challenges are short phrases for the reader.
	Highlights []string
	Challenges []string
	// Parts names the parts the score used: "deterministic", and "model" when a model judged it.
	Parts []string
	// Transcript is the twin-to-twin conversation, the evidence both people can read.
	Transcript []TranscriptLine
	// VersionA and VersionB are the profile versions of A and B the match was computed from.
	VersionA, VersionB int64
	Algorithm          string
	ComputedAt         time.Time
}

// TranscriptLine is one message of a twin-to-twin conversation.
type TranscriptLine struct {
	Speaker string // user id of the twin that spoke
	Text    string
}

// MatchEntry is one line of a person's ranked match list: the other person and the score.
type MatchEntry struct {
	UserID     string
	OtherID    string
	Score      int
	ComputedAt time.Time
}

// Block records that Blocker does not want any contact with Blocked.
type Block struct {
	BlockerID string
	BlockedID string
	CreatedAt time.Time
}

// JobState is the saved progress of a periodic job, such as the nightly rematch.
type JobState struct {
	Name string
	// LastRun is when the job last finished.
	LastRun time.Time
	// Cursor is where the rolling slice of the job stopped.
	Cursor    string
	UpdatedAt time.Time
}

// Page is one page of a listing; Next is the opaque cursor of the following page, "" on the last.
type Page[T any] struct {
	Items []T
	Next  string
}

// Store is the whole storage contract. Every request path is a key lookup or a bounded query.
// Methods return ErrNotFound, ErrConflict, ErrQuotaExceeded or ErrBadCursor (wrapped) as stated,
// and other errors only for failures of the store itself.
type Store interface {
	// CreateUser stores a new user; ErrConflict if the id exists.
	CreateUser(ctx context.Context, u User) error
	// GetUser returns a user; ErrNotFound if there is none.
	GetUser(ctx context.Context, id string) (User, error)
	// GetTwin returns the user twinID, whose twin viewerID wants to talk to, and whether either of the
	// two blocked the other, in one read (never blocked when viewerID == twinID); ErrNotFound if there
	// is no user twinID. When viewerID is not twinID, a store may return only the twin's public persona
	// (no memories, no private shade parts) and may serve it from a cache for a short time (the
	// DynamoDB store's WithTwinCache); the blocks are always read.
	GetTwin(ctx context.Context, twinID, viewerID string) (User, bool, error)
	// GetUsers returns the users that exist among ids, in no set order (a batch get; at most 100 ids).
	GetUsers(ctx context.Context, ids []string) ([]User, error)
	// UpdateUser replaces a user if its stored Rev equals u.Rev, and stores it with Rev+1.
	// ErrNotFound if there is none; ErrConflict if it changed since it was read.
	UpdateUser(ctx context.Context, u User) (User, error)
	// ChangedUsers lists users whose ProfileChangedAt is at or after since, oldest change first.
	ChangedUsers(ctx context.Context, since time.Time, cursor string, limit int) (Page[User], error)
	// ScanUsers walks all users in an arbitrary but stable order. Only the nightly job calls it.
	ScanUsers(ctx context.Context, cursor string, limit int) (Page[User], error)
	// EraseUser removes every record of the user: profile, identities, login sessions, chat sessions
	// and their messages, matches on both sides (with their deferrals), blocks in both directions,
	// terms, quota and budget counters, and the rematch window.
	// It also removes, with their messages, the chat sessions other people hold with the user's twin
	// (TwinID == userID): they were built from the user's persona. Other sessions of those people stay.
	// It is safe to retry after a failure part-way, and erasing an unknown user is not an error.
	EraseUser(ctx context.Context, userID string) error
	// EraseAccount removes what makes the user a person others and the sign-in see: their profile,
	// identities and login sessions, at once (a few writes). EraseUser removes the rest later (it needs
	// none of these). Erasing an unknown user's account is not an error.
	EraseAccount(ctx context.Context, userID string) error

	// CreateIdentity stores a new identity; ErrConflict if (Provider, Subject) exists.
	CreateIdentity(ctx context.Context, i Identity) error
	// GetIdentity returns an identity; ErrNotFound if there is none.
	GetIdentity(ctx context.Context, provider, subject string) (Identity, error)
	// PutIdentity replaces an existing identity (tokens, revoked flag); ErrNotFound if there is none.
	PutIdentity(ctx context.Context, i Identity) error
	// ListIdentities returns the identities of a user.
	ListIdentities(ctx context.Context, userID string) ([]Identity, error)

	// CreateLoginSession stores a login session; ErrConflict if the hash exists.
	CreateLoginSession(ctx context.Context, s LoginSession) error
	// GetLoginSession returns a live login session; ErrNotFound if there is none or it has expired.
	GetLoginSession(ctx context.Context, tokenHash string) (LoginSession, error)
	// RenewLoginSession moves the expiry of a live login session; ErrNotFound if there is none.
	RenewLoginSession(ctx context.Context, tokenHash string, expiresAt time.Time) error
	// DeleteLoginSession revokes a login session; deleting an unknown one is not an error.
	DeleteLoginSession(ctx context.Context, tokenHash string) error
	// DeleteUserLoginSessions revokes every login session of a user.
	DeleteUserLoginSessions(ctx context.Context, userID string) error

	// ClaimEvent records an event id (a webhook delivery) until expiresAt; ErrConflict if it was claimed before.
	ClaimEvent(ctx context.Context, eventID string, expiresAt time.Time) error

	// CreateSession stores a new chat session; ErrConflict if the id exists.
	CreateSession(ctx context.Context, s ChatSession) error
	// GetSession returns a chat session; ErrNotFound if there is none.
	GetSession(ctx context.Context, id string) (ChatSession, error)
	// LoadConversation returns a session, its newest n messages and its twin's person with the blocks
	// between them and the session's owner (see Conversation), from one snapshot where the store has
	// snapshots; ErrNotFound if there is no such session.
	LoadConversation(ctx context.Context, sessionID string, n int) (Conversation, error)
	// ListSessions lists a user's sessions, most recently updated first, to the minute: a session's
	// place in the list may lag behind its UpdatedAt by less than a minute (a store may move it at most
	// once a minute, as the DynamoDB store does to save index writes).
	ListSessions(ctx context.Context, ownerID, cursor string, limit int) (Page[ChatSession], error)
	// DeleteSession removes a session and all its messages; deleting an unknown one is not an error.
	DeleteSession(ctx context.Context, id string) error
	// PutMessage stores a message. A user message with a ClientMessageID already used in its session
	// is not stored again: PutMessage returns the stored one and ErrConflict.
	PutMessage(ctx context.Context, m ChatMessage) (ChatMessage, error)
	// ListMessages lists a session's messages newest first, starting after the cursor.
	ListMessages(ctx context.Context, sessionID, cursor string, limit int) (Page[ChatMessage], error)
	// StartTurn stores a person's message and claims its turn, the right to answer it, for the holder
	// named by claim (not empty) until lease has passed on the store's clock. When the message's
	// ClientMessageID (or ID) is already used in its session, the stored message is claimed instead if it
	// has no reply and no live claim of another holder, and returned with nil; otherwise StartTurn
	// returns it with ErrConflict (answered, or another try holds the turn). A claim left by a try that
	// died ends with its lease. Once the claim is taken, StartTurn consumes the charge in the same write:
	// when its counter has reached the limit, the message stays stored without a claim and StartTurn
	// returns it with ErrQuotaExceeded. A turn not claimed costs nothing.
	StartTurn(ctx context.Context, m ChatMessage, claim string, lease time.Duration, charge Charge) (ChatMessage, error)
	// ReleaseTurn ends the claim on the turn of the message messageID if claim still holds it, so that
	// a retry may take the turn at once; releasing a claim not held is not an error.
	ReleaseTurn(ctx context.Context, sessionID, messageID, claim string) error
	// CompleteTurn stores an assistant reply, then applies the update to its session, on the condition
	// that the message it answers (reply.ReplyTo) has no other reply: ErrConflict, and the reply is not
	// stored, if it has. Retrying it with the same reply after a failure part-way completes it without
	// a second reply.
	CompleteTurn(ctx context.Context, reply ChatMessage, u SessionUpdate) error

	// ConsumeQuota adds one to the user's counter for the day (YYYY-MM-DD, UTC) and returns the new
	// count; ErrQuotaExceeded (and no change) when the count has reached limit.
	ConsumeQuota(ctx context.Context, userID, day string, limit int) (int, error)

	// PutMatch stores a pair's match and both people's list entries (A < B).
	PutMatch(ctx context.Context, m Match) error
	// GetMatch returns the match of a pair, in either order; ErrNotFound if there is none.
	GetMatch(ctx context.Context, a, b string) (Match, error)
	// ListMatches lists a user's matches by score, highest first.
	ListMatches(ctx context.Context, userID, cursor string, limit int) (Page[MatchEntry], error)
	// DeleteMatch removes the match of a pair and both list entries; deleting an unknown one is not an error.
	DeleteMatch(ctx context.Context, a, b string) error

	// PutBlock stores a block; storing it again is not an error.
	PutBlock(ctx context.Context, b Block) error
	// DeleteBlock removes a block; deleting an unknown one is not an error.
	DeleteBlock(ctx context.Context, blockerID, blockedID string) error
	// ListBlocks returns the blocks the user made.
	ListBlocks(ctx context.Context, blockerID string) ([]Block, error)
	// Blocked reports whether either person blocked the other.
	Blocked(ctx context.Context, a, b string) (bool, error)

	// SetUserTerms replaces the terms under which a user is indexed for candidate generation. It writes
	// only what changed: setting the same terms again writes nothing.
	SetUserTerms(ctx context.Context, userID string, terms []string) error
	// UsersWithTerm returns up to limit ids of users indexed under a term, each once. The holders are
	// kept in the order of HolderPosition of their ids, and the lookup starts at HolderPosition(asker),
	// wrapping around: each asker gets a stable slice of the holders, and over many askers every holder
	// is returned about equally often, however many hold the term. asker "" starts at the first holder.
	UsersWithTerm(ctx context.Context, term, asker string, limit int) ([]string, error)

	// MarkRematch records, for the coalescing of a person's rematches, an edit of userID at now. When
	// no window is open (none, or its end has passed) it opens one ending at now+window, dirty (the
	// caller sends the rematch of its end), and returns RematchNow; when an open window is clean (see
	// OpenRematchWindow) it marks the person dirty and returns RematchAtWindowEnd; when the person is
	// dirty it returns RematchCoalesced. It also returns the end of the window. One conditional write
	// decides, so of concurrent edits exactly one gets RematchNow or RematchAtWindowEnd.
	MarkRematch(ctx context.Context, userID string, now time.Time, window time.Duration) (RematchDecision, time.Time, error)
	// OpenRematchWindow starts a clean window at now, ending at now+window, for the rematch sent at
	// the end of the last one: edits from now on are marked dirty again. A person without a window
	// (erased since the rematch was sent) gets none.
	OpenRematchWindow(ctx context.Context, userID string, now time.Time, window time.Duration) error
	// ConsumeBudget adds n to the counter name of owner (a user id, or "" for the whole service) for
	// the day (YYYY-MM-DD, UTC) and returns the new count; ErrQuotaExceeded (and no change) when the
	// count plus n, or plus one when n is 0, would pass limit. n = 0 checks that room is left.
	ConsumeBudget(ctx context.Context, owner, name, day string, n, limit int) (int, error)

	// DeferMatch records that the model part of the match of a and b was deferred at at; a pair
	// deferred already keeps its first time.
	DeferMatch(ctx context.Context, a, b string, at time.Time) error
	// ListDeferred returns up to limit deferred pairs, the longest deferred first.
	ListDeferred(ctx context.Context, limit int) ([]Deferral, error)
	// ClearDeferred removes the deferral of a pair; clearing an unknown one is not an error.
	// DeleteMatch and EraseUser remove deferrals too.
	ClearDeferred(ctx context.Context, a, b string) error

	// GetJobState returns a job's saved state; ErrNotFound if it never ran.
	GetJobState(ctx context.Context, name string) (JobState, error)
	// PutJobState saves a job's state.
	PutJobState(ctx context.Context, s JobState) error
}

// HolderPosition is the place of a person among the holders of a term (UsersWithTerm): 16 hex digits
// of the SHA-256 of their id, spread evenly whatever the ids look like.
func HolderPosition(userID string) string {
	sum := sha256.Sum256([]byte(userID))
	return hex.EncodeToString(sum[:8])
}
