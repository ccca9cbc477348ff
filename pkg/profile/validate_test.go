package profile

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
)

func goodShade() Shade {
	return Shade{
		Name:        "Climber",
		Icon:        "https://example.com/i.png",
		Confidence:  "HIGH",
		Description: "Spends weekends on granite.",
		Content:     "Trad climbing in the Alps.",
		Topics:      []string{"climbing", "alps"},
		Public:      &PublicShade{Name: "Outdoors", Description: "Likes mountains.", Topics: []string{"outdoors"}},
	}
}

func TestValidateShades(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("é", n) }
	many := func(n int) []Shade {
		out := make([]Shade, n)
		for i := range out {
			out[i] = goodShade()
		}
		return out
	}
	topics := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "t" + strings.Repeat("x", i)
		}
		return out
	}
	with := func(f func(*Shade)) []Shade {
		s := goodShade()
		f(&s)
		return []Shade{s}
	}
	fresh := id.New()
	tests := []struct {
		name  string
		in    []Shade
		field string // "" when valid
		why   string
	}{
		{"empty list", nil, "", ""},
		{"one good", []Shade{goodShade()}, "", ""},
		{"fifty", many(50), "", ""},
		{"fifty-one", many(51), "shades", "at most 50 shades"},
		{"private shade", with(func(s *Shade) { s.Public = nil }), "", ""},
		{"name missing", with(func(s *Shade) { s.Name = "" }), "shades[0].name", "required"},
		{"name only spaces", with(func(s *Shade) { s.Name = "   " }), "shades[0].name", "required"},
		{"name 80", with(func(s *Shade) { s.Name = long(80) }), "", ""},
		{"name 81", with(func(s *Shade) { s.Name = long(81) }), "shades[0].name", "at most 80 characters"},
		{"name control", with(func(s *Shade) { s.Name = "a\x00b" }), "shades[0].name", "contains control characters"},
		{"name newline", with(func(s *Shade) { s.Name = "a\nb" }), "shades[0].name", "contains control characters"},
		{"name bad utf8", with(func(s *Shade) { s.Name = "a\xffb" }), "shades[0].name", "not valid UTF-8"},
		{"content newline", with(func(s *Shade) { s.Content = "line\nline" }), "", ""},
		{"content 2000", with(func(s *Shade) { s.Content = long(2000) }), "", ""},
		{"content 2001", with(func(s *Shade) { s.Content = long(2001) }), "shades[0].content", "at most 2000 characters"},
		{"description 2001", with(func(s *Shade) { s.Description = long(2001) }), "shades[0].description", "at most 2000 characters"},
		{"public content 2001", with(func(s *Shade) { s.Public.Content = long(2001) }), "shades[0].public.content", "at most 2000 characters"},
		{"public description 2001", with(func(s *Shade) { s.Public.Description = long(2001) }), "shades[0].public.description", "at most 2000 characters"},
		{"public name empty", with(func(s *Shade) { s.Public.Name = "" }), "", ""},
		{"public name 81", with(func(s *Shade) { s.Public.Name = long(81) }), "shades[0].public.name", "at most 80 characters"},
		{"bad confidence", with(func(s *Shade) { s.Confidence = "SURE" }), "shades[0].confidence", "must be one of VERY_HIGH, HIGH, MEDIUM, LOW, VERY_LOW"},
		{"lower case confidence", with(func(s *Shade) { s.Confidence = "high" }), "shades[0].confidence", "must be one of VERY_HIGH, HIGH, MEDIUM, LOW, VERY_LOW"},
		{"icon http", with(func(s *Shade) { s.Icon = "http://example.com/i.png" }), "shades[0].icon", "must be an https URL or empty"},
		{"icon javascript", with(func(s *Shade) { s.Icon = "javascript:alert(1)" }), "shades[0].icon", "must be an https URL or empty"},
		{"icon relative", with(func(s *Shade) { s.Icon = "/i.png" }), "shades[0].icon", "must be an https URL or empty"},
		{"icon user info", with(func(s *Shade) { s.Icon = "https://a:b@example.com/" }), "shades[0].icon", "must be an https URL or empty"},
		{"twenty topics", with(func(s *Shade) { s.Topics = topics(20) }), "", ""},
		{"twenty-one topics", with(func(s *Shade) { s.Topics = topics(21) }), "shades[0].topics", "at most 20 topics"},
		{"empty topic", with(func(s *Shade) { s.Topics = []string{"a", " "} }), "shades[0].topics[1]", "required"},
		{"topic 41", with(func(s *Shade) { s.Topics = []string{long(41)} }), "shades[0].topics[0]", "at most 40 characters"},
		{"repeated topic", with(func(s *Shade) { s.Topics = []string{"Chess", "chess "} }), "shades[0].topics[1]", "repeated topic"},
		{"public topic 41", with(func(s *Shade) { s.Public.Topics = []string{long(41)} }), "shades[0].public.topics[0]", "at most 40 characters"},
		{"given id", with(func(s *Shade) { s.ID = fresh }), "", ""},
		{"bad id", with(func(s *Shade) { s.ID = "shade-1" }), "shades[0].id", "not an id in our format"},
		{"repeated id", []Shade{{ID: fresh, Name: "a"}, {ID: fresh, Name: "b"}}, "shades[1].id", "repeated id"},
		{"fault in fourth", append(many(3), Shade{Name: ""}), "shades[3].name", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateShades(tt.in)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("ValidateShades: %v, want no error", err)
				}
				if len(got) != len(tt.in) {
					t.Errorf("got %d shades, want %d", len(got), len(tt.in))
				}
				return
			}
			var verr *fault.Error
			if !errors.As(err, &verr) || verr.Code != fault.CodeInvalidArgument {
				t.Fatalf("ValidateShades error = %v, want an invalid_argument *fault.Error", err)
			}
			if got, want := verr.Fields[tt.field], tt.why; got != want {
				t.Errorf("Fields[%q] = %q, want %q (all: %v)", tt.field, got, want, verr.Fields)
			}
		})
	}
}

func TestValidateShadesNormalizes(t *testing.T) {
	t.Parallel()
	in := []Shade{{
		Name: "  Chess  ", Description: " d ", Topics: []string{" openings "},
		Public: &PublicShade{Name: " P ", Topics: nil},
	}}
	got, err := ValidateShades(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Shade{{
		Name: "Chess", Confidence: DefaultConfidence, Description: "d", Topics: []string{"openings"},
		Public: &PublicShade{Name: "P", Topics: []string{}},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// Normalized shades are valid and stay the same.
	again, err := ValidateShades(got)
	if err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("validating again: %+v, %v; want %+v", again, err, got)
	}
}

func TestPatchValidate(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	tests := []struct {
		name  string
		in    Patch
		field string
		why   string
	}{
		{"nothing", Patch{}, "", ""},
		{"nickname", Patch{Nickname: str("Ana")}, "", ""},
		{"nickname empty", Patch{Nickname: str(" ")}, "nickname", "required"},
		{"nickname 64", Patch{Nickname: str(strings.Repeat("ß", 64))}, "", ""},
		{"nickname 65", Patch{Nickname: str(strings.Repeat("ß", 65))}, "nickname", "at most 64 characters"},
		{"nickname bad utf8", Patch{Nickname: str("\xc3")}, "nickname", "not valid UTF-8"},
		{"bio empty", Patch{Bio: str("")}, "", ""},
		{"bio 1000", Patch{Bio: str(strings.Repeat("x", 1000))}, "", ""},
		{"bio 1001", Patch{Bio: str(strings.Repeat("x", 1001))}, "bio", "at most 1000 characters"},
		{"avatar empty", Patch{Avatar: str("")}, "", ""},
		{"avatar own media", Patch{Avatar: str("/media/avatars/u1/ab.png")}, "", ""},
		{"avatar https", Patch{Avatar: str("https://example.com/a.png")}, "avatar", "must be one of your pictures under /media/avatars/ or empty"},
		{"avatar data", Patch{Avatar: str("data:image/png;base64,AAAA")}, "avatar", "must be one of your pictures under /media/avatars/ or empty"},
		{"avatar climbs out", Patch{Avatar: str("/media/avatars/../jobs/x.json")}, "avatar", "must be one of your pictures under /media/avatars/ or empty"},
		{"avatar too long", Patch{Avatar: str("/media/avatars/" + strings.Repeat("a", 2048))}, "avatar", "at most 2048 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.in.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want no error", err)
				}
				return
			}
			var verr *fault.Error
			if !errors.As(err, &verr) || verr.Code != fault.CodeInvalidArgument {
				t.Fatalf("Validate error = %v, want an invalid_argument *fault.Error", err)
			}
			if got, want := verr.Fields[tt.field], tt.why; got != want {
				t.Errorf("Fields[%q] = %q, want %q", tt.field, got, want)
			}
		})
	}
}

// TestTextRule checks the one rule for person-visible text on every kind of profile field: control
// characters other than newline and tab are refused; names must show a visible character and hold no
// bidirectional override or isolate.
func TestTextRule(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	tests := []struct {
		name  string
		patch Patch
		shade func(*Shade)
		field string // "" when valid
	}{
		{name: "nickname of a zero-width space", patch: Patch{Nickname: str("\u200b")}, field: "nickname"},
		{name: "nickname of zero-width characters", patch: Patch{Nickname: str("\u200b\u200c\u2060\ufeff")}, field: "nickname"},
		{name: "nickname of a Hangul filler", patch: Patch{Nickname: str("\u3164")}, field: "nickname"},
		{name: "nickname of a combining mark", patch: Patch{Nickname: str("\u0301")}, field: "nickname"},
		{name: "nickname with a right-to-left override", patch: Patch{Nickname: str("abc\u202edcba")}, field: "nickname"},
		{name: "nickname with an isolate", patch: Patch{Nickname: str("abc\u2067dcba\u2069")}, field: "nickname"},
		{name: "nickname with ESC", patch: Patch{Nickname: str("a\x1b[31mb")}, field: "nickname"},
		{name: "nickname with a tab", patch: Patch{Nickname: str("a\tb")}, field: "nickname"},
		{name: "nickname in Arabic", patch: Patch{Nickname: str("سارة")}},
		{name: "nickname with a joiner inside", patch: Patch{Nickname: str("👩\u200d💻 Ana")}},
		{name: "bio with NUL", patch: Patch{Bio: str("before\x00after")}, field: "bio"},
		{name: "bio with a C1 control", patch: Patch{Bio: str("next\u0085line")}, field: "bio"},
		{name: "bio with a carriage return", patch: Patch{Bio: str("one\r\ntwo")}, field: "bio"},
		{name: "bio with newlines and tabs", patch: Patch{Bio: str("one\n\ttwo")}},
		{name: "bio with a right-to-left override", patch: Patch{Bio: str("quoted \u202eotouq")}},
		{name: "shade name of a zero-width space", shade: func(s *Shade) { s.Name = "\u200b" }, field: "shades[0].name"},
		{name: "shade name with an override", shade: func(s *Shade) { s.Name = "gpj.\u202eexe" }, field: "shades[0].name"},
		{name: "public name with an isolate", shade: func(s *Shade) { s.Public.Name = "a\u2066b" }, field: "shades[0].public.name"},
		{name: "public name of a zero-width space", shade: func(s *Shade) { s.Public.Name = "\u200b" }, field: "shades[0].public.name"},
		{name: "topic with an override", shade: func(s *Shade) { s.Topics = []string{"\u202dchess"} }, field: "shades[0].topics[0]"},
		{name: "description with ESC", shade: func(s *Shade) { s.Description = "\x1b[2J" }, field: "shades[0].description"},
		{name: "public content with DEL", shade: func(s *Shade) { s.Public.Content = "a\x7fb" }, field: "shades[0].public.content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.shade != nil {
				s := goodShade()
				tt.shade(&s)
				_, err = ValidateShades([]Shade{s})
			} else {
				_, err = tt.patch.Validate()
			}
			var verr *fault.Error
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.field == "":
			case !errors.As(err, &verr):
				t.Fatalf("got %v, want a *fault.Error naming %s", err, tt.field)
			case verr.Fields[tt.field] == "" || len(verr.Fields) != 1:
				t.Errorf("fields %v, want only %s", verr.Fields, tt.field)
			}
		})
	}
}
