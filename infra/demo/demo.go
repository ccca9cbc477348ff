package main

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

// loadPersonas decodes and checks the embedded personas and returns them as user records. A
// persona's creation time is the time in its id.
func loadPersonas() ([]store.User, error) {
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
		if _, err := (profile.Patch{Nickname: &nickname, Bio: &bio}).Validate(); err != nil {
			return nil, fmt.Errorf("personas.json: %s: %w", p.Nickname, err)
		}
		shades, err := profile.ValidateShades(p.Shades)
		if err != nil {
			return nil, fmt.Errorf("personas.json: %s: %w", p.Nickname, err)
		}
		created := ulid.Time(ulid.MustParseStrict(p.ID).Time()).UTC()
		u := store.User{
			ID: p.ID, Nickname: p.Nickname, Bio: p.Bio, Provider: store.ProviderOIDC,
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

// seedStore is what seeding the personas needs.
type seedStore interface {
	CreateUser(ctx context.Context, u store.User) error
	GetUser(ctx context.Context, id string) (store.User, error)
	CreateIdentity(ctx context.Context, i store.Identity) error
}

// seedPersonas stores each persona that is missing, with its sign-in identity (provider oidc, the
// persona's id as subject), and schedules its matching. A persona that exists is left alone, even
// if its person edited it. It returns how many personas it created.
func seedPersonas(ctx context.Context, st seedStore, rematch interface {
	Rematch(ctx context.Context, userID string) error
}, personas []store.User) (int, error) {
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
		if err := rematch.Rematch(ctx, u.ID); err != nil {
			slog.WarnContext(ctx, "persona not matched yet", "user", u.ID, "err", err)
		}
	}
	return created, nil
}

// personaList serves GET /local/personas.
func personaList(personas []store.User) api.HandlerFunc {
	refs := make([]PersonaRef, 0, len(personas))
	for _, u := range personas {
		refs = append(refs, PersonaRef{ID: u.ID, Nickname: u.Nickname})
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		api.WriteJSON(w, http.StatusOK, refs)
		return nil
	}
}
