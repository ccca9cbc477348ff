// Package profile is the logic of a person's profile apart from HTTP: the JSON shapes of the API
// (docs/api.md), their mapping to and from store records, validation with the limits of the API, the
// public view other people see, shade replacement and the export of everything held about a person.
package profile

import (
	"strings"
	"time"

	"github.com/secondme/twin/pkg/store"
)

// Info is a person's own profile, as GET /api/user/info shows it to them. Language is the language
// they read Second Me in, "zh-CN" or "en", and "" until they choose one.
type Info struct {
	ID            string    `json:"id"`
	Nickname      string    `json:"nickname"`
	Avatar        string    `json:"avatar"`
	Bio           string    `json:"bio"`
	Provider      string    `json:"provider"`
	Discoverable  bool      `json:"discoverable"`
	AllowTwinChat bool      `json:"allowTwinChat"`
	Language      string    `json:"language"`
	CreatedAt     time.Time `json:"createdAt"`
}

// InfoOf returns the profile of a user record.
func InfoOf(u store.User) Info {
	return Info{
		ID:            u.ID,
		Nickname:      u.Nickname,
		Avatar:        Picture(u.Avatar),
		Bio:           u.Bio,
		Provider:      u.Provider,
		Discoverable:  u.Discoverable,
		AllowTwinChat: u.AllowTwinChat,
		Language:      u.Language,
		CreatedAt:     u.CreatedAt.UTC(),
	}
}

// Shade is one facet of a person as its owner sees and edits it. Public is nil when the shade is
// private to its owner's own twin.
type Shade struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Icon        string       `json:"icon"`
	Confidence  string       `json:"confidence"`
	Description string       `json:"description"`
	Content     string       `json:"content"`
	Topics      []string     `json:"topics"`
	Public      *PublicShade `json:"public"`
}

// PublicShade is the part of a shade other people may see. An empty Name shows the shade's own name.
type PublicShade struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Content     string   `json:"content"`
	Topics      []string `json:"topics"`
}

// ShadesOf returns the API form of stored shades.
func ShadesOf(ss []store.Shade) []Shade {
	out := make([]Shade, 0, len(ss))
	for _, s := range ss {
		sh := Shade{
			ID:          s.ID,
			Name:        s.Name,
			Icon:        s.Icon,
			Confidence:  s.Confidence,
			Description: s.Description,
			Content:     s.Content,
			Topics:      nonNil(s.Topics),
		}
		if s.Public != nil {
			sh.Public = &PublicShade{
				Name:        s.Public.Name,
				Description: s.Public.Description,
				Content:     s.Public.Content,
				Topics:      nonNil(s.Public.Topics),
			}
		}
		out = append(out, sh)
	}
	return out
}

// Records returns the store form of API shades, as they are (validate them first).
func Records(ss []Shade) []store.Shade {
	out := make([]store.Shade, 0, len(ss))
	for _, s := range ss {
		rec := store.Shade{
			ID:          s.ID,
			Name:        s.Name,
			Icon:        s.Icon,
			Confidence:  s.Confidence,
			Description: s.Description,
			Content:     s.Content,
			Topics:      nonNil(s.Topics),
		}
		if s.Public != nil {
			rec.Public = &store.PublicShade{
				Name:        s.Public.Name,
				Description: s.Public.Description,
				Content:     s.Public.Content,
				Topics:      nonNil(s.Public.Topics),
			}
		}
		out = append(out, rec)
	}
	return out
}

// Memory is one key memory as the export shows it.
type Memory struct {
	ID        string    `json:"id"`
	Subject   string    `json:"subject"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"createdAt"`
}

// MemoriesOf returns the API form of stored memories.
func MemoriesOf(ms []store.Memory) []Memory {
	out := make([]Memory, 0, len(ms))
	for _, m := range ms {
		out = append(out, Memory{ID: m.ID, Subject: m.Subject, Content: m.Content, CreatedAt: m.CreatedAt.UTC()})
	}
	return out
}

// nonNil returns s, or an empty slice for nil, so that JSON shows [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Picture returns the avatar to show for a stored one: a picture in our own media storage, else ""
// (the initials). A provider's URL kept from before pictures were copied is never hot-linked.
func Picture(avatar string) string {
	if strings.HasPrefix(avatar, MediaPrefix) {
		return avatar
	}
	return ""
}

// MediaPrefix starts the path of every avatar kept in our own media storage.
const MediaPrefix = "/media/avatars/"
