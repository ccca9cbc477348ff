// Package demo is the demo sign-in that the local stack (infra/local, `make run`) and the gateway
// (infra/gateway, `make gateway`) share: the demo personas (personas.json), their seeding into a
// store, the list GET /local/personas serves, and a mock OpenID Connect provider where login_hint
// names who signs in.
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/oklog/ulid/v2"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store"
)

// personasJSON holds the demo personas, with fixed ids so that sign-in links and tests stay valid
// across restarts and machines.
//
//go:embed personas.json
var personasJSON []byte

// persona is one demo person in personas.json.
type persona struct {
	ID            string          `json:"id"`
	Nickname      string          `json:"nickname"`
	Bio           string          `json:"bio"`
	Language      string          `json:"language"`
	Discoverable  bool            `json:"discoverable"`
	AllowTwinChat bool            `json:"allowTwinChat"`
	Shades        []profile.Shade `json:"shades"`
	Memories      []struct {
		ID      string `json:"id"`
		Subject string `json:"subject"`
		Content string `json:"content"`
	} `json:"memories"`
}

// PersonaRef is one line of GET /local/personas: who one can sign in as.
type PersonaRef struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
}

// Personas decodes and checks the embedded personas and returns them as user records. A persona's
// creation time is the time in its id.
func Personas() ([]store.User, error) {
	dec := json.NewDecoder(bytes.NewReader(personasJSON))
	dec.DisallowUnknownFields()
	var ps []persona
	if err := dec.Decode(&ps); err != nil {
		return nil, fmt.Errorf("personas.json: %w", err)
	}
	users := make([]store.User, 0, len(ps))
	seen := map[string]bool{}
	for i, p := range ps {
		if !id.Valid(p.ID) || seen[p.ID] {
			return nil, fmt.Errorf("personas.json: persona %d: id %q is not a fresh id in our format", i, p.ID)
		}
		seen[p.ID] = true
		nickname, bio := p.Nickname, p.Bio
		patch := profile.Patch{Nickname: &nickname, Bio: &bio}
		if p.Language != "" {
			patch.Language = &p.Language
		}
		if _, err := patch.Validate(); err != nil {
			return nil, fmt.Errorf("personas.json: %s: %w", p.Nickname, err)
		}
		shades, err := profile.ValidateShades(p.Shades)
		if err != nil {
			return nil, fmt.Errorf("personas.json: %s: %w", p.Nickname, err)
		}
		created := ulid.Time(ulid.MustParseStrict(p.ID).Time()).UTC()
		u := store.User{
			ID: p.ID, Nickname: p.Nickname, Bio: p.Bio, Provider: store.ProviderOIDC, Language: p.Language,
			Discoverable: p.Discoverable, AllowTwinChat: p.AllowTwinChat, Shades: profile.Records(shades),
			ProfileVersion: 1, ProfileChangedAt: created, CreatedAt: created, UpdatedAt: created,
		}
		for _, s := range u.Shades {
			if s.ID == "" {
				return nil, fmt.Errorf("personas.json: %s: shade %q has no id", p.Nickname, s.Name)
			}
		}
		for _, m := range p.Memories {
			if !id.Valid(m.ID) {
				return nil, fmt.Errorf("personas.json: %s: memory id %q is not in our format", p.Nickname, m.ID)
			}
			u.Memories = append(u.Memories, store.Memory{ID: m.ID, Subject: m.Subject, Content: m.Content, CreatedAt: created})
		}
		users = append(users, u)
	}
	return users, nil
}

// SeedStore is what seeding the personas needs of a store.
type SeedStore interface {
	CreateUser(ctx context.Context, u store.User) error
	GetUser(ctx context.Context, id string) (store.User, error)
	CreateIdentity(ctx context.Context, i store.Identity) error
}

// Rematcher schedules the matching of a person.
type Rematcher interface {
	Rematch(ctx context.Context, userID string) error
}

// Seed stores each persona that is missing, with its sign-in identity (provider oidc, the persona's
// id as subject), and schedules its matching (a failure to schedule is logged, not returned). A
// persona that exists is left alone, even if its person edited it. It returns how many personas it
// created.
func Seed(ctx context.Context, st SeedStore, rm Rematcher, personas []store.User) (int, error) {
	created := 0
	for _, u := range personas {
		_, err := st.GetUser(ctx, u.ID)
		switch {
		case err == nil:
			continue
		case !errors.Is(err, store.ErrNotFound):
			return created, fmt.Errorf("seed persona %s: %w", u.ID, err)
		}
		if err := st.CreateUser(ctx, u); err != nil && !errors.Is(err, store.ErrConflict) {
			return created, fmt.Errorf("seed persona %s: %w", u.ID, err)
		}
		ident := store.Identity{Provider: store.ProviderOIDC, Subject: u.ID, UserID: u.ID, CreatedAt: u.CreatedAt, UpdatedAt: u.CreatedAt}
		if err := st.CreateIdentity(ctx, ident); err != nil && !errors.Is(err, store.ErrConflict) {
			return created, fmt.Errorf("seed identity of persona %s: %w", u.ID, err)
		}
		created++
		if err := rm.Rematch(ctx, u.ID); err != nil {
			slog.WarnContext(ctx, "persona not matched yet", "user_id", u.ID, "err", err)
		}
	}
	return created, nil
}

// PersonaList answers GET (and HEAD) with the personas one can sign in as, [{id, nickname}], and any
// other method with a JSON 405. It serves GET /local/personas.
func PersonaList(personas []store.User) http.Handler {
	refs := make([]PersonaRef, 0, len(personas))
	for _, u := range personas {
		refs = append(refs, PersonaRef{ID: u.ID, Nickname: u.Nickname})
	}
	return api.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			return fault.Errorf(fault.CodeMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path)
		}
		api.WriteJSON(w, http.StatusOK, refs)
		return nil
	})
}
