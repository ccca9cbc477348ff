// Package matchesapi serves a person's matches: the ranked list, one match with its evidence (the
// twin-to-twin conversation), and a refresh that recomputes a pair in the background.
package matchesapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store"
)

// Page limits of GET /api/matches.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Store is what the matches routes read.
type Store interface {
	ListMatches(ctx context.Context, userID, cursor string, limit int) (store.Page[store.MatchEntry], error)
	GetMatch(ctx context.Context, a, b string) (store.Match, error)
	GetUser(ctx context.Context, id string) (store.User, error)
	GetUsers(ctx context.Context, ids []string) ([]store.User, error)
	ListBlocks(ctx context.Context, blockerID string) ([]store.Block, error)
	Blocked(ctx context.Context, a, b string) (bool, error)
}

var _ Store = store.Store(nil)

// Refresher enqueues the recomputation of a pair (rematch.Rematcher provides it).
type Refresher interface {
	// Refresh enqueues the pair job of a and b; an error means nothing was queued.
	Refresh(ctx context.Context, a, b string) error
}

// Handler serves the matches routes.
type Handler struct {
	st      Store
	auth    api.Authenticator
	refresh Refresher
}

// New returns the matches routes over st, signed in through auth, refreshing through refresh.
func New(st Store, auth api.Authenticator, refresh Refresher) *Handler {
	return &Handler{st: st, auth: auth, refresh: refresh}
}

// Register adds the routes to rt.
func (h *Handler) Register(rt *api.Router) {
	rt.HandleFunc("GET /api/matches", api.RequireUser(h.auth, h.list))
	rt.HandleFunc("GET /api/matches/{userId}", api.RequireUser(h.auth, h.get))
	rt.HandleFunc("POST /api/matches/{userId}/refresh", api.RequireUser(h.auth, h.postRefresh))
}

// personJSON is the other person of a match, as anyone may see them.
type personJSON struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Avatar   string `json:"avatar"`
}

// matchJSON is one match as the caller sees it.
type matchJSON struct {
	Person     personJSON `json:"person"`
	Score      int        `json:"score"`
	Reasoning  string     `json:"reasoning"`
	Highlights []string   `json:"highlights"`
	Challenges []string   `json:"challenges"`
	Parts      []string   `json:"parts"`
	ComputedAt time.Time  `json:"computedAt"`
	// Transcript is set on GET /api/matches/{userId} only.
	Transcript []lineJSON `json:"transcript,omitempty"`
}

type lineJSON struct {
	Speaker string `json:"speaker"`
	Text    string `json:"text"`
}

// toJSON is the match m of me and other as me reads it, in language (compat.Read).
func toJSON(m store.Match, me, other store.User, language string) matchJSON {
	words := compat.Read(m, me, other, language)
	return matchJSON{
		Person: personJSON{ID: other.ID, Nickname: other.Nickname, Avatar: profile.Picture(other.Avatar)},
		Score:  m.Score, Reasoning: words.Reasoning, Highlights: nonNil(words.Highlights), Challenges: nonNil(words.Challenges),
		Parts: nonNil(m.Parts), ComputedAt: m.ComputedAt.UTC(),
	}
}

// reader loads the signed-in person, whose language the answer (errors included) is written in: their
// profile's, else the browser's (api.Language).
func (h *Handler) reader(r *http.Request, me string) (store.User, string, error) {
	u, err := h.st.GetUser(r.Context(), me)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, "", fault.NotFound("user")
	}
	if err != nil {
		return store.User{}, "", fmt.Errorf("get user %s: %w", me, err)
	}
	api.SetLanguage(r.Context(), u.Language)
	return u, api.Language(r), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// list answers GET /api/matches?cursor=&limit=: the caller's matches, best first. People who are no
// longer discoverable, or whom the caller blocked, are left out (their match is on its way out).
func (h *Handler) list(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	me := api.UserID(ctx)
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	page, err := h.st.ListMatches(ctx, me, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return fmt.Errorf("list matches of %s: %w", me, err)
	}
	ids := make([]string, len(page.Items))
	for i, e := range page.Items {
		ids[i] = e.OtherID
	}
	people, blocks, matches, err := h.details(ctx, me, ids)
	if err != nil {
		return err
	}
	reader, language, err := h.reader(r, me)
	if err != nil {
		return err
	}
	out := struct {
		Matches []matchJSON `json:"matches"`
		Next    string      `json:"next"`
	}{Matches: make([]matchJSON, 0, len(ids)), Next: page.Next}
	for i, other := range ids {
		u, ok := people[other]
		if !ok || !u.Discoverable || blocks[other] || matches[i].A == "" {
			continue
		}
		out.Matches = append(out.Matches, toJSON(matches[i], reader, u, language))
	}
	api.WriteJSON(w, http.StatusOK, out)
	return nil
}

// details reads, at once, the other people of a page (one batch get), the caller's blocks (one
// query) and each match (one get each, in parallel). A match gone since the listing is left zero.
func (h *Handler) details(ctx context.Context, me string, ids []string) (map[string]store.User, map[string]bool, []store.Match, error) {
	people := make(map[string]store.User, len(ids))
	blocks := make(map[string]bool)
	matches := make([]store.Match, len(ids))
	if len(ids) == 0 {
		return people, blocks, matches, nil
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ids)+2)
	wg.Add(2 + len(ids))
	go func() {
		defer wg.Done()
		users, err := h.st.GetUsers(ctx, ids)
		if err != nil {
			errs[0] = fmt.Errorf("get matched people: %w", err)
			return
		}
		for _, u := range users {
			people[u.ID] = u
		}
	}()
	go func() {
		defer wg.Done()
		bs, err := h.st.ListBlocks(ctx, me)
		if err != nil {
			errs[1] = fmt.Errorf("list blocks of %s: %w", me, err)
			return
		}
		for _, b := range bs {
			blocks[b.BlockedID] = true
		}
	}()
	for i, other := range ids {
		go func() {
			defer wg.Done()
			m, err := h.st.GetMatch(ctx, me, other)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				errs[2+i] = fmt.Errorf("get match %s/%s: %w", me, other, err)
				return
			}
			matches[i] = m
		}()
	}
	wg.Wait()
	return people, blocks, matches, errors.Join(errs...)
}

// get answers GET /api/matches/{userId}: the caller's match with that person, with the twin-to-twin
// transcript. 404 when there is none, or the person is hidden or blocked either way.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	me := api.UserID(ctx)
	other, err := h.matchable(ctx, r, me)
	if err != nil {
		return err
	}
	m, err := h.st.GetMatch(ctx, me, other.ID)
	if errors.Is(err, store.ErrNotFound) {
		return fault.NotFound("match")
	}
	if err != nil {
		return fmt.Errorf("get match %s/%s: %w", me, other.ID, err)
	}
	reader, language, err := h.reader(r, me)
	if err != nil {
		return err
	}
	out := toJSON(m, reader, other, language)
	out.Transcript = make([]lineJSON, 0, len(m.Transcript))
	for _, l := range m.Transcript {
		out.Transcript = append(out.Transcript, lineJSON{Speaker: l.Speaker, Text: l.Text})
	}
	api.WriteJSON(w, http.StatusOK, out)
	return nil
}

// postRefresh answers POST /api/matches/{userId}/refresh: 202 once the pair job is queued.
func (h *Handler) postRefresh(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	me := api.UserID(ctx)
	other, err := h.matchable(ctx, r, me)
	if err != nil {
		return err
	}
	if err := h.refresh.Refresh(ctx, me, other.ID); err != nil {
		return fmt.Errorf("refresh %s/%s: %w", me, other.ID, err)
	}
	api.WriteJSON(w, http.StatusAccepted, map[string]string{"status": "queued"})
	return nil
}

// matchable returns the person of the path's {userId} when the caller may be matched with them: a
// valid id of someone else who exists, is discoverable, and with no block either way. Anything else is
// 404 (400 for an id that is not one), so that hidden people and blocks are not revealed.
func (h *Handler) matchable(ctx context.Context, r *http.Request, me string) (store.User, error) {
	otherID := r.PathValue("userId")
	if !id.Valid(otherID) {
		return store.User{}, fault.Invalid("userId", "not a user id")
	}
	if otherID == me {
		return store.User{}, fault.NotFound("match")
	}
	other, err := h.st.GetUser(ctx, otherID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fault.NotFound("match")
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", otherID, err)
	}
	if !other.Discoverable {
		return store.User{}, fault.NotFound("match")
	}
	blocked, err := h.st.Blocked(ctx, me, otherID)
	if err != nil {
		return store.User{}, fmt.Errorf("blocked %s/%s: %w", me, otherID, err)
	}
	if blocked {
		return store.User{}, fault.NotFound("match")
	}
	return other, nil
}

// pageLimit reads ?limit= (1-MaxLimit, default DefaultLimit).
func pageLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, fault.Invalid("limit", fmt.Sprintf("must be a whole number from 1 to %d", MaxLimit))
	}
	return n, nil
}
