// Package chat is the chat turn and the sessions around it: a person talks with their own
// twin, or with the twin of someone who allows it. A turn costs the same few store calls whether the
// conversation holds ten messages or ten thousand.
package chat

import (
	"context"
	"time"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/prompt"
	"github.com/secondme/twin/pkg/store"
)

// Store is what the chat service needs of the storage contract (see store.Store for each method's
// error contract).
type Store interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	GetTwin(ctx context.Context, twinID, viewerID string) (store.User, bool, error)
	GetUsers(ctx context.Context, ids []string) ([]store.User, error)
	CreateSession(ctx context.Context, s store.ChatSession) error
	GetSession(ctx context.Context, id string) (store.ChatSession, error)
	LoadConversation(ctx context.Context, sessionID string, n int) (store.Conversation, error)
	ListSessions(ctx context.Context, ownerID, cursor string, limit int) (store.Page[store.ChatSession], error)
	DeleteSession(ctx context.Context, id string) error
	StartTurn(ctx context.Context, m store.ChatMessage, claim string, lease time.Duration, charge store.Charge) (store.ChatMessage, error)
	ReleaseTurn(ctx context.Context, sessionID, messageID, claim string) error
	ListMessages(ctx context.Context, sessionID, cursor string, limit int) (store.Page[store.ChatMessage], error)
	CompleteTurn(ctx context.Context, reply store.ChatMessage, u store.SessionUpdate) error
}

var _ Store = store.Store(nil)

// ModelChooser picks the model that speaks for a twin.
type ModelChooser interface {
	// ModelFor returns the model for a turn with twin's twin; own is true when the person talking is
	// twin themself. It never fails: a model that cannot answer fails in Generate.
	ModelFor(ctx context.Context, twin store.User, own bool) llm.Model
}

// Defaults of Options.
const (
	DefaultHistory        = 40
	MaxHistory            = 200
	DefaultModelTimeout   = 60 * time.Second
	DefaultSaveTimeout    = 5 * time.Second
	DefaultDailyQuota     = 200
	DefaultMaxReplyTokens = 1024
	// lastMessageRunes caps the session's lastMessage preview.
	lastMessageRunes = 200
	// titleRunes caps the title a session takes from its first message.
	titleRunes = 60
	// claimSlack is how much longer than its model and save deadlines a turn holds its claim: the store
	// calls and the prompt around them. A try that dies blocks retries of its turn for that long at most.
	claimSlack = 30 * time.Second
	// windowSlack is how many of the messages read per turn are always left out of the prompt's verbatim
	// window and folded into the summary instead: a turn adds two messages, so none leaves the newest
	// History unsummarized.
	windowSlack = 4
)

// Options configures the service. The zero Options takes every default.
type Options struct {
	// Prompt bounds the prompt (token budget, persona and summary shares).
	Prompt prompt.Config
	// History is how many of the newest messages a turn reads (one query); default DefaultHistory,
	// at most MaxHistory. The prompt keeps those that fit its budget and folds the rest into the summary.
	History int
	// ModelTimeout bounds the model call of a turn; default DefaultModelTimeout.
	ModelTimeout time.Duration
	// SaveTimeout bounds the final save of a turn, which runs detached from the request so that a
	// reply cut short by a client that left is still saved; default DefaultSaveTimeout.
	SaveTimeout time.Duration
	// DailyQuota is how many model calls a person may cause per UTC day; default DefaultDailyQuota.
	DailyQuota int
	// MaxReplyTokens caps a reply; default DefaultMaxReplyTokens.
	MaxReplyTokens int
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.History <= 0 {
		o.History = DefaultHistory
	}
	o.History = min(max(o.History, 2*windowSlack), MaxHistory)
	if o.ModelTimeout <= 0 {
		o.ModelTimeout = DefaultModelTimeout
	}
	if o.SaveTimeout <= 0 {
		o.SaveTimeout = DefaultSaveTimeout
	}
	if o.DailyQuota <= 0 {
		o.DailyQuota = DefaultDailyQuota
	}
	if o.MaxReplyTokens <= 0 {
		o.MaxReplyTokens = DefaultMaxReplyTokens
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Service runs chat turns and serves sessions.
type Service struct {
	st     Store
	models ModelChooser
	opts   Options
}

// New returns a chat service over st that asks models for replies.
func New(st Store, models ModelChooser, opts Options) *Service {
	return &Service{st: st, models: models, opts: opts.withDefaults()}
}

// OneModel is the ModelChooser that gives every twin the same model.
type OneModel struct{ Model llm.Model }

var _ ModelChooser = OneModel{}

// ModelFor returns the model.
func (o OneModel) ModelFor(context.Context, store.User, bool) llm.Model { return o.Model }

// SecondMeTwins is the ModelChooser that lets the own SecondMe of a person who signed in with SecondMe
// speak as their twin in their own chats, and gives everyone else Default. SecondMe's model holds the
// person's private memories, so it never speaks to other people: their twin uses public fields only.
type SecondMeTwins struct {
	SecondMe *llm.SecondMe
	Default  llm.Model
}

var _ ModelChooser = SecondMeTwins{}

// ModelFor returns the person's SecondMe for their own twin when they signed in with SecondMe, else Default.
func (c SecondMeTwins) ModelFor(_ context.Context, twin store.User, own bool) llm.Model {
	if own && c.SecondMe != nil && twin.Provider == store.ProviderSecondMe {
		return c.SecondMe.ForUser(twin.ID)
	}
	return c.Default
}
