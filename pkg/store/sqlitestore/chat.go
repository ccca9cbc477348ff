package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

const sessionCols = `id, owner_id, twin_id, title, last_message, summary, summarized_through, message_count,
	created_at, updated_at`

func scanSession(sc scanner) (store.ChatSession, error) {
	var c store.ChatSession
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.OwnerID, &c.TwinID, &c.Title, &c.LastMessage, &c.Summary, &c.SummarizedThrough,
		&c.MessageCount, &created, &updated); err != nil {
		return store.ChatSession{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, nil
}

const messageCols = `session_id, id, role, content, client_message_id, reply_to, incomplete, model, created_at`

func messageArgs(m store.ChatMessage) []any {
	return []any{m.SessionID, m.ID, m.Role, m.Content, m.ClientMessageID, m.ReplyTo, boolInt(m.Incomplete), m.Model, ms(m.CreatedAt)}
}

func scanMessage(sc scanner) (store.ChatMessage, error) {
	var m store.ChatMessage
	if err := scanMessageInto(sc, &m); err != nil {
		return store.ChatMessage{}, err
	}
	return m, nil
}

// scanMessageInto reads a message into m, which the caller holds (a slice element: no allocation per row).
func scanMessageInto(sc scanner, m *store.ChatMessage) error {
	var created int64
	if err := sc.Scan(&m.SessionID, &m.ID, &m.Role, &m.Content, &m.ClientMessageID, &m.ReplyTo, &m.Incomplete,
		&m.Model, &created); err != nil {
		return err
	}
	m.CreatedAt = fromMS(created)
	return nil
}

// scanMessages reads the messages of rows, expecting at most limit of them.
func scanMessages(rows *sql.Rows, limit int) ([]store.ChatMessage, error) {
	defer rows.Close()
	msgs := make([]store.ChatMessage, 0, min(limit, 1000))
	for rows.Next() {
		msgs = append(msgs, store.ChatMessage{})
		if err := scanMessageInto(rows, &msgs[len(msgs)-1]); err != nil {
			return nil, err
		}
	}
	return msgs, rows.Err()
}

// CreateSession stores a new chat session; ErrConflict if the id exists.
func (s *Store) CreateSession(ctx context.Context, c store.ChatSession) error {
	res, err := s.w.exec(ctx, `INSERT INTO chat_sessions (`+sessionCols+`) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
		c.ID, c.OwnerID, c.TwinID, c.Title, c.LastMessage, c.Summary, c.SummarizedThrough, c.MessageCount,
		ms(c.CreatedAt), ms(c.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create session %s: %w", c.ID, err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("create session %s: %w", c.ID, errors.Join(err, store.ErrConflict))
	}
	return nil
}

// GetSession returns a chat session; ErrNotFound if there is none.
func (s *Store) GetSession(ctx context.Context, sessionID string) (store.ChatSession, error) {
	c, err := scanSession(s.r.queryRow(ctx, `SELECT `+sessionCols+` FROM chat_sessions WHERE id = ?`, sessionID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ChatSession{}, fmt.Errorf("get session %s: %w", sessionID, store.ErrNotFound)
	}
	if err != nil {
		return store.ChatSession{}, fmt.Errorf("get session %s: %w", sessionID, err)
	}
	return c, nil
}

// LoadConversation returns a session, its newest n messages (oldest first) and its twin's person with
// the blocks between them and the session's owner, from one read transaction.
func (s *Store) LoadConversation(ctx context.Context, sessionID string, n int) (store.Conversation, error) {
	var c store.Conversation
	err := s.r.tx(ctx, func(t *txn) error {
		var err error
		c.Session, err = scanSession(t.queryRow(`SELECT `+sessionCols+` FROM chat_sessions WHERE id = ?`, sessionID))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		c.Twin, err = scanUser(extraCols{t.queryRow(twinQuery, c.Session.TwinID, c.Session.OwnerID), []any{&c.Blocked}})
		if errors.Is(err, sql.ErrNoRows) {
			c.Twin, c.Blocked, err = store.User{}, false, nil
		}
		if err != nil || n <= 0 {
			return err
		}
		rows, err := t.query(`SELECT `+messageCols+` FROM chat_messages WHERE session_id = ? ORDER BY id DESC LIMIT ?`,
			sessionID, n)
		if err != nil {
			return err
		}
		c.Messages, err = scanMessages(rows, n)
		return err
	})
	if err != nil {
		return store.Conversation{}, fmt.Errorf("load conversation %s: %w", sessionID, err)
	}
	slices.Reverse(c.Messages)
	return c, nil
}

// ListSessions lists a user's sessions, most recently updated first.
func (s *Store) ListSessions(ctx context.Context, ownerID, cursor string, limit int) (store.Page[store.ChatSession], error) {
	limit = clampLimit(limit)
	scope := "sessions:" + ownerID
	key, err := store.DecodeCursor(scope, cursor, 2)
	if err != nil {
		return store.Page[store.ChatSession]{}, fmt.Errorf("list sessions of %s: %w", ownerID, err)
	}
	var beforeAt int64 = math.MaxInt64
	beforeID := ""
	if key != nil {
		at, err := strconv.ParseInt(key[0], 10, 64)
		if err != nil || !id.Valid(key[1]) {
			return store.Page[store.ChatSession]{}, fmt.Errorf("list sessions of %s: cursor position: %w", ownerID, store.ErrBadCursor)
		}
		beforeAt, beforeID = at, key[1]
	}
	rows, err := s.r.query(ctx, `SELECT `+sessionCols+` FROM chat_sessions
		WHERE owner_id = ? AND (updated_at < ? OR (updated_at = ? AND id < ?))
		ORDER BY updated_at DESC, id DESC LIMIT ?`, ownerID, beforeAt, beforeAt, beforeID, limit+1)
	if err != nil {
		return store.Page[store.ChatSession]{}, fmt.Errorf("list sessions of %s: %w", ownerID, err)
	}
	defer rows.Close()
	var list []store.ChatSession
	for rows.Next() {
		c, err := scanSession(rows)
		if err != nil {
			return store.Page[store.ChatSession]{}, fmt.Errorf("list sessions of %s: %w", ownerID, err)
		}
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return store.Page[store.ChatSession]{}, fmt.Errorf("list sessions of %s: %w", ownerID, err)
	}
	return page(list, limit, func(c store.ChatSession) string {
		return store.EncodeCursor(scope, strconv.FormatInt(ms(c.UpdatedAt), 10), c.ID)
	}), nil
}

// DeleteSession removes a session and all its messages.
func (s *Store) DeleteSession(ctx context.Context, sessionID string) error {
	if _, err := s.w.exec(ctx, `DELETE FROM chat_sessions WHERE id = ?`, sessionID); err != nil {
		return fmt.Errorf("delete session %s: %w", sessionID, err)
	}
	return nil
}

// insertMessage is the statement that stores a message if its session exists and neither its id nor
// its client message id is taken in the session.
const insertMessage = `INSERT INTO chat_messages (` + messageCols + `) SELECT ?,?,?,?,?,?,?,?,?
	WHERE EXISTS (SELECT 1 FROM chat_sessions WHERE id = ?) ON CONFLICT DO NOTHING`

// takenMessage is the query for the message that kept another from being stored: the one with the
// same client message id, else the one with the same id.
const takenMessage = `SELECT ` + messageCols + ` FROM chat_messages
	WHERE session_id = ?1 AND (id = ?2 OR (client_message_id = ?3 AND ?3 <> ''))
	ORDER BY client_message_id = ?3 DESC LIMIT 1`

// PutMessage stores a message. A message whose ClientMessageID (or ID) is already used in its session
// is not stored again: PutMessage returns the stored one and ErrConflict. ErrNotFound if the session
// does not exist.
func (s *Store) PutMessage(ctx context.Context, m store.ChatMessage) (store.ChatMessage, error) {
	res, err := s.w.exec(ctx, insertMessage, append(messageArgs(m), m.SessionID)...)
	if err != nil {
		return store.ChatMessage{}, fmt.Errorf("put message in %s: %w", m.SessionID, err)
	}
	if ok, err := affected(res); err != nil || ok {
		m.CreatedAt = fromMS(ms(m.CreatedAt))
		return m, err
	}
	old, err := scanMessage(s.w.queryRow(ctx, takenMessage, m.SessionID, m.ID, m.ClientMessageID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.ChatMessage{}, fmt.Errorf("put message in %s: %w", m.SessionID, store.ErrNotFound)
	}
	if err != nil {
		return store.ChatMessage{}, fmt.Errorf("put message in %s: %w", m.SessionID, err)
	}
	return old, fmt.Errorf("put message in %s: %w", m.SessionID, store.ErrConflict)
}

// startTurn is the statement that stores a person's message with its claim, as insertMessage does.
const startTurn = `INSERT INTO chat_messages (` + messageCols + `, claim, claimed_until) SELECT ?,?,?,?,?,?,?,?,?,?,?
	WHERE EXISTS (SELECT 1 FROM chat_sessions WHERE id = ?) ON CONFLICT DO NOTHING`

// claimTurn is the statement that claims the turn of a stored message that has no reply and no live
// claim of another holder.
const claimTurn = `UPDATE chat_messages SET claim = ?1, claimed_until = ?2
	WHERE session_id = ?3 AND id = ?4 AND (claimed_until <= ?5 OR claim = ?1 AND ?1 <> '')
	AND NOT EXISTS (SELECT 1 FROM chat_messages WHERE session_id = ?3 AND reply_to = ?4)`

// StartTurn stores a person's message, claims its turn until lease has passed and consumes the
// charge, in one transaction. When the message's ClientMessageID (or ID) is used in its session, the
// stored message is claimed if it has no reply and no live claim of another holder, and returned;
// otherwise it is returned with ErrConflict. When the charge's counter has reached its limit, the
// message is stored without a claim and returned with ErrQuotaExceeded. ErrNotFound if the session
// does not exist.
func (s *Store) StartTurn(ctx context.Context, m store.ChatMessage, claim string, lease time.Duration, charge store.Charge) (store.ChatMessage, error) {
	now := time.Now()
	until := ms(now.Add(lease))
	var got store.ChatMessage
	spent := false
	err := s.w.tx(ctx, func(t *txn) error {
		res, err := t.exec(startTurn, append(messageArgs(m), claim, until, m.SessionID)...)
		if err != nil {
			return err
		}
		ok, err := affected(res)
		if err != nil {
			return err
		}
		if ok {
			got = m
			got.CreatedAt = fromMS(ms(m.CreatedAt))
		} else {
			got, err = scanMessage(t.queryRow(takenMessage, m.SessionID, m.ID, m.ClientMessageID))
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
			res, err = t.exec(claimTurn, claim, until, got.SessionID, got.ID, ms(now))
			if err != nil {
				return err
			}
			if ok, err := affected(res); err != nil || !ok {
				return errors.Join(err, store.ErrConflict)
			}
		}
		if charge.UserID == "" {
			return nil
		}
		var count int
		err = t.queryRow(consumeQuota, charge.UserID, charge.Day, charge.Limit).Scan(&count)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		// The counter is at its limit: the message stays, its claim goes.
		spent = true
		_, err = t.exec(releaseTurn, got.SessionID, got.ID, claim)
		return err
	})
	switch {
	case err == nil && spent:
		return got, fmt.Errorf("start turn in %s: quota of %s on %s: %w", m.SessionID, charge.UserID, charge.Day, store.ErrQuotaExceeded)
	case errors.Is(err, store.ErrConflict):
		return got, fmt.Errorf("start turn in %s: %w", m.SessionID, err)
	case err != nil:
		return store.ChatMessage{}, fmt.Errorf("start turn in %s: %w", m.SessionID, err)
	}
	return got, nil
}

// releaseTurn is the statement that ends the claim on a turn if the claim named holds it.
const releaseTurn = `UPDATE chat_messages SET claim = '', claimed_until = 0
	WHERE session_id = ? AND id = ? AND claim = ? AND claim <> ''`

// ReleaseTurn ends the claim on the turn of a message if claim holds it.
func (s *Store) ReleaseTurn(ctx context.Context, sessionID, messageID, claim string) error {
	_, err := s.w.exec(ctx, releaseTurn, sessionID, messageID, claim)
	if err != nil {
		return fmt.Errorf("release turn of %s in %s: %w", messageID, sessionID, err)
	}
	return nil
}

// ListMessages lists a session's messages newest first, starting after the cursor.
func (s *Store) ListMessages(ctx context.Context, sessionID, cursor string, limit int) (store.Page[store.ChatMessage], error) {
	limit = clampLimit(limit)
	scope := "messages:" + sessionID
	key, err := store.DecodeCursor(scope, cursor, 1)
	if err != nil {
		return store.Page[store.ChatMessage]{}, fmt.Errorf("list messages of %s: %w", sessionID, err)
	}
	before := "~" // after every id: ULIDs are digits and capitals
	if key != nil {
		if !id.Valid(key[0]) {
			return store.Page[store.ChatMessage]{}, fmt.Errorf("list messages of %s: cursor position: %w", sessionID, store.ErrBadCursor)
		}
		before = key[0]
	}
	rows, err := s.r.query(ctx, `SELECT `+messageCols+` FROM chat_messages WHERE session_id = ? AND id < ?
		ORDER BY id DESC LIMIT ?`, sessionID, before, limit+1)
	if err != nil {
		return store.Page[store.ChatMessage]{}, fmt.Errorf("list messages of %s: %w", sessionID, err)
	}
	msgs, err := scanMessages(rows, limit+1)
	if err != nil {
		return store.Page[store.ChatMessage]{}, fmt.Errorf("list messages of %s: %w", sessionID, err)
	}
	return page(msgs, limit, func(m store.ChatMessage) string { return store.EncodeCursor(scope, m.ID) }), nil
}

// CompleteTurn stores an assistant reply and applies the update to its session, in one transaction.
// A retry with the same reply id changes nothing; another reply to the same message is ErrConflict (the
// unique index chat_messages_reply). ErrNotFound if the session does not exist.
func (s *Store) CompleteTurn(ctx context.Context, reply store.ChatMessage, u store.SessionUpdate) error {
	err := s.w.tx(ctx, func(t *txn) error {
		res, err := t.exec(insertMessage, append(messageArgs(reply), reply.SessionID)...)
		if err != nil {
			return err
		}
		ok, err := affected(res)
		if err != nil {
			return err
		}
		if !ok { // stored before (a retry), another reply to the message, or no such session
			var same int
			err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM chat_messages WHERE session_id = ?1 AND id = ?2)
				FROM chat_sessions WHERE id = ?1`, reply.SessionID, reply.ID).Scan(&same)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return store.ErrNotFound
			case err == nil && same == 0:
				return store.ErrConflict
			}
			return err
		}
		_, err = t.exec(`UPDATE chat_sessions SET last_message = ?1, message_count = message_count + ?2, updated_at = ?3,
			summary = CASE WHEN ?5 <> '' THEN ?4 ELSE summary END,
			summarized_through = CASE WHEN ?5 <> '' THEN ?5 ELSE summarized_through END
			WHERE id = ?6`, u.LastMessage, u.AddMessages, ms(u.UpdatedAt), u.Summary, u.SummarizedThrough, reply.SessionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("complete turn in %s: %w", reply.SessionID, err)
	}
	return nil
}

// consumeQuota is the statement that adds one to a counter (?1 user, ?2 day) below its limit (?3) and
// returns the new count; no row when the counter has reached the limit.
const consumeQuota = `INSERT INTO quotas (user_id, day, count) SELECT ?1, ?2, 1 WHERE ?3 > 0
	ON CONFLICT DO UPDATE SET count = count + 1 WHERE count < ?3 RETURNING count`

// ConsumeQuota adds one to the user's counter for the day and returns the new count;
// ErrQuotaExceeded (and no change) when the count has reached limit.
func (s *Store) ConsumeQuota(ctx context.Context, userID, day string, limit int) (int, error) {
	var count int
	err := s.w.queryRow(ctx, consumeQuota, userID, day, limit).Scan(&count)
	if errors.Is(err, sql.ErrNoRows) {
		// At the limit: nothing changed. Report the count reached.
		err = s.r.queryRow(ctx, `SELECT count FROM quotas WHERE user_id = ? AND day = ?`, userID, day).Scan(&count)
		if err == nil || errors.Is(err, sql.ErrNoRows) {
			err = store.ErrQuotaExceeded
		}
	}
	if err != nil {
		return count, fmt.Errorf("consume quota of %s on %s: %w", userID, day, err)
	}
	return count, nil
}
