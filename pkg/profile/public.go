package profile

import "github.com/secondme/twin/pkg/store"

// PublicProfile is what other people see of a discoverable person (GET /api/users/{id}).
type PublicProfile struct {
	ID            string            `json:"id"`
	Nickname      string            `json:"nickname"`
	Avatar        string            `json:"avatar"`
	Bio           string            `json:"bio"`
	AllowTwinChat bool              `json:"allowTwinChat"`
	Shades        []PublicShadeView `json:"shades"`
}

// PublicShadeView is one shade as other people see it: its id and its public fields, nothing else.
type PublicShadeView struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Content     string   `json:"content"`
	Topics      []string `json:"topics"`
}

// PublicView returns what other people may see of u. Only the public fields of shades appear; a
// shade without public fields is left out entirely, and so are memories. Its name falls back to the
// shade's own name when the public name is empty, as in SecondMe.
func PublicView(u store.User) PublicProfile {
	p := PublicProfile{
		ID:            u.ID,
		Nickname:      u.Nickname,
		Avatar:        Picture(u.Avatar),
		Bio:           u.Bio,
		AllowTwinChat: u.AllowTwinChat,
		Shades:        []PublicShadeView{},
	}
	for _, s := range u.Shades {
		if s.Public == nil {
			continue
		}
		name := s.Public.Name
		if name == "" {
			name = s.Name
		}
		p.Shades = append(p.Shades, PublicShadeView{
			ID:          s.ID,
			Name:        name,
			Description: s.Public.Description,
			Content:     s.Public.Content,
			Topics:      nonNil(s.Public.Topics),
		})
	}
	return p
}
