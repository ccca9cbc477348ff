package dynamostore_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// profileReads counts the profile items (SK PROFILE) a DynamoDB client asks for.
type profileReads struct{ n atomic.Int64 }

func (p *profileReads) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("profile-reads", func(ctx context.Context,
			in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			count := func(k map[string]types.AttributeValue) {
				if sk, ok := k["SK"].(*types.AttributeValueMemberS); ok && sk.Value == "PROFILE" {
					p.n.Add(1)
				}
			}
			switch x := in.Parameters.(type) {
			case *dynamodb.GetItemInput:
				count(x.Key)
			case *dynamodb.BatchGetItemInput:
				for _, ka := range x.RequestItems {
					for _, k := range ka.Keys {
						count(k)
					}
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
	})
}

// TestTwinCache checks that turns of several people with one person's twin read its profile once per
// TTL, that a person's own twin is read every time (their edits show at once), that blocks are read
// every time, and that the cached twin is its public persona.
func TestTwinCache(t *testing.T) {
	t.Parallel()
	table := dynamotest.Table(t)
	reads := &profileReads{}
	s := dynamostore.New(dynamotest.DB(t, reads.option), table, dynamostore.WithTwinCache(30*time.Second, 10))
	clock := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	dynamostore.SetTwinClock(s, func() time.Time { return clock })

	now := time.Now().UTC()
	twin := store.User{ID: id.New(), Nickname: "Star", Discoverable: true, AllowTwinChat: true, CreatedAt: now, UpdatedAt: now,
		Shades: []store.Shade{
			{ID: "s1", Name: "Jazz", Content: "private notes", Public: &store.PublicShade{Name: "Jazz", Content: "public notes"}},
			{ID: "s2", Name: "Secret"},
		},
		Memories: []store.Memory{{ID: "m1", Subject: "private", Content: "a memory", CreatedAt: now}}}
	if err := s.CreateUser(ctx, twin); err != nil {
		t.Fatal(err)
	}
	var sessions []string
	for range 3 {
		owner := id.New()
		c := store.ChatSession{ID: id.New(), OwnerID: owner, TwinID: twin.ID, CreatedAt: now, UpdatedAt: now}
		if err := s.CreateSession(ctx, c); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, c.ID)
	}
	load := func(sid string) store.Conversation {
		t.Helper()
		c, err := s.LoadConversation(ctx, sid, 5)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	reads.n.Store(0)
	for i := range 12 { // 12 turns of 3 people within the TTL
		c := load(sessions[i%3])
		if c.Twin.ID != twin.ID || c.Blocked {
			t.Fatalf("conversation twin = %s blocked %v", c.Twin.ID, c.Blocked)
		}
		if len(c.Twin.Memories) != 0 || len(c.Twin.Shades) != 1 || c.Twin.Shades[0].Content != "" || c.Twin.Shades[0].Public.Content != "public notes" {
			t.Fatalf("another person's twin = %+v, want the public persona only", c.Twin)
		}
		clock = clock.Add(2 * time.Second)
	}
	if got := reads.n.Load(); got != 1 {
		t.Errorf("12 turns within the TTL read the profile %d times, want 1", got)
	}
	clock = clock.Add(30 * time.Second)
	load(sessions[0])
	load(sessions[1])
	if got := reads.n.Load(); got != 2 {
		t.Errorf("after the TTL the profile was read %d times in all, want 2", got)
	}

	// A block shows at once although the twin is cached.
	blocker := sessions[2]
	conv := load(blocker)
	if err := s.PutBlock(ctx, store.Block{BlockerID: conv.Session.OwnerID, BlockedID: twin.ID, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if !load(blocker).Blocked {
		t.Error("a block made after the twin was cached does not show")
	}

	// The person's own twin is never cached: an edit shows at once, with the private parts.
	own := store.ChatSession{ID: id.New(), OwnerID: twin.ID, TwinID: twin.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.CreateSession(ctx, own); err != nil {
		t.Fatal(err)
	}
	u, err := s.GetUser(ctx, twin.ID)
	if err != nil {
		t.Fatal(err)
	}
	u.Bio = "edited just now"
	if _, err := s.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	c := load(own.ID)
	if c.Twin.Bio != "edited just now" || len(c.Twin.Memories) != 1 {
		t.Errorf("own twin = bio %q, %d memories; want the edit and the memory", c.Twin.Bio, len(c.Twin.Memories))
	}
}
