// Package chattest holds test parts for the chat service: a store wrapper that counts calls and a
// scripted model that streams, fails, stalls or pauses on cue.
package chattest

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/secondme/twin/pkg/chat"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/store"
)

// Counting wraps a store and counts the calls of each method.
type Counting struct {
	chat.Store
	mu    sync.Mutex
	calls map[string]int
}

var _ chat.Store = (*Counting)(nil)

// NewCounting returns a counting wrapper around st.
func NewCounting(st chat.Store) *Counting { return &Counting{Store: st, calls: map[string]int{}} }

func (c *Counting) count(method string) {
	c.mu.Lock()
	c.calls[method]++
	c.mu.Unlock()
}

// Calls returns the number of calls since the last Reset.
func (c *Counting) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

// ByMethod returns the calls since the last Reset per method.
func (c *Counting) ByMethod() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.calls)
}

// Reset sets every count to zero.
func (c *Counting) Reset() {
	c.mu.Lock()
	c.calls = map[string]int{}
	c.mu.Unlock()
}

// GetUser counts and delegates.
func (c *Counting) GetUser(ctx context.Context, id string) (store.User, error) {
	c.count("GetUser")
	return c.Store.GetUser(ctx, id)
}

// GetTwin counts and delegates.
func (c *Counting) GetTwin(ctx context.Context, twinID, viewerID string) (store.User, bool, error) {
	c.count("GetTwin")
	return c.Store.GetTwin(ctx, twinID, viewerID)
}

// GetUsers counts and delegates.
func (c *Counting) GetUsers(ctx context.Context, ids []string) ([]store.User, error) {
	c.count("GetUsers")
	return c.Store.GetUsers(ctx, ids)
}

// CreateSession counts and delegates.
func (c *Counting) CreateSession(ctx context.Context, s store.ChatSession) error {
	c.count("CreateSession")
	return c.Store.CreateSession(ctx, s)
}

// GetSession counts and delegates.
func (c *Counting) GetSession(ctx context.Context, id string) (store.ChatSession, error) {
	c.count("GetSession")
	return c.Store.GetSession(ctx, id)
}

// LoadConversation counts and delegates.
func (c *Counting) LoadConversation(ctx context.Context, sessionID string, n int) (store.Conversation, error) {
	c.count("LoadConversation")
	return c.Store.LoadConversation(ctx, sessionID, n)
}

// ListSessions counts and delegates.
func (c *Counting) ListSessions(ctx context.Context, ownerID, cursor string, limit int) (store.Page[store.ChatSession], error) {
	c.count("ListSessions")
	return c.Store.ListSessions(ctx, ownerID, cursor, limit)
}

// DeleteSession counts and delegates.
func (c *Counting) DeleteSession(ctx context.Context, id string) error {
	c.count("DeleteSession")
	return c.Store.DeleteSession(ctx, id)
}

// StartTurn counts and delegates.
func (c *Counting) StartTurn(ctx context.Context, m store.ChatMessage, claim string, lease time.Duration, charge store.Charge) (store.ChatMessage, error) {
	c.count("StartTurn")
	return c.Store.StartTurn(ctx, m, claim, lease, charge)
}

// ReleaseTurn counts and delegates.
func (c *Counting) ReleaseTurn(ctx context.Context, sessionID, messageID, claim string) error {
	c.count("ReleaseTurn")
	return c.Store.ReleaseTurn(ctx, sessionID, messageID, claim)
}

// ListMessages counts and delegates.
func (c *Counting) ListMessages(ctx context.Context, sessionID, cursor string, limit int) (store.Page[store.ChatMessage], error) {
	c.count("ListMessages")
	return c.Store.ListMessages(ctx, sessionID, cursor, limit)
}

// CompleteTurn counts and delegates.
func (c *Counting) CompleteTurn(ctx context.Context, reply store.ChatMessage, u store.SessionUpdate) error {
	c.count("CompleteTurn")
	return c.Store.CompleteTurn(ctx, reply, u)
}

// Step is what a Script model does on one call: wait for Gate to close and FirstDelay to pass, send
// Deltas, then fail with Err, or stall until the context ends when Stall is set, or answer.
type Step struct {
	// Gate, when not nil, holds the call until it is closed (or the context ends).
	Gate       <-chan struct{}
	FirstDelay time.Duration
	Deltas     []string
	Err        error
	Stall      bool
}

// Script is a scripted llm.Model. Call i follows Steps[i]; calls past the end repeat the last step.
type Script struct {
	Steps []Step
	// Model names the model in replies; default "script".
	Model string

	mu       sync.Mutex
	requests []llm.Request
}

var _ llm.Model = (*Script)(nil)

// Calls returns how many times Generate was called.
func (s *Script) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Requests returns the requests received, oldest first.
func (s *Script) Requests() []llm.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]llm.Request(nil), s.requests...)
}

// Generate follows the script.
func (s *Script) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	step := Step{Deltas: []string{"hello"}}
	if len(s.Steps) > 0 {
		step = s.Steps[min(n, len(s.Steps)-1)]
	}
	model := s.Model
	if model == "" {
		model = "script"
	}
	reply := llm.Reply{Model: model}
	if step.Gate != nil {
		select {
		case <-ctx.Done():
			return reply, ctx.Err()
		case <-step.Gate:
		}
	}
	if step.FirstDelay > 0 {
		t := time.NewTimer(step.FirstDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return reply, ctx.Err()
		case <-t.C:
		}
	}
	var text strings.Builder
	for _, d := range step.Deltas {
		if err := ctx.Err(); err != nil {
			return reply, err
		}
		if onDelta != nil {
			if err := onDelta(d); err != nil {
				return reply, err
			}
		}
		text.WriteString(d)
	}
	if step.Stall {
		<-ctx.Done()
		return reply, ctx.Err()
	}
	if step.Err != nil {
		return reply, fmt.Errorf("script: %w", step.Err)
	}
	reply.Text = text.String()
	return reply, nil
}
