package profile

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func sampleUser() store.User {
	return store.User{
		ID: id.New(), Nickname: "Ana", Bio: "Hi", Provider: store.ProviderOIDC, Discoverable: true,
		AllowTwinChat: true, ProfileVersion: 3, ProfileChangedAt: now.Add(-time.Hour), Rev: 7,
		CreatedAt: now.Add(-24 * time.Hour),
		Shades:    []store.Shade{{ID: id.New(), Name: "Old", Confidence: store.ConfidenceLow, Topics: []string{"x"}}},
	}
}

func TestPatchApply(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	yes, no := true, false
	tests := []struct {
		name        string
		start       func(*store.User)
		patch       Patch
		check       func(t *testing.T, u store.User)
		wantRematch bool
		wantVersion int64
	}{
		{
			name: "nickname only", patch: Patch{Nickname: str("  Bea ")}, wantVersion: 3,
			check: func(t *testing.T, u store.User) {
				if u.Nickname != "Bea" {
					t.Errorf("Nickname = %q, want Bea", u.Nickname)
				}
			},
		},
		{
			name: "bio changes", patch: Patch{Bio: str("New bio")}, wantRematch: true, wantVersion: 4,
			check: func(t *testing.T, u store.User) {
				if u.Bio != "New bio" || !u.ProfileChangedAt.Equal(now) {
					t.Errorf("Bio, ProfileChangedAt = %q, %v; want New bio, %v", u.Bio, u.ProfileChangedAt, now)
				}
			},
		},
		{name: "same bio", patch: Patch{Bio: str(" Hi ")}, wantVersion: 3},
		{
			name: "hide", patch: Patch{Discoverable: &no, AllowTwinChat: &no}, wantVersion: 3,
			check: func(t *testing.T, u store.User) {
				if u.Discoverable || u.AllowTwinChat {
					t.Errorf("Discoverable, AllowTwinChat = %v, %v; want false, false", u.Discoverable, u.AllowTwinChat)
				}
			},
		},
		{
			name: "show again", start: func(u *store.User) { u.Discoverable = false }, patch: Patch{Discoverable: &yes},
			wantRematch: true, wantVersion: 3,
		},
		{name: "already shown", patch: Patch{Discoverable: &yes}, wantVersion: 3},
		{
			name: "language", patch: Patch{Language: str("zh-CN")}, wantVersion: 3,
			check: func(t *testing.T, u store.User) {
				if u.Language != "zh-CN" {
					t.Errorf("Language = %q, want zh-CN", u.Language)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := sampleUser()
			if tt.start != nil {
				tt.start(&u)
			}
			rematch, err := tt.patch.Apply(&u, now)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if rematch != tt.wantRematch {
				t.Errorf("rematch = %v, want %v", rematch, tt.wantRematch)
			}
			if u.ProfileVersion != tt.wantVersion {
				t.Errorf("ProfileVersion = %d, want %d", u.ProfileVersion, tt.wantVersion)
			}
			if !u.UpdatedAt.Equal(now) {
				t.Errorf("UpdatedAt = %v, want %v", u.UpdatedAt, now)
			}
			if tt.check != nil {
				tt.check(t, u)
			}
		})
	}
}

func TestPatchApplyInvalidChangesNothing(t *testing.T) {
	t.Parallel()
	u := sampleUser()
	before := u
	empty := ""
	bio := "ok"
	_, err := Patch{Nickname: &empty, Bio: &bio}.Apply(&u, now)
	var verr *fault.Error
	if !errors.As(err, &verr) {
		t.Fatalf("Apply error = %v, want a *fault.Error", err)
	}
	if !reflect.DeepEqual(u, before) {
		t.Errorf("user changed by an invalid patch: %+v", u)
	}
}

func TestReplaceShades(t *testing.T) {
	t.Parallel()
	u := sampleUser()
	kept := id.New()
	in := []Shade{
		{ID: kept, Name: "Kept", Confidence: "HIGH", Topics: []string{"chess"}},
		{Name: " New ", Public: &PublicShade{Name: "Public new"}},
	}
	if err := ReplaceShades(&u, in, now); err != nil {
		t.Fatalf("ReplaceShades: %v", err)
	}
	if got, want := len(u.Shades), 2; got != want {
		t.Fatalf("len(Shades) = %d, want %d", got, want)
	}
	if got := u.Shades[0].ID; got != kept {
		t.Errorf("Shades[0].ID = %q, want the given %q", got, kept)
	}
	if got := u.Shades[1].ID; !id.Valid(got) || got == kept {
		t.Errorf("Shades[1].ID = %q, want a fresh id", got)
	}
	if got := u.Shades[1].Name; got != "New" {
		t.Errorf("Shades[1].Name = %q, want trimmed New", got)
	}
	if got := u.Shades[1].Public; got == nil || got.Name != "Public new" || got.Topics == nil {
		t.Errorf("Shades[1].Public = %+v, want the public part with non-nil topics", got)
	}
	if got, want := u.ProfileVersion, int64(4); got != want {
		t.Errorf("ProfileVersion = %d, want %d", got, want)
	}
	if !u.ProfileChangedAt.Equal(now) {
		t.Errorf("ProfileChangedAt = %v, want %v", u.ProfileChangedAt, now)
	}
}

func TestReplaceShadesInvalidChangesNothing(t *testing.T) {
	t.Parallel()
	u := sampleUser()
	before := u
	err := ReplaceShades(&u, []Shade{{Name: "ok"}, {Name: ""}}, now)
	var verr *fault.Error
	if !errors.As(err, &verr) || verr.Fields["shades[1].name"] == "" {
		t.Fatalf("ReplaceShades error = %v, want shades[1].name named", err)
	}
	if !reflect.DeepEqual(u, before) {
		t.Errorf("user changed by invalid shades")
	}
}

func TestShadesRoundTrip(t *testing.T) {
	t.Parallel()
	recs := []store.Shade{
		{ID: id.New(), Name: "A", Icon: "https://e.com/i", Confidence: "LOW", Description: "d", Content: "c",
			Topics: []string{"t"}, Public: &store.PublicShade{Name: "PA", Description: "pd", Content: "pc", Topics: []string{"pt"}}},
		{ID: id.New(), Name: "B", Confidence: "HIGH", Topics: []string{}},
	}
	if got := Records(ShadesOf(recs)); !reflect.DeepEqual(got, recs) {
		t.Errorf("Records(ShadesOf(x)) = %+v, want %+v", got, recs)
	}
}

// TestPatchAvatar checks that a person may show one of their own pictures, or none, and nothing else.
func TestPatchAvatar(t *testing.T) {
	tests := []struct {
		name    string
		avatar  func(u store.User) string
		wantErr bool
	}{
		{"own picture", func(u store.User) string { return MediaPrefix + u.ID + "/ab.png" }, false},
		{"none", func(store.User) string { return "" }, false},
		{"someone else's picture", func(store.User) string { return MediaPrefix + id.New() + "/ab.png" }, true},
		{"hot link", func(store.User) string { return "https://example.com/a.png" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := sampleUser()
			u.Avatar = MediaPrefix + u.ID + "/old.png"
			want := tt.avatar(u)
			_, err := Patch{Avatar: &want}.Apply(&u, now)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Apply: err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && u.Avatar != want {
				t.Errorf("Avatar = %q, want %q", u.Avatar, want)
			}
			if tt.wantErr && u.Avatar != MediaPrefix+u.ID+"/old.png" {
				t.Errorf("Avatar = %q after a refused patch", u.Avatar)
			}
		})
	}
}

// TestPicture checks that only our own media are shown as a picture.
func TestPicture(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/media/avatars/u/ab.png", "/media/avatars/u/ab.png"},
		{"https://cdn.example.com/a.png", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Picture(tt.in); got != tt.want {
			t.Errorf("Picture(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
