package chat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/prompt"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/text"
)

// TurnRequest is one message of a person to a twin. The HTTP layer has validated it.
type TurnRequest struct {
	// UserID is the person talking.
	UserID string
	// SessionID names an existing session of the person; empty starts a new one with TwinID.
	SessionID string
	// TwinID is whose twin to talk to: empty means the session's twin, or the person's own for a new session.
	TwinID string
	// Message is the text, trimmed.
	Message string
	// ClientMessageID makes retries idempotent within the session; may be empty.
	ClientMessageID string
}

// Events receives a turn as it happens. Either function may be nil. An error from either ends the
// turn as if the client went away.
type Events struct {
	// Session is called once the session is known and the reply is about to be written (or replayed).
	Session func(sessionID string) error
	// Delta is called with each piece of the reply as the model writes it.
	Delta func(text string) error
}

// TurnResult is a finished turn.
type TurnResult struct {
	SessionID string
	// Message is the person's message, Reply the twin's.
	Message store.ChatMessage
	Reply   store.ChatMessage
	// Offline is true when the deterministic offline model wrote the reply.
	Offline bool
	// Replayed is true when the turn had finished before and the stored reply was returned.
	Replayed bool
	// PromptTokens is the approximate size of the prompt (0 when replayed).
	PromptTokens int
}

// Turn runs one chat turn (docs/chat.md). For an existing session it reads the session with its newest
// messages in one call; a retry of a finished turn (same ClientMessageID) returns the stored reply
// without a model call or quota, and a retry of an unfinished one completes it. It then checks that the
// person may talk to the twin, and in parallel reads the twin's persona while it saves the person's
// message, claims its turn and consumes one unit of the person's daily quota in one call. It calls the model
// with a deadline, streaming to ev, and saves the reply with the session's new lastMessage and summary
// in one call, on the condition that the message has no reply yet.
//
// Only one try of a turn runs at a time: a retry while another try holds the claim (or of a turn
// answered outside the history read) is ErrTurnConflict, with no model call and no quota. When the
// model fails the message stays saved, the session unchanged and the claim released (a *ModelError).
// When the client goes away the model call is cancelled and what it wrote so far is saved as an
// incomplete reply (ErrClientGone).
func (s *Service) Turn(ctx context.Context, req TurnRequest, ev Events) (TurnResult, error) {
	now := s.opts.Now()
	var (
		sess     store.ChatSession
		history  []store.ChatMessage
		pending  *store.ChatMessage // the person's message of this turn, saved by an earlier try
		isNew    bool
		twinUser store.User
		twinRead bool // twinUser was read with the session
		blocked  bool
	)
	if req.SessionID != "" {
		conv, err := s.st.LoadConversation(ctx, req.SessionID, s.opts.History)
		if errors.Is(err, store.ErrNotFound) || err == nil && conv.Session.OwnerID != req.UserID {
			return TurnResult{}, ErrSessionNotFound
		}
		if err != nil {
			return TurnResult{}, fmt.Errorf("chat turn: %w", err)
		}
		sess, history = conv.Session, conv.Messages
		twinUser, blocked, twinRead = conv.Twin, conv.Blocked, true
		if req.TwinID != "" && req.TwinID != sess.TwinID {
			return TurnResult{}, ErrTwinMismatch
		}
		if req.ClientMessageID != "" {
			var done *store.ChatMessage
			pending, done = findTurn(history, req.ClientMessageID)
			if done != nil {
				return s.replay(sess.ID, *pending, *done, ev)
			}
		}
	} else {
		twinID := req.TwinID
		if twinID == "" {
			twinID = req.UserID
		}
		sess = store.ChatSession{ID: id.At(now), OwnerID: req.UserID, TwinID: twinID,
			Title: truncate(text.Clean(req.Message, text.Name), titleRunes), CreatedAt: now, UpdatedAt: now}
		isNew = true
	}

	own := sess.TwinID == req.UserID
	switch {
	case twinRead && twinUser.ID == "":
		return TurnResult{}, ErrTwinNotFound
	case twinRead && !own:
		if err := mayTalk(twinUser, blocked); err != nil {
			return TurnResult{}, err
		}
	case !own:
		u, err := s.checkAccess(ctx, req.UserID, sess.TwinID)
		if err != nil {
			return TurnResult{}, err
		}
		twinUser = u
	}
	if isNew {
		if err := s.st.CreateSession(ctx, sess); err != nil {
			return TurnResult{}, fmt.Errorf("chat turn: %w", err)
		}
	}

	var msg store.ChatMessage
	if pending != nil {
		msg = *pending
	} else {
		var after string
		if len(history) > 0 {
			after = history[len(history)-1].ID
		}
		msgID, at := nextID(after, now)
		msg = store.ChatMessage{ID: msgID, SessionID: sess.ID, Role: store.RoleUser, Content: req.Message,
			ClientMessageID: req.ClientMessageID, CreatedAt: at}
	}
	claim := id.New()
	msg, err := s.start(ctx, req.UserID, own && !twinRead, &twinUser, msg, claim, now)
	if err != nil {
		return TurnResult{}, err
	}
	completed := false
	defer func() {
		if !completed {
			s.release(ctx, msg, claim)
		}
	}()

	built := prompt.Build(prompt.Input{
		Persona:           prompt.PersonaOf(twinUser, own),
		Summary:           sess.Summary,
		SummarizedThrough: sess.SummarizedThrough,
		History:           before(history, msg.ID),
		Message:           msg.Content,
		MaxWindow:         s.opts.History - windowSlack,
	}, s.opts.Prompt)
	built.Request.MaxTokens = s.opts.MaxReplyTokens

	res := TurnResult{SessionID: sess.ID, Message: msg, PromptTokens: built.Tokens}
	if ev.Session != nil {
		if err := ev.Session(sess.ID); err != nil {
			return res, ErrClientGone
		}
	}
	reply, partial, genErr := s.generate(ctx, s.models.ModelFor(ctx, twinUser, own), built.Request, ev.Delta)
	clientGone := genErr != nil && errors.Is(genErr, ErrClientGone)
	if genErr != nil && (!clientGone || partial == "") {
		return res, genErr
	}
	text, incomplete := reply.Text, false
	if clientGone {
		text, incomplete = partial, true
	}
	replyID, at := nextID(msg.ID, s.opts.Now())
	res.Reply = store.ChatMessage{ID: replyID, SessionID: sess.ID, Role: store.RoleAssistant, Content: text,
		ReplyTo: msg.ID, Incomplete: incomplete, Model: reply.Model, CreatedAt: at}
	res.Offline = reply.Offline

	// The final save runs detached from the request: a client that left still gets its partial reply saved.
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.SaveTimeout)
	defer cancel()
	err = s.st.CompleteTurn(saveCtx, res.Reply, store.SessionUpdate{
		LastMessage:       truncate(text, lastMessageRunes),
		Summary:           built.Summary,
		SummarizedThrough: built.SummarizedThrough,
		AddMessages:       2,
		UpdatedAt:         at,
	})
	switch {
	case errors.Is(err, store.ErrConflict): // our claim ran out and another try answered first
		return res, ErrTurnConflict
	case err != nil:
		return res, fmt.Errorf("chat turn: %w", err)
	}
	completed = true
	if clientGone {
		return res, ErrClientGone
	}
	return res, nil
}

// checkAccess returns the twin's person when userID may talk to their twin: they exist, are
// discoverable, allow twin chats, and neither blocked the other. One store call reads the person and the
// blocks. A person who is not discoverable or is blocked either way is not found, as on the public
// profile; one who does not take twin chats refuses.
func (s *Service) checkAccess(ctx context.Context, userID, twinID string) (store.User, error) {
	u, blocked, err := s.st.GetTwin(ctx, twinID, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.User{}, ErrTwinNotFound
	case err != nil:
		return store.User{}, fmt.Errorf("chat: read twin %s and blocks with %s: %w", twinID, userID, err)
	}
	return u, mayTalk(u, blocked)
}

// mayTalk tells whether another person may talk to the twin of u, given whether either blocked the other.
func mayTalk(u store.User, blocked bool) error {
	switch {
	case !u.Discoverable || blocked: // as the public profile: a blocked person is not found
		return ErrTwinNotFound
	case !u.AllowTwinChat:
		return ErrTwinRefused
	}
	return nil
}

// start runs the parallel step of a turn: it reads the person's own persona when readOwn (a new
// session with one's own twin; otherwise the persona was read with the session or by checkAccess)
// while it saves the message, claims its turn and consumes one unit of the daily quota in one store call; a turn that cannot be claimed costs no quota. It returns the message the
// turn answers: msg, or the one an earlier try saved with the same ClientMessageID. When it fails
// after the claim, it releases the claim.
func (s *Service) start(ctx context.Context, userID string, readOwn bool, twinUser *store.User, msg store.ChatMessage, claim string, now time.Time) (store.ChatMessage, error) {
	var (
		wg                sync.WaitGroup
		userErr, startErr error
	)
	if readOwn {
		wg.Go(func() { *twinUser, userErr = s.st.GetUser(ctx, userID) })
	}
	// The claim and the quota run on this goroutine: a turn starts one goroutine at most.
	msg, startErr = s.st.StartTurn(ctx, msg, claim, s.opts.ModelTimeout+s.opts.SaveTimeout+claimSlack,
		store.Charge{UserID: userID, Day: now.UTC().Format(time.DateOnly), Limit: s.opts.DailyQuota})
	wg.Wait()
	switch {
	case errors.Is(startErr, store.ErrConflict):
		return msg, ErrTurnConflict
	case errors.Is(startErr, store.ErrNotFound):
		return msg, ErrSessionNotFound // deleted while the turn ran
	case errors.Is(startErr, store.ErrQuotaExceeded): // the store left the turn unclaimed
		return msg, &QuotaError{RetryAfter: untilMidnight(now)}
	case startErr != nil:
		return msg, fmt.Errorf("chat: save message: %w", startErr)
	}
	var err error
	switch {
	case errors.Is(userErr, store.ErrNotFound):
		err = ErrTwinNotFound
	case userErr != nil:
		err = fmt.Errorf("chat: read twin %s: %w", userID, userErr)
	}
	if err != nil {
		s.release(ctx, msg, claim)
	}
	return msg, err
}

// release gives up the claim on the turn of msg, so that a retry may answer it at once. It runs detached
// from the request, which may have ended; if it fails, the claim ends with its lease.
func (s *Service) release(ctx context.Context, msg store.ChatMessage, claim string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.SaveTimeout)
	defer cancel()
	if err := s.st.ReleaseTurn(rctx, msg.SessionID, msg.ID, claim); err != nil {
		slog.WarnContext(ctx, "chat: release turn", "session_id", msg.SessionID, "message_id", msg.ID, "err", err)
	}
}

// generate calls the model with the turn's deadline, passing deltas to onDelta and collecting them. It
// returns the reply, the text written so far, and an error: ErrClientGone when ctx ended or onDelta
// failed (the client left), a *ModelError when the model failed or timed out.
func (s *Service) generate(ctx context.Context, model llm.Model, req llm.Request, onDelta func(string) error) (llm.Reply, string, error) {
	mctx, cancel := context.WithTimeout(ctx, s.opts.ModelTimeout)
	defer cancel()
	var partial strings.Builder
	var deltaErr error
	reply, err := model.Generate(mctx, req, func(d string) error {
		partial.WriteString(d)
		if onDelta != nil {
			if err := onDelta(d); err != nil {
				deltaErr = err
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil:
		if reply.Text == "" {
			reply.Text = partial.String()
		}
		return reply, partial.String(), nil
	case deltaErr != nil || ctx.Err() != nil:
		return reply, partial.String(), ErrClientGone
	case errors.Is(mctx.Err(), context.DeadlineExceeded):
		return reply, partial.String(), &ModelError{Timeout: true, Err: err}
	}
	return reply, partial.String(), &ModelError{Err: err}
}

// replay answers a retry of a finished turn with what was stored.
func (s *Service) replay(sessionID string, msg, reply store.ChatMessage, ev Events) (TurnResult, error) {
	res := TurnResult{SessionID: sessionID, Message: msg, Reply: reply, Replayed: true,
		Offline: reply.Model == llm.ModelOffline}
	if ev.Session != nil {
		if err := ev.Session(sessionID); err != nil {
			return res, ErrClientGone
		}
	}
	if ev.Delta != nil && reply.Content != "" {
		if err := ev.Delta(reply.Content); err != nil {
			return res, ErrClientGone
		}
	}
	return res, nil
}

// findTurn finds the person's message with a client message id among history, and its reply if any.
func findTurn(history []store.ChatMessage, clientMessageID string) (msg, reply *store.ChatMessage) {
	for i := range history {
		if history[i].Role == store.RoleUser && history[i].ClientMessageID == clientMessageID {
			msg = &history[i]
		}
	}
	if msg == nil {
		return nil, nil
	}
	for i := range history {
		if history[i].Role == store.RoleAssistant && history[i].ReplyTo == msg.ID {
			return msg, &history[i]
		}
	}
	return msg, nil
}

// before returns the messages of history (oldest first) older than the message id.
func before(history []store.ChatMessage, msgID string) []store.ChatMessage {
	for i, m := range history {
		if m.ID >= msgID {
			return history[:i]
		}
	}
	return history
}

// nextID returns a new id, and its time, that sorts after the id after: at t, or one millisecond past
// after's time when t is not later (ULIDs of one millisecond do not sort by creation).
func nextID(after string, t time.Time) (string, time.Time) {
	if u, err := ulid.ParseStrict(after); err == nil {
		if prev := int64(u.Time()); t.UnixMilli() <= prev {
			t = time.UnixMilli(prev + 1).UTC()
		}
	}
	return id.At(t), t
}

// untilMidnight returns the time from now to the next UTC midnight, at least one second.
func untilMidnight(now time.Time) time.Duration {
	now = now.UTC()
	next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	return max(next.Sub(now), time.Second)
}

// truncate folds white space and cuts s to at most n runes, marking a cut with an ellipsis.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
