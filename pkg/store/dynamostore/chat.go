package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// A chat session and its messages share one partition, PK SESSION#<session>:
//
//	SK MSG#<message id>        a message (ULIDs sort by time)
//	SK ~META                   the session itself; "~" sorts after every "MSG#"
//	SK IDEM#CM#<client id>     a user message's idempotency marker (a copy of the message)
//	SK IDEM#RT#<turn>          the turn of a user message: its claim, then its reply and session update
//	SK LINK#TWIN               the twin link of a session held with another person's twin
//
// so LoadConversation is one Query, SK > "MSG#", descending, Limit n+1: the session, then its
// newest n messages. Sessions are listed per owner by recency on GSI1 (GSI1PK USER#<owner>,
// GSI1SK SESSION#<updatedAt>#<session>). The twin link puts a session into its twin's GSI1 partition
// (GSI1PK USER#<twin>, GSI1SK TWINSESSION#<session>), so that erasing the twin finds it.

// skTwinLink is the sort key of a session's twin link; it sorts before every "MSG#" sort key, so
// neither LoadConversation nor ListMessages reads it.
const skTwinLink = "LINK#TWIN"

// recentTurns is how many applied turns a session remembers, so that CompleteTurn applies each once.
const recentTurns = 16

// recencyStep is how far a session's place in its owner's list (GSI1SK) may lag behind its UpdatedAt: a
// turn moves the place only when it is at least this old, because moving a GSI key costs a delete and a
// put in the index (docs/storage-dynamodb.md, "Write units of a chat turn").
const recencyStep = time.Minute

// sessionItem is a chat session.
type sessionItem struct {
	keys
	ID          string
	OwnerID     string
	TwinID      string
	Title       string
	LastMessage string
	// Summary is stored packed (see packText) in SummaryZ when long.
	Summary           string `dynamo:",omitempty"`
	SummaryZ          []byte `dynamo:",omitempty"`
	SummarizedThrough string
	MessageCount      int64
	CreatedAt         string
	UpdatedAt         string
	// Turns are the latest turns applied by CompleteTurn; TurnRev guards their read-modify-write.
	Turns   []string
	TurnRev int64
}

func sessionGSI1SK(updatedAt, sessionID string) string {
	return "SESSION#" + updatedAt + "#" + sessionID
}

// listedAt is the time of the session's place in its owner's list (its GSI1SK), which lags behind
// UpdatedAt by less than recencyStep.
func (it sessionItem) listedAt() string {
	t := strings.TrimPrefix(it.GSI1SK, "SESSION#")
	return t[:min(len(t), len(timeLayout))]
}

func (it sessionItem) session() store.ChatSession {
	return store.ChatSession{
		ID:                it.ID,
		OwnerID:           it.OwnerID,
		TwinID:            it.TwinID,
		Title:             it.Title,
		LastMessage:       it.LastMessage,
		Summary:           unpackText(it.Summary, it.SummaryZ),
		SummarizedThrough: it.SummarizedThrough,
		MessageCount:      it.MessageCount,
		CreatedAt:         storedTime(it.CreatedAt),
		UpdatedAt:         storedTime(it.UpdatedAt),
	}
}

// messageItem is a message, or an idempotency marker holding a copy of one. Content is stored packed (see
// packText) in ContentZ when long.
type messageItem struct {
	keys
	ID              string
	SessionID       string
	Role            string
	Content         string `dynamo:",omitempty"`
	ContentZ        []byte `dynamo:",omitempty"`
	ClientMessageID string
	ReplyTo         string
	Incomplete      bool
	Model           string
	CreatedAt       string
}

func toMessageItem(m store.ChatMessage) messageItem {
	content, packed := packText(m.Content)
	return messageItem{
		keys:            keys{PK: sessionPK(m.SessionID), SK: prefMsg + m.ID, Kind: "message"},
		ID:              m.ID,
		SessionID:       m.SessionID,
		Role:            m.Role,
		Content:         content,
		ContentZ:        packed,
		ClientMessageID: m.ClientMessageID,
		ReplyTo:         m.ReplyTo,
		Incomplete:      m.Incomplete,
		Model:           m.Model,
		CreatedAt:       fmtTime(m.CreatedAt),
	}
}

// marker is a copy of the message under an idempotency key of its session.
func (it messageItem) marker(sk string) messageItem {
	it.keys = keys{PK: it.PK, SK: sk, Kind: "idempotency"}
	return it
}

// asMessage is the message a marker holds, under its own key.
func (it messageItem) asMessage() messageItem {
	return toMessageItem(it.message())
}

func (it messageItem) message() store.ChatMessage {
	return store.ChatMessage{
		ID:              it.ID,
		SessionID:       it.SessionID,
		Role:            it.Role,
		Content:         unpackText(it.Content, it.ContentZ),
		ClientMessageID: it.ClientMessageID,
		ReplyTo:         it.ReplyTo,
		Incomplete:      it.Incomplete,
		Model:           it.Model,
		CreatedAt:       storedTime(it.CreatedAt),
	}
}

// turnItem is the item of a turn, SK IDEM#RT#<user message id>. While the message is being answered
// it holds the claim (Claim, ClaimUntil); CompleteTurn replaces it with a copy of the reply (the
// messageItem fields; ID set means answered) and the session update, so that whoever finds it can
// finish a completion that stopped part-way.
type turnItem struct {
	messageItem
	Claim      string
	ClaimUntil string
	// The session update of the completed turn; UpdatedAt is empty on items written before it was kept.
	LastMessage       string
	Summary           string `dynamo:",omitempty"`
	SummaryZ          []byte `dynamo:",omitempty"`
	SummarizedThrough string
	AddMessages       int64
	UpdatedAt         string
}

func turnSK(messageID string) string { return "IDEM#RT#" + part(messageID) }

func (t turnItem) update() store.SessionUpdate {
	return store.SessionUpdate{LastMessage: t.LastMessage, Summary: unpackText(t.Summary, t.SummaryZ), SummarizedThrough: t.SummarizedThrough,
		AddMessages: t.AddMessages, UpdatedAt: storedTime(t.UpdatedAt)}
}

// twinLink is the item that puts a session held with another person's twin into the twin's GSI1
// partition.
func twinLink(sessionID, twinID string) keys {
	return keys{
		PK: sessionPK(sessionID), SK: skTwinLink, Kind: "twin-link",
		GSI1PK: userPK(twinID), GSI1SK: "TWINSESSION#" + sessionID,
	}
}

// CreateSession stores a new chat session; ErrConflict if the id exists. A session with another
// person's twin gets its twin link first, on the condition that the session has none or one to the
// same twin, so that no session is ever without its link and a retry finishes.
func (s *Store) CreateSession(ctx context.Context, cs store.ChatSession) error {
	if cs.TwinID != "" && cs.TwinID != cs.OwnerID {
		link := twinLink(cs.ID, cs.TwinID)
		err := s.table.Put(link).If("attribute_not_exists(PK) OR $ = ?", "GSI1PK", link.GSI1PK).Run(ctx)
		if err = mapErr(err, store.ErrConflict); err != nil {
			return fmt.Errorf("create session %s: twin link: %w", cs.ID, err)
		}
	}
	updated := fmtTime(cs.UpdatedAt)
	it := sessionItem{
		keys: keys{
			PK: sessionPK(cs.ID), SK: skMeta, Kind: "session",
			GSI1PK: userPK(cs.OwnerID), GSI1SK: sessionGSI1SK(updated, cs.ID),
		},
		ID:                cs.ID,
		OwnerID:           cs.OwnerID,
		TwinID:            cs.TwinID,
		Title:             cs.Title,
		LastMessage:       cs.LastMessage,
		SummarizedThrough: cs.SummarizedThrough,
		MessageCount:      cs.MessageCount,
		CreatedAt:         fmtTime(cs.CreatedAt),
		UpdatedAt:         updated,
	}
	it.Summary, it.SummaryZ = packText(cs.Summary)
	err := s.table.Put(it).If("attribute_not_exists(PK)").Run(ctx)
	if err = mapErr(err, store.ErrConflict); err != nil {
		return fmt.Errorf("create session %s: %w", cs.ID, err)
	}
	return nil
}

func (s *Store) getSession(ctx context.Context, sessionID string) (sessionItem, error) {
	var it sessionItem
	err := s.get(ctx, key{sessionPK(sessionID), skMeta}, &it)
	return it, err
}

// GetSession returns a chat session; ErrNotFound if there is none.
func (s *Store) GetSession(ctx context.Context, sessionID string) (store.ChatSession, error) {
	it, err := s.getSession(ctx, sessionID)
	if err != nil {
		return store.ChatSession{}, fmt.Errorf("get session %s: %w", sessionID, err)
	}
	return it.session(), nil
}

// LoadConversation returns a session and its newest n messages, oldest first, with one Query of the
// session's partition: SK > "MSG#" descending, Limit n+1 (the ~META item first, then the messages);
// then the twin's person and the blocks between them and the owner, as GetTwin (one BatchGetItem).
// The two reads are strongly consistent but not one snapshot.
func (s *Store) LoadConversation(ctx context.Context, sessionID string, n int) (store.Conversation, error) {
	n = max(n, 0)
	var raw []dynamo.Item
	err := s.table.Get("PK", sessionPK(sessionID)).Range("SK", dynamo.Greater, prefMsg).
		Order(dynamo.Descending).Limit(n+1).Consistent(true).All(ctx, &raw)
	if err != nil {
		return store.Conversation{}, fmt.Errorf("load conversation %s: %w", sessionID, err)
	}
	var meta sessionItem
	if len(raw) > 0 {
		if err := dynamo.UnmarshalItem(raw[0], &meta); err != nil {
			return store.Conversation{}, fmt.Errorf("load conversation %s: %w", sessionID, err)
		}
	}
	if meta.SK != skMeta {
		return store.Conversation{}, fmt.Errorf("load conversation %s: %w", sessionID, store.ErrNotFound)
	}
	c := store.Conversation{Session: meta.session(), Messages: make([]store.ChatMessage, 0, len(raw)-1)}
	for i := len(raw) - 1; i > 0; i-- {
		var it messageItem
		if err := dynamo.UnmarshalItem(raw[i], &it); err != nil {
			return store.Conversation{}, fmt.Errorf("load conversation %s: %w", sessionID, err)
		}
		c.Messages = append(c.Messages, it.message())
	}
	c.Twin, c.Blocked, err = s.GetTwin(ctx, c.Session.TwinID, c.Session.OwnerID)
	if errors.Is(err, store.ErrNotFound) {
		c.Twin, c.Blocked, err = store.User{}, false, nil
	}
	if err != nil {
		return store.Conversation{}, fmt.Errorf("load conversation %s: %w", sessionID, err)
	}
	return c, nil
}

// ListSessions lists a user's sessions, most recently updated first: a Query on GSI1, descending.
func (s *Store) ListSessions(ctx context.Context, ownerID, cursor string, limit int) (store.Page[store.ChatSession], error) {
	limit = pageLimit(limit)
	scope := "sessions:" + ownerID
	parts, err := store.DecodeCursor(scope, cursor, 2)
	if err != nil {
		return store.Page[store.ChatSession]{}, fmt.Errorf("list sessions of %s: %w", ownerID, err)
	}
	q := s.table.Get("GSI1PK", userPK(ownerID)).Index(gsi1).Range("GSI1SK", dynamo.BeginsWith, "SESSION#").
		Order(dynamo.Descending).Limit(limit + 1)
	if parts != nil {
		if _, ok := parseTime(parts[0]); !ok || !id.Valid(parts[1]) {
			return store.Page[store.ChatSession]{}, fmt.Errorf("list sessions of %s: cursor position: %w", ownerID, store.ErrBadCursor)
		}
		q = q.StartFrom(pagingKey("PK", sessionPK(parts[1]), "SK", skMeta,
			"GSI1PK", userPK(ownerID), "GSI1SK", sessionGSI1SK(parts[0], parts[1])))
	}
	var items []sessionItem
	if err := q.All(ctx, &items); err != nil {
		return store.Page[store.ChatSession]{}, fmt.Errorf("list sessions of %s: %w", ownerID, err)
	}
	return makePage(items, limit, func(it sessionItem) (store.ChatSession, error) { return it.session(), nil },
		func(it sessionItem) string { return store.EncodeCursor(scope, it.listedAt(), it.ID) })
}

// DeleteSession removes a session's messages and markers, then the session item, then its twin link:
// a retry after a failure part-way reads the partition again and finishes, and until the session item
// is gone, erasing the twin still finds it through the link.
func (s *Store) DeleteSession(ctx context.Context, sessionID string) error {
	if err := s.deleteSession(ctx, sessionID, ""); err != nil {
		return fmt.Errorf("delete session %s: %w", sessionID, err)
	}
	return nil
}

// sessionPart is an item of a session partition, with the owner and twin that the session item holds.
type sessionPart struct {
	PK, SK          string
	OwnerID, TwinID string
}

// deleteSession deletes a session partition: messages and markers first, then the session item and
// its twin link. erased is "" for DeleteSession, whose retry reads the partition again: there the link
// goes last, so that a session is never left without it. Otherwise erased is the person being erased,
// who found the session in their GSI1 partition as its owner (by the session item) or as its twin (by
// the link): the item they found it by goes last, so that a retry of EraseUser finds the rest. A link
// to erased on a session that is neither theirs nor held with their twin (left by a CreateSession
// refused for a taken id) is deleted alone.
func (s *Store) deleteSession(ctx context.Context, sessionID, erased string) error {
	var items []sessionPart
	err := s.table.Get("PK", sessionPK(sessionID)).Consistent(true).Project("PK", "SK", "OwnerID", "TwinID").All(ctx, &items)
	if err != nil {
		return err
	}
	var leaves []key
	var meta, link *key
	ownerErased := false
	for _, it := range items {
		k := key{it.PK, it.SK}
		switch it.SK {
		case skMeta:
			meta = &k
			if erased != "" && it.OwnerID != erased && it.TwinID != erased {
				err := s.table.Delete("PK", k.pk).Range("SK", skTwinLink).If("$ = ?", "GSI1PK", userPK(erased)).Run(ctx)
				if dynamo.IsCondCheckFailed(err) {
					return nil
				}
				return err
			}
			ownerErased = erased != "" && it.OwnerID == erased
		case skTwinLink:
			link = &k
		default:
			leaves = append(leaves, k)
		}
	}
	if err := s.deleteKeys(ctx, leaves); err != nil {
		return err
	}
	last := []*key{meta, link}
	if ownerErased {
		last = []*key{link, meta}
	}
	for _, k := range last {
		if k == nil {
			continue
		}
		if err := s.table.Delete("PK", k.pk).Range("SK", k.sk).Run(ctx); err != nil {
			return err
		}
	}
	return nil
}

// PutMessage stores a message. With a ClientMessageID, a marker holding the message is written first
// on the condition that none exists; if one exists, the message it holds is (re)written, in case an
// earlier attempt stopped between the two writes, and returned with ErrConflict.
func (s *Store) PutMessage(ctx context.Context, m store.ChatMessage) (store.ChatMessage, error) {
	it := toMessageItem(m)
	if m.ClientMessageID != "" {
		mk := it.marker("IDEM#CM#" + part(m.ClientMessageID))
		err := s.table.Put(mk).If("attribute_not_exists(PK)").Run(ctx)
		if dynamo.IsCondCheckFailed(err) {
			return s.storedMessage(ctx, key{mk.PK, mk.SK})
		}
		if err != nil {
			return store.ChatMessage{}, fmt.Errorf("put message %s: marker: %w", m.ID, err)
		}
	}
	if err := s.table.Put(it).Run(ctx); err != nil {
		return store.ChatMessage{}, fmt.Errorf("put message %s: %w", m.ID, err)
	}
	return it.message(), nil
}

// storedMessage finishes the message a marker holds and returns it with ErrConflict.
func (s *Store) storedMessage(ctx context.Context, marker key) (store.ChatMessage, error) {
	var mk messageItem
	err := s.get(ctx, marker, &mk)
	if err == nil {
		err = s.table.Put(mk.asMessage()).Run(ctx)
	}
	if err != nil {
		return store.ChatMessage{}, fmt.Errorf("put message: read %s: %w", marker.sk, err)
	}
	return mk.message(), fmt.Errorf("put message: client message id used: %w", store.ErrConflict)
}

// StartTurn stores a person's message and claims its turn until lease has passed:
//  1. with a ClientMessageID, the marker IDEM#CM#<client id> holding the message, if none exists;
//  2. the turn item IDEM#RT#<message id> holding the claim, if the message has no reply;
//  3. the message.
//
// When the marker exists, the message it holds is (re)written and claimed instead: an UpdateItem of its
// turn item on the condition that it holds no reply and no live claim of another holder. When the condition fails, the
// turn item is read, a reply it holds is finished (written, the session updated) in case its
// completion stopped part-way, and the stored message is returned with ErrConflict.
//
// Once the turn is claimed, the charge is consumed (ConsumeQuota's UpdateItem); when its counter has
// reached the limit, or the update fails, the claim is released and the message stays.
func (s *Store) StartTurn(ctx context.Context, m store.ChatMessage, claim string, lease time.Duration, charge store.Charge) (store.ChatMessage, error) {
	msg, err := s.startTurn(ctx, m, claim, lease)
	if err != nil || charge.UserID == "" {
		return msg, err
	}
	if _, err := s.ConsumeQuota(ctx, charge.UserID, charge.Day, charge.Limit); err != nil {
		if rerr := s.ReleaseTurn(ctx, msg.SessionID, msg.ID, claim); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return msg, fmt.Errorf("start turn %s: %w", msg.ID, err)
	}
	return msg, nil
}

// startTurn is StartTurn before the charge.
func (s *Store) startTurn(ctx context.Context, m store.ChatMessage, claim string, lease time.Duration) (store.ChatMessage, error) {
	now := time.Now()
	until := fmtTime(now.Add(lease))
	it := toMessageItem(m)
	if m.ClientMessageID != "" {
		mk := it.marker("IDEM#CM#" + part(m.ClientMessageID))
		err := s.table.Put(mk).If("attribute_not_exists(PK)").Run(ctx)
		if dynamo.IsCondCheckFailed(err) {
			return s.claimStored(ctx, key{mk.PK, mk.SK}, claim, until, now)
		}
		if err != nil {
			return store.ChatMessage{}, fmt.Errorf("start turn %s: marker: %w", m.ID, err)
		}
	}
	// No turn item yet, or this claim's own (a retried Put): a retry with the same clientMessageId
	// that found the marker may have claimed the turn in between (claimStored), and then it is its.
	t := turnItem{messageItem: messageItem{keys: keys{PK: it.PK, SK: turnSK(m.ID), Kind: "turn"}}, Claim: claim, ClaimUntil: until}
	err := s.table.Put(t).If("attribute_not_exists($) OR $ = ?", "PK", "Claim", claim).Run(ctx)
	if err = mapErr(err, store.ErrConflict); err != nil {
		return store.ChatMessage{}, fmt.Errorf("start turn %s: claim: %w", m.ID, err)
	}
	if err := s.table.Put(it).Run(ctx); err != nil {
		return store.ChatMessage{}, fmt.Errorf("start turn %s: %w", m.ID, err)
	}
	return it.message(), nil
}

// claimStored finishes the message a marker holds and claims its turn; ErrConflict, with the message,
// when it is answered or another claim is live.
func (s *Store) claimStored(ctx context.Context, marker key, claim, until string, now time.Time) (store.ChatMessage, error) {
	var mk messageItem
	err := s.get(ctx, marker, &mk)
	if err == nil {
		err = s.table.Put(mk.asMessage()).Run(ctx)
	}
	if err != nil {
		return store.ChatMessage{}, fmt.Errorf("start turn: read %s: %w", marker.sk, err)
	}
	msg := mk.message()
	err = s.table.Update("PK", mk.PK).Range("SK", turnSK(msg.ID)).
		Set("Claim", claim).Set("ClaimUntil", until).Set("Kind", "turn").
		If("attribute_not_exists($) AND (attribute_not_exists($) OR $ <= ? OR $ = ?)", "ID", "ClaimUntil", "ClaimUntil", fmtTime(now), "Claim", claim).
		Run(ctx)
	if !dynamo.IsCondCheckFailed(err) {
		if err != nil {
			return store.ChatMessage{}, fmt.Errorf("start turn %s: claim: %w", msg.ID, err)
		}
		return msg, nil
	}
	var t turnItem
	err = s.get(ctx, key{mk.PK, turnSK(msg.ID)}, &t)
	if err == nil && t.ID != "" && t.UpdatedAt != "" {
		err = s.finishTurn(ctx, t, msg.ID)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.ChatMessage{}, fmt.Errorf("start turn %s: %w", msg.ID, err)
	}
	return msg, fmt.Errorf("start turn %s: answered or claimed: %w", msg.ID, store.ErrConflict)
}

// ReleaseTurn deletes the turn item of a message if claim holds it and it holds no reply.
func (s *Store) ReleaseTurn(ctx context.Context, sessionID, messageID, claim string) error {
	err := s.table.Delete("PK", sessionPK(sessionID)).Range("SK", turnSK(messageID)).
		If("$ = ? AND attribute_not_exists($)", "Claim", claim, "ID").Run(ctx)
	if err != nil && !dynamo.IsCondCheckFailed(err) {
		return fmt.Errorf("release turn of %s in %s: %w", messageID, sessionID, err)
	}
	return nil
}

// ListMessages lists a session's messages newest first: a Query of the session partition,
// SK begins with "MSG#", descending, from the message of the cursor.
func (s *Store) ListMessages(ctx context.Context, sessionID, cursor string, limit int) (store.Page[store.ChatMessage], error) {
	limit = pageLimit(limit)
	scope := "messages:" + sessionID
	parts, err := store.DecodeCursor(scope, cursor, 1)
	if err != nil {
		return store.Page[store.ChatMessage]{}, fmt.Errorf("list messages of %s: %w", sessionID, err)
	}
	q := s.table.Get("PK", sessionPK(sessionID)).Range("SK", dynamo.BeginsWith, prefMsg).
		Order(dynamo.Descending).Limit(limit + 1).Consistent(true)
	if parts != nil {
		if !id.Valid(parts[0]) {
			return store.Page[store.ChatMessage]{}, fmt.Errorf("list messages of %s: cursor position: %w", sessionID, store.ErrBadCursor)
		}
		q = q.StartFrom(pagingKey("PK", sessionPK(sessionID), "SK", prefMsg+parts[0]))
	}
	var items []messageItem
	if err := q.All(ctx, &items); err != nil {
		return store.Page[store.ChatMessage]{}, fmt.Errorf("list messages of %s: %w", sessionID, err)
	}
	return makePage(items, limit, func(it messageItem) (store.ChatMessage, error) { return it.message(), nil },
		func(it messageItem) string { return store.EncodeCursor(scope, it.ID) })
}

// CompleteTurn stores an assistant reply, then applies the update to its session, each once:
//  1. the session is read (ErrNotFound if there is none, before anything is written);
//  2. the turn item IDEM#RT#<turn> (the turn is the ReplyTo id, or the reply's own id) is replaced by
//     a copy of the reply and the update, on the condition that it holds no reply or this one: the
//     single conditional write that gives a message at most one reply. If it holds another reply, that
//     one is finished (steps 3 and 4 with its own update) and CompleteTurn returns ErrConflict;
//  3. the reply message is written;
//  4. unless the session's recent turns hold this turn, the session is updated with an UpdateItem
//     conditional on the TurnRev that was read (read again and retried on a race); its place in the
//     owner's list (GSI1SK) moves only when it is recencyStep old.
//
// A retry after a failure at any step finishes the turn without a second reply or a double count, and
// so does StartTurn of the message. Summary and SummarizedThrough change only when u.SummarizedThrough
// is set.
func (s *Store) CompleteTurn(ctx context.Context, reply store.ChatMessage, u store.SessionUpdate) error {
	turn := reply.ReplyTo
	if turn == "" {
		turn = reply.ID
	}
	if err := s.completeTurn(ctx, reply, turn, u); err != nil {
		return fmt.Errorf("complete turn %s of session %s: %w", turn, reply.SessionID, err)
	}
	return nil
}

func (s *Store) completeTurn(ctx context.Context, reply store.ChatMessage, turn string, u store.SessionUpdate) error {
	cur, err := s.getSession(ctx, reply.SessionID)
	if err != nil {
		return err
	}
	it := toMessageItem(reply)
	t := turnItem{messageItem: it, LastMessage: u.LastMessage, SummarizedThrough: u.SummarizedThrough,
		AddMessages: u.AddMessages, UpdatedAt: fmtTime(u.UpdatedAt)}
	t.Summary, t.SummaryZ = packText(u.Summary)
	t.keys = keys{PK: it.PK, SK: turnSK(turn), Kind: "turn"}
	err = s.table.Put(t).If("attribute_not_exists($) OR $ = ?", "ID", "ID", reply.ID).Run(ctx)
	if dynamo.IsCondCheckFailed(err) {
		var prev turnItem
		if err := s.get(ctx, key{t.PK, t.SK}, &prev); err != nil {
			return fmt.Errorf("read the stored reply: %w", err)
		}
		if prev.UpdatedAt == "" { // written before turn items kept their update: the reply only
			if err := s.table.Put(prev.asMessage()).Run(ctx); err != nil {
				return fmt.Errorf("store the stored reply: %w", err)
			}
		} else if err := s.finishTurnOf(ctx, cur, prev, turn); err != nil {
			return err
		}
		return fmt.Errorf("the message has another reply: %w", store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store reply: %w", err)
	}
	return s.finishTurnOf(ctx, cur, t, turn)
}

// finishTurn writes the reply a completed turn item holds and applies its update to the session.
func (s *Store) finishTurn(ctx context.Context, t turnItem, turn string) error {
	cur, err := s.getSession(ctx, t.SessionID)
	if err != nil {
		return err
	}
	return s.finishTurnOf(ctx, cur, t, turn)
}

// finishTurnOf is finishTurn with the session read as cur.
func (s *Store) finishTurnOf(ctx context.Context, cur sessionItem, t turnItem, turn string) error {
	if err := s.table.Put(t.asMessage()).Run(ctx); err != nil {
		return fmt.Errorf("store reply: %w", err)
	}
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			if cur, err = s.getSession(ctx, cur.ID); err != nil {
				return err
			}
		}
		if err = s.applyTurn(ctx, cur, turn, t.update()); !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("update session: %w", err)
}

// applyTurn applies a turn's update to the session read as cur, unless it was applied already;
// ErrConflict if the session changed since cur was read. The session's GSI1 sort key moves to the
// turn's time only when the time in it is recencyStep or more older (or later) than the turn, which
// saves a delete and a put in GSI1 on most turns of a conversation.
func (s *Store) applyTurn(ctx context.Context, cur sessionItem, turn string, u store.SessionUpdate) error {
	if slices.Contains(cur.Turns, turn) {
		return nil
	}
	turns := append(cur.Turns, turn)
	turns = turns[max(0, len(turns)-recentTurns):]
	updated := fmtTime(u.UpdatedAt)
	up := s.table.Update("PK", cur.PK).Range("SK", skMeta).
		Set("LastMessage", u.LastMessage).
		Set("UpdatedAt", updated).
		Add("MessageCount", u.AddMessages).
		Set("Turns", turns).
		Set("TurnRev", cur.TurnRev+1).
		If("$ = ?", "TurnRev", cur.TurnRev)
	if listed, ok := parseTime(cur.listedAt()); !ok || u.UpdatedAt.Sub(listed) >= recencyStep || u.UpdatedAt.Before(listed) {
		up = up.Set("GSI1SK", sessionGSI1SK(updated, cur.ID))
	}
	if u.SummarizedThrough != "" {
		plain, packed := packText(u.Summary)
		up = up.Set("SummarizedThrough", u.SummarizedThrough)
		if packed != nil {
			up = up.Set("SummaryZ", packed).Remove("Summary")
		} else {
			up = up.Set("Summary", plain).Remove("SummaryZ")
		}
	}
	return mapErr(up.Run(ctx), store.ErrConflict)
}
