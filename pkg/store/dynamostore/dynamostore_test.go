package dynamostore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
	"github.com/secondme/twin/pkg/store/storetest"
)

var ctx = context.Background()

// requests watches the requests of a DynamoDB client: it records each operation, notes any that is
// not a key read or write (a Scan is allowed only under a context marked by scanAllowed), and can
// fail the n-th request.
type requests struct {
	mu     sync.Mutex
	ops    []string
	bad    []string
	failAt int
}

// scanAllowed marks the context of the methods that may scan: ScanUsers and Dump.
type scanAllowed struct{}

var errInjected = errors.New("injected failure")

var keyOps = map[string]bool{
	"GetItem": true, "Query": true, "BatchGetItem": true,
	"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true,
}

// option installs the watcher on a DynamoDB client.
func (r *requests) option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("requests", r.handle), middleware.After)
	})
}

func (r *requests) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
	middleware.InitializeOutput, middleware.Metadata, error,
) {
	op := awsmiddleware.GetOperationName(ctx)
	r.mu.Lock()
	r.ops = append(r.ops, op)
	if !keyOps[op] && (op != "Scan" || ctx.Value(scanAllowed{}) == nil) {
		r.bad = append(r.bad, op)
	}
	fail := len(r.ops) == r.failAt
	r.mu.Unlock()
	if fail {
		return middleware.InitializeOutput{}, middleware.Metadata{}, errInjected
	}
	return next.HandleInitialize(ctx, in)
}

// reset forgets the recorded operations and sets the request to fail (counting from 1; 0 never).
func (r *requests) reset(failAt int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops, r.failAt = nil, failAt
}

func (r *requests) recorded() (ops, bad []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops), slices.Clone(r.bad)
}

// watched returns a store on a fresh table whose requests r watches, and a store on the same table
// with a plain client.
func watched(t *testing.T) (s, plain *dynamostore.Store, r *requests) {
	t.Helper()
	table := dynamotest.Table(t)
	r = &requests{}
	t.Cleanup(func() {
		if _, bad := r.recorded(); len(bad) > 0 {
			t.Errorf("requests other than key reads and writes: %v", bad)
		}
	})
	return dynamostore.New(dynamotest.DB(t, r.option), table), dynamostore.New(dynamotest.DB(t), table), r
}

// scanMarked marks the contexts of the two methods that may scan.
type scanMarked struct{ *dynamostore.Store }

func (s scanMarked) ScanUsers(ctx context.Context, cursor string, limit int) (store.Page[store.User], error) {
	return s.Store.ScanUsers(context.WithValue(ctx, scanAllowed{}, true), cursor, limit)
}

func (s scanMarked) Dump(ctx context.Context, w io.Writer) error {
	return s.Store.Dump(context.WithValue(ctx, scanAllowed{}, true), w)
}

// TestContract runs the store contract suite against dynalite, and checks on the way that every
// request is a key read or write: no transactions, no Scan outside ScanUsers and Dump.
func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _, _ := watched(t)
		return scanMarked{s}
	})
}

// TestLoadConversationIsOneQuery checks the design of the session partition: the session and its
// newest messages come from one Query, whatever idempotency markers the partition also holds (and the
// twin's person from one BatchGetItem).
func TestLoadConversationIsOneQuery(t *testing.T) {
	t.Parallel()
	s, _, r := watched(t)
	sess := store.ChatSession{ID: id.New(), OwnerID: id.New(), CreatedAt: time.Now(), UpdatedAt: time.Now()}
	sess.TwinID = sess.OwnerID
	check(t, s.CreateSession(ctx, sess), "CreateSession")
	var want []store.ChatMessage
	prev := ""
	for i := range 6 {
		user := newMessage(sess.ID, store.RoleUser, prev)
		user.ClientMessageID = fmt.Sprintf("client-%d", i)
		_, err := s.PutMessage(ctx, user)
		check(t, err, "PutMessage")
		reply := newMessage(sess.ID, store.RoleAssistant, user.ID)
		reply.ReplyTo = user.ID
		check(t, s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: "r", AddMessages: 2, UpdatedAt: time.Now()}), "CompleteTurn")
		want = append(want, user, reply)
		prev = reply.ID
	}
	for _, n := range []int{0, 1, 5, 12, 50} {
		r.reset(0)
		conv, err := s.LoadConversation(ctx, sess.ID, n)
		check(t, err, "LoadConversation")
		if ops, _ := r.recorded(); !slices.Equal(ops, []string{"Query", "BatchGetItem"}) {
			t.Errorf("n=%d: LoadConversation made requests %v, want one Query and one BatchGetItem (the twin)", n, ops)
		}
		got, msgs := conv.Session, conv.Messages
		if got.ID != sess.ID || got.MessageCount != 12 {
			t.Errorf("n=%d: session %s with %d messages, want %s with 12", n, got.ID, got.MessageCount, sess.ID)
		}
		if gotIDs, wantIDs := messageIDs(msgs), messageIDs(want[max(0, len(want)-n):]); !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("n=%d: messages\n got %v\nwant %v", n, gotIDs, wantIDs)
		}
	}
}

// TestGetTwinIsOneRequest checks that the chat access check reads the twin and both block items with
// one BatchGetItem, blocked or not.
func TestGetTwinIsOneRequest(t *testing.T) {
	t.Parallel()
	s, _, r := watched(t)
	at := time.Now()
	twin := store.User{ID: id.New(), Nickname: "Twin", Discoverable: true, AllowTwinChat: true, CreatedAt: at, UpdatedAt: at}
	check(t, s.CreateUser(ctx, twin), "CreateUser")
	viewer, blocker := id.New(), id.New()
	check(t, s.PutBlock(ctx, store.Block{BlockerID: blocker, BlockedID: twin.ID, CreatedAt: at}), "PutBlock")
	tests := []struct {
		name        string
		viewer      string
		wantBlocked bool
	}{
		{"not blocked", viewer, false},
		{"blocked", blocker, true},
		{"own twin", twin.ID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.reset(0)
			got, blocked, err := s.GetTwin(ctx, twin.ID, tt.viewer)
			check(t, err, "GetTwin")
			if ops, _ := r.recorded(); !slices.Equal(ops, []string{"BatchGetItem"}) {
				t.Errorf("GetTwin made requests %v, want one BatchGetItem", ops)
			}
			if got.ID != twin.ID || blocked != tt.wantBlocked {
				t.Errorf("GetTwin = %s, blocked %v; want %s, blocked %v", got.ID, blocked, twin.ID, tt.wantBlocked)
			}
		})
	}
}

// TestCursorOfDeletedItem checks that a cursor is a position, not a reference: the next page still
// comes after the item the cursor was made from once that item is gone.
func TestCursorOfDeletedItem(t *testing.T) {
	t.Parallel()
	s, _, _ := watched(t)
	owner := id.New()
	var ids []string // newest first
	for i := range 5 {
		at := time.Date(2026, 11, 25, 10, 0, i, 0, time.UTC)
		sess := store.ChatSession{ID: id.New(), OwnerID: owner, TwinID: owner, CreatedAt: at, UpdatedAt: at}
		check(t, s.CreateSession(ctx, sess), "CreateSession")
		ids = append([]string{sess.ID}, ids...)
	}
	first, err := s.ListSessions(ctx, owner, "", 2)
	check(t, err, "ListSessions")
	check(t, s.DeleteSession(ctx, ids[1]), "DeleteSession")
	next, err := s.ListSessions(ctx, owner, first.Next, 2)
	check(t, err, "ListSessions after the cursor's session was deleted")
	var got []string
	for _, c := range next.Items {
		got = append(got, c.ID)
	}
	if !slices.Equal(got, ids[2:4]) || next.Next == "" {
		t.Errorf("second page = %v (next %q), want %v and a next page", got, next.Next, ids[2:4])
	}
}

// TestRetryAfterFailure cuts each multi-request method after each of its requests in turn, then calls
// it again as a caller would (with fresh ids where a caller makes new ones) and checks that the result
// is the same as without a failure.
func TestRetryAfterFailure(t *testing.T) {
	t.Parallel()
	faulty, s, r := watched(t)
	tests := []struct {
		name string
		// prepare stores what the call needs and returns the call and the check of its result.
		prepare func(t *testing.T) (call func(*dynamostore.Store) error, verify func(t *testing.T))
	}{
		{"PutMessage", func(t *testing.T) (func(*dynamostore.Store) error, func(*testing.T)) {
			sess := newSession(t, s, id.New())
			call := func(st *dynamostore.Store) error {
				m := newMessage(sess.ID, store.RoleUser, "")
				m.ClientMessageID = "client-1"
				_, err := st.PutMessage(ctx, m)
				if errors.Is(err, store.ErrConflict) {
					return nil
				}
				return err
			}
			return call, func(t *testing.T) {
				p, err := s.ListMessages(ctx, sess.ID, "", 10)
				check(t, err, "ListMessages")
				if len(p.Items) != 1 || p.Items[0].ClientMessageID != "client-1" {
					t.Errorf("messages = %+v, want the one message", p.Items)
				}
			}
		}},
		{"StartTurn", func(t *testing.T) (func(*dynamostore.Store) error, func(*testing.T)) {
			sess := newSession(t, s, id.New())
			call := func(st *dynamostore.Store) error {
				m := newMessage(sess.ID, store.RoleUser, "") // a retried turn makes a new message id
				m.ClientMessageID = "client-1"
				_, err := st.StartTurn(ctx, m, "try", time.Minute, store.Charge{})
				return err
			}
			return call, func(t *testing.T) {
				p, err := s.ListMessages(ctx, sess.ID, "", 10)
				check(t, err, "ListMessages")
				if len(p.Items) != 1 || p.Items[0].ClientMessageID != "client-1" {
					t.Fatalf("messages = %+v, want the one message", p.Items)
				}
				m := newMessage(sess.ID, store.RoleUser, "")
				m.ClientMessageID = "client-1"
				_, err = s.StartTurn(ctx, m, "another", time.Minute, store.Charge{})
				wantErr(t, err, store.ErrConflict, "StartTurn by another holder")
			}
		}},
		{"CompleteTurn", func(t *testing.T) (func(*dynamostore.Store) error, func(*testing.T)) {
			sess := newSession(t, s, id.New())
			user := newMessage(sess.ID, store.RoleUser, "")
			_, err := s.PutMessage(ctx, user)
			check(t, err, "PutMessage")
			call := func(st *dynamostore.Store) error {
				reply := newMessage(sess.ID, store.RoleAssistant, user.ID) // a retried turn makes a new reply
				reply.ReplyTo = user.ID
				err := st.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: "reply", AddMessages: 2, UpdatedAt: time.Now()})
				if errors.Is(err, store.ErrConflict) { // the cut try's reply was stored first: it is finished and kept
					return nil
				}
				return err
			}
			return call, func(t *testing.T) {
				conv, err := s.LoadConversation(ctx, sess.ID, 10)
				check(t, err, "LoadConversation")
				got, msgs := conv.Session, conv.Messages
				if len(msgs) != 2 || got.MessageCount != 2 || got.LastMessage != "reply" {
					t.Errorf("session has %d messages, MessageCount %d, LastMessage %q; want 2, 2, reply",
						len(msgs), got.MessageCount, got.LastMessage)
				}
			}
		}},
		{"CreateSession", func(t *testing.T) (func(*dynamostore.Store) error, func(*testing.T)) {
			now := time.Now()
			sess := store.ChatSession{ID: id.New(), OwnerID: id.New(), TwinID: id.New(), CreatedAt: now, UpdatedAt: now}
			call := func(st *dynamostore.Store) error { return st.CreateSession(ctx, sess) }
			return call, func(t *testing.T) {
				p, err := s.ListSessions(ctx, sess.OwnerID, "", 10)
				check(t, err, "ListSessions")
				if len(p.Items) != 1 || p.Items[0].ID != sess.ID || p.Items[0].TwinID != sess.TwinID {
					t.Errorf("ListSessions = %+v, want the session", p.Items)
				}
				// The twin link is there: erasing the twin removes the session.
				check(t, s.EraseUser(ctx, sess.TwinID), "EraseUser of the twin")
				_, err = s.GetSession(ctx, sess.ID)
				wantErr(t, err, store.ErrNotFound, "GetSession after erasing the twin")
				noTrace(t, s, sess.ID)
			}
		}},
		{"DeleteSession", func(t *testing.T) (func(*dynamostore.Store) error, func(*testing.T)) {
			twin := id.New()
			sess := newTwinSession(t, s, id.New(), twin)
			return func(st *dynamostore.Store) error { return st.DeleteSession(ctx, sess.ID) }, func(t *testing.T) {
				_, err := s.GetSession(ctx, sess.ID)
				wantErr(t, err, store.ErrNotFound, "GetSession")
				noTrace(t, s, sess.ID)
				noTrace(t, s, twin)
			}
		}},
		{"PutMatch", func(t *testing.T) (func(*dynamostore.Store) error, func(*testing.T)) {
			a, b := id.New(), id.New()
			check(t, s.PutMatch(ctx, store.Match{A: min(a, b), B: max(a, b), Score: 20}), "PutMatch")
			call := func(st *dynamostore.Store) error {
				return st.PutMatch(ctx, store.Match{A: min(a, b), B: max(a, b), Score: 80, Reasoning: "again"})
			}
			return call, func(t *testing.T) {
				m, err := s.GetMatch(ctx, a, b)
				check(t, err, "GetMatch")
				if m.Score != 80 {
					t.Errorf("score = %d, want 80", m.Score)
				}
				for _, side := range [][2]string{{a, b}, {b, a}} {
					p, err := s.ListMatches(ctx, side[0], "", 10)
					check(t, err, "ListMatches")
					if len(p.Items) != 1 || p.Items[0].OtherID != side[1] || p.Items[0].Score != 80 {
						t.Errorf("ListMatches(%s) = %+v, want %s at 80", side[0], p.Items, side[1])
					}
				}
			}
		}},
		{"SetUserTerms", func(t *testing.T) (func(*dynamostore.Store) error, func(*testing.T)) {
			u, old, kept, added := id.New(), "old-"+id.New(), "kept-"+id.New(), "added-"+id.New()
			check(t, s.SetUserTerms(ctx, u, []string{old, kept}), "SetUserTerms")
			call := func(st *dynamostore.Store) error { return st.SetUserTerms(ctx, u, []string{kept, added}) }
			return call, func(t *testing.T) {
				for term, want := range map[string]bool{old: false, kept: true, added: true} {
					ids, err := s.UsersWithTerm(ctx, term, "", 10)
					check(t, err, "UsersWithTerm")
					if got := slices.Contains(ids, u); got != want {
						t.Errorf("user under %s = %v, want %v", term, got, want)
					}
				}
			}
		}},
		{"EraseUser", func(t *testing.T) (func(*dynamostore.Store) error, func(*testing.T)) {
			gone, kept := seedPerson(t, s), seedPerson(t, s)
			check(t, s.PutMatch(ctx, store.Match{A: min(gone, kept), B: max(gone, kept), Score: 50}), "PutMatch")
			check(t, s.PutBlock(ctx, store.Block{BlockerID: kept, BlockedID: gone}), "PutBlock")
			check(t, s.PutBlock(ctx, store.Block{BlockerID: gone, BlockedID: kept}), "PutBlock")
			// Reached through their twin link and through the erased person's own session item.
			keptWithGone := newTwinSession(t, s, kept, gone)
			goneWithKept := newTwinSession(t, s, gone, kept)
			return func(st *dynamostore.Store) error { return st.EraseUser(ctx, gone) }, func(t *testing.T) {
				noTrace(t, s, gone)
				noTrace(t, s, keptWithGone.ID)
				noTrace(t, s, goneWithKept.ID)
				if _, err := s.GetUser(ctx, kept); err != nil {
					t.Errorf("GetUser of the other person: %v", err)
				}
				p, err := s.ListSessions(ctx, kept, "", 10)
				check(t, err, "ListSessions of the other person")
				if len(p.Items) != 1 || p.Items[0].TwinID != kept {
					t.Errorf("ListSessions of the other person = %+v, want only their session with their own twin", p.Items)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for cut := 1; ; cut++ {
				call, verify := tt.prepare(t)
				r.reset(cut)
				err := call(faulty)
				r.reset(0)
				if err != nil && !errors.Is(err, errInjected) {
					t.Fatalf("cut at request %d: %v, want the injected failure", cut, err)
				}
				if err != nil {
					check(t, call(s), fmt.Sprintf("retry after a cut at request %d", cut))
				}
				verify(t)
				if err == nil { // the call made fewer requests than cut: every cut point is covered
					if cut == 1 {
						t.Fatalf("the call made no request")
					}
					t.Logf("retried after a cut at each of %d requests", cut-1)
					break
				}
			}
		})
	}
}

// seedPerson stores a user with an identity, a login session, a chat session with a turn, a quota
// count and terms, and returns their id.
func seedPerson(t *testing.T, s *dynamostore.Store) string {
	t.Helper()
	now := time.Now()
	u := store.User{ID: id.New(), Nickname: "Seed", ProfileChangedAt: now, CreatedAt: now, UpdatedAt: now}
	check(t, s.CreateUser(ctx, u), "CreateUser")
	check(t, s.CreateIdentity(ctx, store.Identity{Provider: store.ProviderOIDC, Subject: u.ID, UserID: u.ID}), "CreateIdentity")
	check(t, s.CreateLoginSession(ctx, store.LoginSession{TokenHash: id.New(), UserID: u.ID, ExpiresAt: now.Add(time.Hour)}),
		"CreateLoginSession")
	sess := newSession(t, s, u.ID)
	user := newMessage(sess.ID, store.RoleUser, "")
	user.ClientMessageID = "c"
	_, err := s.PutMessage(ctx, user)
	check(t, err, "PutMessage")
	reply := newMessage(sess.ID, store.RoleAssistant, user.ID)
	reply.ReplyTo = user.ID
	check(t, s.CompleteTurn(ctx, reply, store.SessionUpdate{LastMessage: "r", AddMessages: 2, UpdatedAt: now}), "CompleteTurn")
	_, err = s.ConsumeQuota(ctx, u.ID, now.UTC().Format(time.DateOnly), 10)
	check(t, err, "ConsumeQuota")
	check(t, s.SetUserTerms(ctx, u.ID, []string{"t1-" + u.ID, "t2"}), "SetUserTerms")
	return u.ID
}

func newSession(t *testing.T, s *dynamostore.Store, ownerID string) store.ChatSession {
	t.Helper()
	now := time.Now()
	sess := store.ChatSession{ID: id.New(), OwnerID: ownerID, TwinID: ownerID, CreatedAt: now, UpdatedAt: now}
	check(t, s.CreateSession(ctx, sess), "CreateSession")
	return sess
}

// newTwinSession stores a session of owner with the twin of another person, with three user messages
// (each with its client message id marker).
func newTwinSession(t *testing.T, s *dynamostore.Store, ownerID, twinID string) store.ChatSession {
	t.Helper()
	now := time.Now()
	sess := store.ChatSession{ID: id.New(), OwnerID: ownerID, TwinID: twinID, CreatedAt: now, UpdatedAt: now}
	check(t, s.CreateSession(ctx, sess), "CreateSession")
	for range 3 {
		m := newMessage(sess.ID, store.RoleUser, "")
		m.ClientMessageID = id.New()
		_, err := s.PutMessage(ctx, m)
		check(t, err, "PutMessage")
	}
	return sess
}

// newMessage returns a message whose id sorts after the id after.
func newMessage(sessionID, role, after string) store.ChatMessage {
	at := time.Now()
	mid := id.At(at)
	for mid <= after {
		at = at.Add(time.Millisecond)
		mid = id.At(at)
	}
	return store.ChatMessage{ID: mid, SessionID: sessionID, Role: role, Content: "text " + mid, CreatedAt: at}
}

func messageIDs(ms []store.ChatMessage) []string {
	ids := []string{}
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

// noTrace fails if any item of the table still holds s.
func noTrace(t *testing.T, st *dynamostore.Store, s string) {
	t.Helper()
	var buf bytes.Buffer
	check(t, st.Dump(ctx, &buf), "Dump")
	for line := range strings.Lines(buf.String()) {
		if strings.Contains(line, s) {
			t.Errorf("item still holds %s: %s", s, line)
		}
	}
}

func check(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

func wantErr(tb testing.TB, err, want error, what string) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Errorf("%s = %v, want %v", what, err, want)
	}
}
