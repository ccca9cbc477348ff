package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// newUser returns a full user with a fresh id, a public and a private shade and a memory.
func newUser(nickname string) store.User {
	return store.User{
		ID:            id.New(),
		Nickname:      nickname,
		Avatar:        "https://example.com/a.png",
		Bio:           "Likes long walks.",
		Provider:      store.ProviderOIDC,
		Discoverable:  true,
		AllowTwinChat: true,
		Language:      "zh-CN",
		Shades: []store.Shade{
			{
				ID: "s1", Name: "Hiker", Icon: "⛰", Confidence: store.ConfidenceHigh,
				Description: "Walks a lot", Content: "Every weekend in the hills", Topics: []string{"hiking", "outdoors"},
				Public: &store.PublicShade{Name: "Hiker", Description: "Walks", Content: "Weekends", Topics: []string{"hiking"}},
			},
			{ID: "s2", Name: "Worrier", Confidence: store.ConfidenceLow, Content: "private", Topics: []string{"anxiety"}},
		},
		Memories:         []store.Memory{{ID: "m1", Subject: "school", Content: "first day", CreatedAt: at(-5)}},
		ProfileVersion:   3,
		ProfileChangedAt: at(-10),
		CreatedAt:        at(-20),
		UpdatedAt:        at(-10),
	}
}

func createUser(tb testing.TB, s store.Store, nickname string) store.User {
	tb.Helper()
	u := newUser(nickname)
	check(tb, s.CreateUser(ctx, u), "CreateUser")
	return u
}

func testUsers(t *testing.T, s store.Store) {
	t.Run("create and get", func(t *testing.T) {
		u := createUser(t, s, "Ada")
		got, err := s.GetUser(ctx, u.ID)
		check(t, err, "GetUser")
		same(t, got, u, normUser, "GetUser")
	})
	t.Run("create without lists", func(t *testing.T) {
		u := store.User{ID: id.New(), Nickname: "Bare", CreatedAt: at(0), UpdatedAt: at(0)}
		check(t, s.CreateUser(ctx, u), "CreateUser")
		got, err := s.GetUser(ctx, u.ID)
		check(t, err, "GetUser")
		same(t, got, u, normUser, "GetUser")
	})
	t.Run("create conflict", func(t *testing.T) {
		u := createUser(t, s, "Ada")
		again := u
		again.Nickname = "Impostor"
		wantErr(t, s.CreateUser(ctx, again), store.ErrConflict, "CreateUser with a taken id")
		got, err := s.GetUser(ctx, u.ID)
		check(t, err, "GetUser")
		if got.Nickname != u.Nickname {
			t.Errorf("nickname after conflict = %q, want %q", got.Nickname, u.Nickname)
		}
	})
	t.Run("get not found", func(t *testing.T) {
		_, err := s.GetUser(ctx, id.New())
		wantErr(t, err, store.ErrNotFound, "GetUser unknown")
	})
	t.Run("update", func(t *testing.T) {
		u := createUser(t, s, "Ada")
		v1 := u
		v1.Bio, v1.Shades, v1.ProfileVersion, v1.UpdatedAt, v1.Language = "Changed", u.Shades[:1], 4, at(100), "en"
		got, err := s.UpdateUser(ctx, v1)
		check(t, err, "UpdateUser")
		want := v1
		want.Rev = u.Rev + 1
		same(t, got, want, normUser, "UpdateUser result")
		stored, err := s.GetUser(ctx, u.ID)
		check(t, err, "GetUser")
		same(t, stored, want, normUser, "GetUser after UpdateUser")

		v2 := stored
		v2.Nickname = "Second"
		got2, err := s.UpdateUser(ctx, v2)
		check(t, err, "second UpdateUser")
		if got2.Rev != u.Rev+2 {
			t.Errorf("Rev after two updates = %d, want %d", got2.Rev, u.Rev+2)
		}
	})
	t.Run("update stale rev", func(t *testing.T) {
		u := createUser(t, s, "Ada")
		fresh := u
		fresh.Nickname = "First writer"
		_, err := s.UpdateUser(ctx, fresh)
		check(t, err, "UpdateUser")
		stale := u
		stale.Nickname = "Second writer"
		_, err = s.UpdateUser(ctx, stale)
		wantErr(t, err, store.ErrConflict, "UpdateUser with a stale Rev")
		got, err := s.GetUser(ctx, u.ID)
		check(t, err, "GetUser")
		if got.Nickname != "First writer" || got.Rev != u.Rev+1 {
			t.Errorf("after a stale update got %q rev %d, want %q rev %d", got.Nickname, got.Rev, "First writer", u.Rev+1)
		}
	})
	t.Run("update not found", func(t *testing.T) {
		_, err := s.UpdateUser(ctx, newUser("Ghost"))
		wantErr(t, err, store.ErrNotFound, "UpdateUser unknown")
	})
	t.Run("get users batch", func(t *testing.T) {
		a, b, c := createUser(t, s, "A"), createUser(t, s, "B"), createUser(t, s, "C")
		tests := []struct {
			name string
			ids  []string
			want []store.User
		}{
			{"none", nil, nil},
			{"all", []string{a.ID, b.ID, c.ID}, []store.User{a, b, c}},
			{"missing and duplicate", []string{c.ID, id.New(), a.ID, c.ID}, []store.User{a, c}},
			{"only missing", []string{id.New()}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.GetUsers(ctx, tt.ids)
				check(t, err, "GetUsers")
				byID := func(x, y store.User) int { return strings.Compare(x.ID, y.ID) }
				slices.SortFunc(got, byID)
				want := slices.Clone(tt.want)
				slices.SortFunc(want, byID)
				same(t, got, want, normUsers, "GetUsers")
			})
		}
	})
	t.Run("changed users", func(t *testing.T) {
		// Far in the future, so that only this test's users have changed since.
		since := time.Date(2300, 1, 1, 0, 0, 0, 500_000_000, time.UTC)
		type changed struct {
			offset time.Duration
			id     string
		}
		var want []changed
		for _, off := range []time.Duration{4, 0, 2, 6, 1, 3, 5} { // ms after since, created out of order
			u := newUser("changed")
			u.ProfileChangedAt = since.Add(off * time.Millisecond)
			check(t, s.CreateUser(ctx, u), "CreateUser")
			want = append(want, changed{off, u.ID})
		}
		before := newUser("before")
		before.ProfileChangedAt = since.Add(-time.Millisecond)
		check(t, s.CreateUser(ctx, before), "CreateUser")
		slices.SortFunc(want, func(x, y changed) int { return int(x.offset - y.offset) })
		var wantIDs []string
		for _, c := range want {
			wantIDs = append(wantIDs, c.id)
		}
		for _, limit := range []int{2, 3, 7, 100} {
			users := collect(t, limit, func(c string) (store.Page[store.User], error) {
				return s.ChangedUsers(ctx, since, c, limit)
			})
			if got := userIDs(users); !slices.Equal(got, wantIDs) {
				t.Errorf("limit %d: ChangedUsers ids\n got %v\nwant %v", limit, got, wantIDs)
			}
		}
	})
	t.Run("scan users", func(t *testing.T) {
		var mine []string
		for range 7 {
			mine = append(mine, createUser(t, s, "scan").ID)
		}
		for _, limit := range []int{1, 3, 100} {
			users := collect(t, limit, func(c string) (store.Page[store.User], error) {
				return s.ScanUsers(ctx, c, limit)
			})
			seen := map[string]int{}
			for _, u := range users {
				seen[u.ID]++
				if seen[u.ID] > 1 {
					t.Errorf("limit %d: ScanUsers returned %s twice", limit, u.ID)
				}
			}
			for _, uid := range mine {
				if seen[uid] != 1 {
					t.Errorf("limit %d: ScanUsers returned %s %d times, want once", limit, uid, seen[uid])
				}
			}
		}
	})
}

func normUsers(us []store.User) []store.User {
	var out []store.User
	for _, u := range us {
		out = append(out, normUser(u))
	}
	return out
}

func userIDs(us []store.User) []string {
	var ids []string
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	return ids
}
