package chat

import (
	"context"
	"errors"
	"fmt"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store"
)

// SessionView is a session with the name of its twin, as its owner sees it.
type SessionView struct {
	store.ChatSession
	// TwinNickname is the twin's person's nickname ("" if they erased their account).
	TwinNickname string
	// TwinAvatar is the twin's person's avatar URL, as their public profile shows it ("" for none).
	TwinAvatar string
}

// CreateSession starts an empty session of userID with twinID's twin (userID's own when twinID is
// empty), after the same access check as a turn.
func (s *Service) CreateSession(ctx context.Context, userID, twinID string) (SessionView, error) {
	if twinID == "" {
		twinID = userID
	}
	var twinUser store.User
	var err error
	if twinID == userID {
		twinUser, err = s.st.GetUser(ctx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return SessionView{}, ErrTwinNotFound
		}
	} else {
		twinUser, err = s.checkAccess(ctx, userID, twinID)
	}
	if err != nil {
		return SessionView{}, err
	}
	now := s.opts.Now()
	sess := store.ChatSession{ID: id.At(now), OwnerID: userID, TwinID: twinID, CreatedAt: now, UpdatedAt: now}
	if err := s.st.CreateSession(ctx, sess); err != nil {
		return SessionView{}, fmt.Errorf("create session: %w", err)
	}
	return SessionView{ChatSession: sess, TwinNickname: twinUser.Nickname, TwinAvatar: profile.Picture(twinUser.Avatar)}, nil
}

// Session returns one of userID's sessions; ErrSessionNotFound for a session of someone else.
func (s *Service) Session(ctx context.Context, userID, sessionID string) (SessionView, error) {
	sess, err := s.owned(ctx, userID, sessionID)
	if err != nil {
		return SessionView{}, err
	}
	u, err := s.st.GetUser(ctx, sess.TwinID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return SessionView{}, fmt.Errorf("read twin %s: %w", sess.TwinID, err)
	}
	return SessionView{ChatSession: sess, TwinNickname: u.Nickname, TwinAvatar: profile.Picture(u.Avatar)}, nil
}

// Sessions lists userID's sessions, most recently updated first, with their twins' nicknames and avatars
// (two store calls: the page and one batch read of the twins).
func (s *Service) Sessions(ctx context.Context, userID, cursor string, limit int) (store.Page[SessionView], error) {
	page, err := s.st.ListSessions(ctx, userID, cursor, limit)
	if err != nil {
		return store.Page[SessionView]{}, fmt.Errorf("list sessions: %w", err)
	}
	var ids []string
	seen := map[string]bool{}
	for _, c := range page.Items {
		if !seen[c.TwinID] {
			seen[c.TwinID] = true
			ids = append(ids, c.TwinID)
		}
	}
	twins := map[string]store.User{}
	if len(ids) > 0 {
		users, err := s.st.GetUsers(ctx, ids)
		if err != nil {
			return store.Page[SessionView]{}, fmt.Errorf("list sessions: read twins: %w", err)
		}
		for _, u := range users {
			twins[u.ID] = u
		}
	}
	out := store.Page[SessionView]{Items: make([]SessionView, 0, len(page.Items)), Next: page.Next}
	for _, c := range page.Items {
		tw := twins[c.TwinID]
		out.Items = append(out.Items, SessionView{ChatSession: c, TwinNickname: tw.Nickname, TwinAvatar: profile.Picture(tw.Avatar)})
	}
	return out, nil
}

// Messages lists a page of one of userID's sessions' messages, newest first, starting after the cursor.
func (s *Service) Messages(ctx context.Context, userID, sessionID, cursor string, limit int) (store.Page[store.ChatMessage], error) {
	if _, err := s.owned(ctx, userID, sessionID); err != nil {
		return store.Page[store.ChatMessage]{}, err
	}
	page, err := s.st.ListMessages(ctx, sessionID, cursor, limit)
	if err != nil {
		return store.Page[store.ChatMessage]{}, fmt.Errorf("list messages: %w", err)
	}
	return page, nil
}

// DeleteSession deletes one of userID's sessions and its messages.
func (s *Service) DeleteSession(ctx context.Context, userID, sessionID string) error {
	if _, err := s.owned(ctx, userID, sessionID); err != nil {
		return err
	}
	if err := s.st.DeleteSession(ctx, sessionID); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// owned returns a session of userID; ErrSessionNotFound when it does not exist or is someone else's.
func (s *Service) owned(ctx context.Context, userID, sessionID string) (store.ChatSession, error) {
	sess, err := s.st.GetSession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) || err == nil && sess.OwnerID != userID {
		return store.ChatSession{}, ErrSessionNotFound
	}
	if err != nil {
		return store.ChatSession{}, fmt.Errorf("read session %s: %w", sessionID, err)
	}
	return sess, nil
}
