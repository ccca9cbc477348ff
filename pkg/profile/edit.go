package profile

import (
	"strings"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/lang"
	"github.com/secondme/twin/pkg/store"
)

// Patch is a partial update of a person's own profile (PATCH /api/user/info). A nil field stays as it
// is. Language is "zh-CN" or "en" (package lang).
type Patch struct {
	Nickname      *string `json:"nickname"`
	Avatar        *string `json:"avatar"`
	Bio           *string `json:"bio"`
	Discoverable  *bool   `json:"discoverable"`
	AllowTwinChat *bool   `json:"allowTwinChat"`
	Language      *string `json:"language"`
}

// Validate trims and checks the fields p sets, and returns the normalized patch or an invalid_argument
// *fault.Error naming every field at fault.
func (p Patch) Validate() (Patch, error) {
	c := checker{}
	if p.Nickname != nil {
		s := c.text("nickname", *p.Nickname, 1, MaxNickname, false)
		p.Nickname = &s
	}
	if p.Avatar != nil {
		s := c.text("avatar", *p.Avatar, 0, MaxURL, false)
		if s != "" && (!strings.HasPrefix(s, MediaPrefix) || strings.Contains(s, "..")) {
			c.add("avatar", "must be one of your pictures under "+MediaPrefix+" or empty")
		}
		p.Avatar = &s
	}
	if p.Bio != nil {
		s := c.text("bio", *p.Bio, 0, MaxBio, true)
		p.Bio = &s
	}
	if p.Language != nil && !lang.Valid(*p.Language) {
		c.add("language", "must be zh-CN or en")
	}
	if err := c.err(); err != nil {
		return Patch{}, err
	}
	return p, nil
}

// Apply validates p and applies it to u at time now. A changed bio raises the profile version (it
// feeds compatibility). It reports whether the person should be matched again: their bio changed or
// they became discoverable.
func (p Patch) Apply(u *store.User, now time.Time) (rematch bool, err error) {
	p, err = p.Validate()
	if err != nil {
		return false, err
	}
	if p.Avatar != nil && *p.Avatar != "" && !strings.HasPrefix(*p.Avatar, MediaPrefix+u.ID+"/") {
		c := checker{}
		c.add("avatar", "must be one of your own pictures")
		return false, c.err()
	}
	if p.Nickname != nil {
		u.Nickname = *p.Nickname
	}
	if p.Avatar != nil {
		u.Avatar = *p.Avatar
	}
	if p.Bio != nil && *p.Bio != u.Bio {
		u.Bio = *p.Bio
		bump(u, now)
		rematch = true
	}
	if p.Discoverable != nil {
		rematch = rematch || (*p.Discoverable && !u.Discoverable)
		u.Discoverable = *p.Discoverable
	}
	if p.AllowTwinChat != nil {
		u.AllowTwinChat = *p.AllowTwinChat
	}
	if p.Language != nil {
		u.Language = *p.Language
	}
	u.UpdatedAt = now
	return rematch, nil
}

// ReplaceShades validates a new shade list and puts it in place of u's shades at time now. New shades
// get fresh ids; given ids are kept. The profile version rises, so compatibility is computed again.
func ReplaceShades(u *store.User, in []Shade, now time.Time) error {
	shades, err := ValidateShades(in)
	if err != nil {
		return err
	}
	for i := range shades {
		if shades[i].ID == "" {
			shades[i].ID = id.At(now)
		}
	}
	u.Shades = Records(shades)
	bump(u, now)
	u.UpdatedAt = now
	return nil
}

// bump raises u's profile version.
func bump(u *store.User, now time.Time) {
	u.ProfileVersion++
	u.ProfileChangedAt = now
}
