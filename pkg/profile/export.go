package profile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/secondme/twin/pkg/store"
)

// ExportStore is what Export reads.
type ExportStore interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	ListIdentities(ctx context.Context, userID string) ([]store.Identity, error)
	ListSessions(ctx context.Context, ownerID, cursor string, limit int) (store.Page[store.ChatSession], error)
	ListMessages(ctx context.Context, sessionID, cursor string, limit int) (store.Page[store.ChatMessage], error)
	ListMatches(ctx context.Context, userID, cursor string, limit int) (store.Page[store.MatchEntry], error)
	GetMatch(ctx context.Context, a, b string) (store.Match, error)
	ListBlocks(ctx context.Context, blockerID string) ([]store.Block, error)
}

// Document is everything held about a person (GET /api/user/export). Provider tokens are left out:
// they are credentials for us, not data about the person.
type Document struct {
	ExportedAt time.Time        `json:"exportedAt"`
	Profile    Info             `json:"profile"`
	Shades     []Shade          `json:"shades"`
	Memories   []Memory         `json:"memories"`
	Identities []IdentityExport `json:"identities"`
	Sessions   []SessionExport  `json:"sessions"`
	Matches    []MatchExport    `json:"matches"`
	Blocks     []BlockExport    `json:"blocks"`
}

// IdentityExport is a sign-in identity without its tokens.
type IdentityExport struct {
	Provider  string    `json:"provider"`
	Subject   string    `json:"subject"`
	Revoked   bool      `json:"revoked"`
	CreatedAt time.Time `json:"createdAt"`
}

// SessionExport is one chat session with all its messages, oldest first.
type SessionExport struct {
	ID           string          `json:"id"`
	TwinID       string          `json:"twinId"`
	Title        string          `json:"title"`
	LastMessage  string          `json:"lastMessage"`
	Summary      string          `json:"summary"`
	MessageCount int64           `json:"messageCount"`
	CreatedAt    time.Time       `json:"createdAt"`
	UpdatedAt    time.Time       `json:"updatedAt"`
	Messages     []MessageExport `json:"messages"`
}

// MessageExport is one chat message.
type MessageExport struct {
	ID         string    `json:"id"`
	Role       string    `json:"role"`
	Content    string    `json:"content"`
	ReplyTo    string    `json:"replyTo,omitempty"`
	Incomplete bool      `json:"incomplete,omitempty"`
	Model      string    `json:"model,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

// MatchExport is one compatibility result with its evidence.
type MatchExport struct {
	UserID     string           `json:"userId"`
	Score      int              `json:"score"`
	Reasoning  string           `json:"reasoning"`
	Highlights []string         `json:"highlights"`
	Challenges []string         `json:"challenges"`
	Parts      []string         `json:"parts"`
	Transcript []TranscriptLine `json:"transcript"`
	Algorithm  string           `json:"algorithm"`
	ComputedAt time.Time        `json:"computedAt"`
}

// TranscriptLine is one line of a twin-to-twin conversation.
type TranscriptLine struct {
	Speaker string `json:"speaker"`
	Text    string `json:"text"`
}

// BlockExport is a block the person made.
type BlockExport struct {
	UserID    string    `json:"userId"`
	CreatedAt time.Time `json:"createdAt"`
}

// exportPage is the page size of the listings Export walks.
const exportPage = 100

// Export gathers everything held about a user at time now. It returns store.ErrNotFound (wrapped)
// for an unknown user.
func Export(ctx context.Context, st ExportStore, userID string, now time.Time) (Document, error) {
	u, err := st.GetUser(ctx, userID)
	if err != nil {
		return Document{}, fmt.Errorf("export user %s: %w", userID, err)
	}
	doc := Document{
		ExportedAt: now.UTC(),
		Profile:    InfoOf(u),
		Shades:     ShadesOf(u.Shades),
		Memories:   MemoriesOf(u.Memories),
		Identities: []IdentityExport{},
		Sessions:   []SessionExport{},
		Matches:    []MatchExport{},
		Blocks:     []BlockExport{},
	}
	ids, err := st.ListIdentities(ctx, userID)
	if err != nil {
		return Document{}, fmt.Errorf("export identities of %s: %w", userID, err)
	}
	for _, i := range ids {
		doc.Identities = append(doc.Identities, IdentityExport{
			Provider: i.Provider, Subject: i.Subject, Revoked: i.Revoked, CreatedAt: i.CreatedAt.UTC(),
		})
	}
	if doc.Sessions, err = exportSessions(ctx, st, userID); err != nil {
		return Document{}, err
	}
	if doc.Matches, err = exportMatches(ctx, st, userID); err != nil {
		return Document{}, err
	}
	blocks, err := st.ListBlocks(ctx, userID)
	if err != nil {
		return Document{}, fmt.Errorf("export blocks of %s: %w", userID, err)
	}
	for _, b := range blocks {
		doc.Blocks = append(doc.Blocks, BlockExport{UserID: b.BlockedID, CreatedAt: b.CreatedAt.UTC()})
	}
	return doc, nil
}

func exportSessions(ctx context.Context, st ExportStore, userID string) ([]SessionExport, error) {
	out := []SessionExport{}
	cursor := ""
	for {
		page, err := st.ListSessions(ctx, userID, cursor, exportPage)
		if err != nil {
			return nil, fmt.Errorf("export sessions of %s: %w", userID, err)
		}
		for _, s := range page.Items {
			msgs, err := exportMessages(ctx, st, s.ID)
			if err != nil {
				return nil, err
			}
			out = append(out, SessionExport{
				ID: s.ID, TwinID: s.TwinID, Title: s.Title, LastMessage: s.LastMessage, Summary: s.Summary,
				MessageCount: s.MessageCount, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC(),
				Messages: msgs,
			})
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

// exportMessages returns all messages of a session, oldest first.
func exportMessages(ctx context.Context, st ExportStore, sessionID string) ([]MessageExport, error) {
	out := []MessageExport{}
	cursor := ""
	for {
		page, err := st.ListMessages(ctx, sessionID, cursor, exportPage)
		if err != nil {
			return nil, fmt.Errorf("export messages of session %s: %w", sessionID, err)
		}
		for _, m := range page.Items {
			out = append(out, MessageExport{
				ID: m.ID, Role: m.Role, Content: m.Content, ReplyTo: m.ReplyTo, Incomplete: m.Incomplete,
				Model: m.Model, CreatedAt: m.CreatedAt.UTC(),
			})
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	slices.Reverse(out) // listed newest first
	return out, nil
}

func exportMatches(ctx context.Context, st ExportStore, userID string) ([]MatchExport, error) {
	out := []MatchExport{}
	cursor := ""
	for {
		page, err := st.ListMatches(ctx, userID, cursor, exportPage)
		if err != nil {
			return nil, fmt.Errorf("export matches of %s: %w", userID, err)
		}
		for _, e := range page.Items {
			m, err := st.GetMatch(ctx, userID, e.OtherID)
			if errors.Is(err, store.ErrNotFound) {
				continue // removed since the listing was read
			}
			if err != nil {
				return nil, fmt.Errorf("export match %s-%s: %w", userID, e.OtherID, err)
			}
			lines := make([]TranscriptLine, 0, len(m.Transcript))
			for _, l := range m.Transcript {
				lines = append(lines, TranscriptLine{Speaker: l.Speaker, Text: l.Text})
			}
			out = append(out, MatchExport{
				UserID: e.OtherID, Score: m.Score, Reasoning: m.Reasoning, Highlights: nonNil(m.Highlights),
				Challenges: nonNil(m.Challenges), Parts: nonNil(m.Parts), Transcript: lines,
				Algorithm: m.Algorithm, ComputedAt: m.ComputedAt.UTC(),
			})
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}
