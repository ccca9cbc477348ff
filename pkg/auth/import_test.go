package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/secondme"
)

func TestShadesFromFitTheAPI(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 3000)
	in := []secondme.Shade{
		{ID: "1", Name: "Tinkerer\nat night", NamePublic: "Ma\u202eker", Icon: "http://insecure.example/x.png", IconPublic: "https://ok.example/i.png",
			ConfidenceLevel: "very_high", Description: "I", DescriptionThirdView: "She", DescriptionPublic: "Makes",
			DescriptionThirdViewPublic: "She makes", Content: long, SourceTopics: []string{"a", "A", "", strings.Repeat("t", 60), "b\x00c"},
			SourceTopicsPublic: []string{"a"}, HasPublicContent: true},
		{ID: "2", Name: "Private", ConfidenceLevel: "bogus"},
		{ID: "3", Name: "   "},
		{ID: "1", Name: "Duplicate id"},
	}
	for i := range 60 {
		in = append(in, secondme.Shade{ID: "x" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Name: "n"})
	}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	got := shadesFrom("U1", created, in)
	if len(got) != profile.MaxShades {
		t.Fatalf("%d shades, want %d", len(got), profile.MaxShades)
	}
	s := got[0]
	if s.Name != "Tinkerer at night" || s.Icon != "https://ok.example/i.png" || s.Confidence != "VERY_HIGH" ||
		s.Description != "She" || s.Public == nil || s.Public.Name != "Maker" || s.Public.Description != "She makes" ||
		len([]rune(s.Content)) != profile.MaxText || len(s.Topics) != 3 {
		t.Errorf("shade = %q %q %q %q %+v %d %v", s.Name, s.Icon, s.Confidence, s.Description, s.Public, len([]rune(s.Content)), s.Topics)
	}
	if got[1].Public != nil || got[1].Confidence != profile.DefaultConfidence {
		t.Errorf("private shade = %+v, want no public part and the default confidence", got[1])
	}
	if _, err := profile.ValidateShades(profile.ShadesOf(got)); err != nil {
		t.Errorf("imported shades break the API's rules: %v", err)
	}
	again := shadesFrom("U1", created, in)
	for i := range got {
		if !id.Valid(got[i].ID) || got[i].ID != again[i].ID {
			t.Fatalf("shade id %q not a stable id of ours", got[i].ID)
		}
	}
	if shadesFrom("U2", created, in)[0].ID == got[0].ID {
		t.Error("two people share a shade id")
	}
}

func TestProfileFrom(t *testing.T) {
	t.Parallel()
	nick, avatar, bio := profileFrom(secondme.UserInfo{Name: strings.Repeat("n", 100), Avatar: "javascript:x", SelfIntroduction: "Hi\x07 there"})
	if len([]rune(nick)) != profile.MaxNickname || avatar != "" || bio != "Hi there" {
		t.Errorf("profileFrom = %q %q %q", nick, avatar, bio)
	}
	if nick, _, _ := profileFrom(secondme.UserInfo{}); nick == "" {
		t.Error("empty name gives an empty nickname")
	}
	if nick, _, _ := profileFrom(secondme.UserInfo{Name: "\u200b\u3164"}); nick != "SecondMe user" {
		t.Errorf("an invisible name gives the nickname %q, want the fallback", nick)
	}
	if nick, _, _ := profileFrom(secondme.UserInfo{Name: "abc\u202edcba"}); nick != "abcdcba" {
		t.Errorf("a name with a right-to-left override gives %q, want it without the override", nick)
	}
	p := profile.Patch{Nickname: &nick, Avatar: &avatar, Bio: &bio}
	if _, err := p.Validate(); err != nil {
		t.Errorf("imported profile breaks the API's rules: %v", err)
	}
}

func TestMemoriesFrom(t *testing.T) {
	t.Parallel()
	at := time.UnixMilli(1767225600000).UTC()
	got := memoriesFrom("U1", []secondme.Memory{
		{ID: "1", Object: "Charles", Content: "Works with Charles", CreatedAt: at},
		{ID: "1", Object: "dup", Content: "dup"},
		{Content: "", Object: ""},
		{Object: "Verse", Content: "Writes"},
	})
	if len(got) != 2 || got[0].Subject != "Charles" || !got[0].CreatedAt.Equal(at) || !id.Valid(got[0].ID) || !id.Valid(got[1].ID) {
		t.Errorf("memoriesFrom = %+v", got)
	}
}
