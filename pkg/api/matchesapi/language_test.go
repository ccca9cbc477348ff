package matchesapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/secondme/twin/pkg/api/apitest"
	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// englishPerson stores a discoverable person with English public shades and a language.
func (f *fixture) englishPerson(t *testing.T, nick, language string, shades ...[3]string) store.User {
	t.Helper()
	now := time.Now().UTC()
	u := store.User{ID: id.New(), Nickname: nick, Discoverable: true, Language: language, ProfileVersion: 1,
		ProfileChangedAt: now, CreatedAt: now, UpdatedAt: now}
	for _, s := range shades {
		u.Shades = append(u.Shades, store.Shade{ID: id.New(), Name: s[0], Confidence: store.ConfidenceHigh,
			Public: &store.PublicShade{Name: s[0], Description: s[1], Topics: strings.Split(s[2], ",")}})
	}
	if err := f.st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestMatchesInTheReadersLanguage stores the deterministic match of two English profiles and reads it
// as each person: the one whose language is zh-CN reads Chinese reasons, the other the stored English
// ones, whatever their browsers ask for; someone without a language reads their browser's.
func TestMatchesInTheReadersLanguage(t *testing.T) {
	t.Parallel()
	f := setup(t)
	maya := f.englishPerson(t, "Maya Okafor", "zh-CN",
		[3]string{"Jazz pianist", "Plays jazz piano and teaches improvisation.", "jazz,piano,teaching"},
		[3]string{"Home cook", "Cooks West African food for friends.", "cooking,hosting"})
	noah := f.englishPerson(t, "Noah Williams", "en",
		[3]string{"Jazz fan", "Goes to jazz gigs every week.", "jazz,concerts"},
		[3]string{"Allotment", "Grows vegetables and cooks them.", "gardening,cooking"})
	kai := f.englishPerson(t, "Kai", "",
		[3]string{"Jazz drummer", "Plays drums in a jazz band.", "jazz,drums"})
	a, b := maya, noah
	if a.ID > b.ID {
		a, b = b, a
	}
	m := compat.New(nil, compat.Config{}).Deterministic(a, b)
	if len(m.Highlights) == 0 {
		t.Fatal("the pair has no highlights")
	}
	c, d := maya, kai
	if c.ID > d.ID {
		c, d = d, c
	}
	for _, x := range []store.Match{m, compat.New(nil, compat.Config{}).Deterministic(c, d)} {
		if err := f.st.PutMatch(context.Background(), x); err != nil {
			t.Fatal(err)
		}
	}
	han := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
	}
	type matchBody struct {
		Person     struct{ ID string }
		Reasoning  string
		Highlights []string
		Challenges []string
	}
	read := func(user, path, accept string) []matchBody {
		t.Helper()
		r := apitest.Request("GET", path, user, "")
		if accept != "" {
			r.Header.Set("Accept-Language", accept)
		}
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s as %s: %d %s", path, user, rec.Code, rec.Body)
		}
		var list struct{ Matches []matchBody }
		if strings.HasSuffix(path, "/api/matches") {
			if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
				t.Fatal(err)
			}
			return list.Matches
		}
		var one matchBody
		if err := json.Unmarshal(rec.Body.Bytes(), &one); err != nil {
			t.Fatal(err)
		}
		return []matchBody{one}
	}
	chinese := func(who string, got matchBody) {
		t.Helper()
		if len(got.Highlights) != len(m.Highlights) || !strings.HasPrefix(got.Reasoning, "个人资料得分 ") {
			t.Errorf("%s reads %+v, want %d Chinese highlights and a Chinese reasoning", who, got, len(m.Highlights))
		}
		for _, s := range append(slices.Clone(got.Highlights), got.Challenges...) {
			if !han(s) || strings.Contains(s, "Both ") {
				t.Errorf("%s reads %q, not Chinese", who, s)
			}
		}
	}
	one := read(maya.ID, "/api/matches/"+noah.ID, "en-US")[0]
	chinese("Maya (zh-CN), one match", one)
	listed := 0
	for _, got := range read(maya.ID, "/api/matches", "en") {
		if got.Person.ID == noah.ID {
			chinese("Maya (zh-CN), her list", got)
			listed++
		}
	}
	if listed != 1 {
		t.Errorf("Maya's list holds Noah %d times, want once", listed)
	}
	for _, got := range [][]matchBody{read(noah.ID, "/api/matches/"+maya.ID, "zh-CN"), read(noah.ID, "/api/matches", "zh-CN")} {
		if !slices.Equal(got[0].Highlights, m.Highlights) || got[0].Reasoning != m.Reasoning {
			t.Errorf("Noah (en) reads %+v, want the stored English %q", got[0], m.Highlights)
		}
	}
	if got := read(kai.ID, "/api/matches/"+maya.ID, "zh-CN,zh;q=0.9,en;q=0.5")[0]; len(got.Highlights) == 0 || !han(got.Highlights[0]) {
		t.Errorf("Kai (no language, a Chinese browser) reads %+v, want Chinese", got)
	}
	if got := read(kai.ID, "/api/matches/"+maya.ID, "en")[0]; len(got.Highlights) == 0 || han(got.Highlights[0]) {
		t.Errorf("Kai (no language, an English browser) reads %+v, want English", got)
	}
}
