package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

func testQuota(t *testing.T, s store.Store) {
	t.Run("counts to the limit", func(t *testing.T) {
		uid, day := id.New(), "2026-11-25"
		for want := 1; want <= 3; want++ {
			got, err := s.ConsumeQuota(ctx, uid, day, 3)
			check(t, err, "ConsumeQuota")
			if got != want {
				t.Errorf("ConsumeQuota = %d, want %d", got, want)
			}
		}
		for range 2 {
			_, err := s.ConsumeQuota(ctx, uid, day, 3)
			wantErr(t, err, store.ErrQuotaExceeded, "ConsumeQuota past the limit")
		}
		got, err := s.ConsumeQuota(ctx, uid, day, 5)
		check(t, err, "ConsumeQuota with a higher limit")
		if got != 4 {
			t.Errorf("ConsumeQuota after refusals = %d, want 4 (refusals must not count)", got)
		}
	})
	t.Run("per user and day", func(t *testing.T) {
		uid := id.New()
		for _, c := range []struct{ user, day string }{{uid, "2026-11-25"}, {uid, "2026-11-26"}, {id.New(), "2026-11-25"}} {
			got, err := s.ConsumeQuota(ctx, c.user, c.day, 1)
			check(t, err, "ConsumeQuota")
			if got != 1 {
				t.Errorf("ConsumeQuota(%s, %s) = %d, want 1", c.user, c.day, got)
			}
		}
	})
}

// pair returns two fresh user ids, ordered.
func pair() (string, string) {
	a, b := id.New(), id.New()
	return min(a, b), max(a, b)
}

func newMatch(a, b string, score int) store.Match {
	a, b = min(a, b), max(a, b)
	return store.Match{
		A: a, B: b, Score: score, Reasoning: "Both hike.",
		Highlights: []string{"hiking"}, Challenges: []string{"schedules"}, Parts: []string{"deterministic", "model"},
		Transcript: []store.TranscriptLine{{Speaker: a, Text: "Hi"}, {Speaker: b, Text: "Hello"}},
		VersionA:   2, VersionB: 5, Algorithm: "v1", ComputedAt: at(score),
	}
}

func putMatch(tb testing.TB, s store.Store, a, b string, score int) store.Match {
	tb.Helper()
	m := newMatch(a, b, score)
	check(tb, s.PutMatch(ctx, m), "PutMatch")
	return m
}

// listMatches returns all of a user's match entries, walking pages of limit.
func listMatches(tb testing.TB, s store.Store, userID string, limit int) []store.MatchEntry {
	tb.Helper()
	return collect(tb, limit, func(cur string) (store.Page[store.MatchEntry], error) {
		return s.ListMatches(ctx, userID, cur, limit)
	})
}

// checkRanked fails unless entries are userID's, ranked by score, each other person once, with the
// wanted scores.
func checkRanked(tb testing.TB, userID string, entries []store.MatchEntry, want map[string]int) {
	tb.Helper()
	seen := map[string]bool{}
	for i, e := range entries {
		if e.UserID != userID {
			tb.Errorf("entry %d UserID = %s, want %s", i, e.UserID, userID)
		}
		if seen[e.OtherID] {
			tb.Errorf("entry %d: %s listed twice", i, e.OtherID)
		}
		seen[e.OtherID] = true
		if score, ok := want[e.OtherID]; !ok || score != e.Score {
			tb.Errorf("entry %d: %s score %d, want %d (listed: %v)", i, e.OtherID, e.Score, score, ok)
		}
		if i > 0 && entries[i-1].Score < e.Score {
			tb.Errorf("entry %d: score %d after %d, want highest first", i, e.Score, entries[i-1].Score)
		}
	}
	if len(seen) != len(want) {
		tb.Errorf("listed %d matches, want %d", len(seen), len(want))
	}
}

func testMatches(t *testing.T, s store.Store) {
	t.Run("put and get in either order", func(t *testing.T) {
		a, b := pair()
		m := putMatch(t, s, a, b, 73)
		for _, order := range [][2]string{{a, b}, {b, a}} {
			got, err := s.GetMatch(ctx, order[0], order[1])
			check(t, err, "GetMatch")
			same(t, got, m, normMatch, "GetMatch")
		}
	})
	t.Run("get not found", func(t *testing.T) {
		a, b := pair()
		_, err := s.GetMatch(ctx, a, b)
		wantErr(t, err, store.ErrNotFound, "GetMatch unknown")
	})
	t.Run("list both sides by score", func(t *testing.T) {
		me := id.New()
		scores := []int{90, 50, 70, 50, 10, 100, 0}
		want := map[string]int{}
		for _, score := range scores {
			other := id.New()
			putMatch(t, s, me, other, score)
			want[other] = score
		}
		putMatch(t, s, id.New(), id.New(), 99) // someone else's
		for _, limit := range []int{3, 7, 100} {
			checkRanked(t, me, listMatches(t, s, me, limit), want)
		}
		for other, score := range want {
			entries := listMatches(t, s, other, 10)
			checkRanked(t, other, entries, map[string]int{me: score})
			if len(entries) == 1 && !entries[0].ComputedAt.Equal(ms(at(score))) {
				t.Errorf("ComputedAt = %v, want %v", entries[0].ComputedAt, ms(at(score)))
			}
		}
	})
	t.Run("put again replaces", func(t *testing.T) {
		a, b := pair()
		putMatch(t, s, a, b, 20)
		c := id.New()
		putMatch(t, s, a, c, 50)
		m := newMatch(a, b, 80)
		m.Reasoning, m.Highlights, m.Transcript, m.VersionA = "Changed their mind.", nil, nil, 3
		check(t, s.PutMatch(ctx, m), "PutMatch again")
		got, err := s.GetMatch(ctx, b, a)
		check(t, err, "GetMatch")
		same(t, got, m, normMatch, "GetMatch after PutMatch again")
		checkRanked(t, a, listMatches(t, s, a, 1), map[string]int{b: 80, c: 50})
		checkRanked(t, b, listMatches(t, s, b, 1), map[string]int{a: 80})
	})
	t.Run("delete removes both sides", func(t *testing.T) {
		a, b := pair()
		putMatch(t, s, a, b, 60)
		c := id.New()
		putMatch(t, s, b, c, 40)
		check(t, s.DeleteMatch(ctx, b, a), "DeleteMatch")
		_, err := s.GetMatch(ctx, a, b)
		wantErr(t, err, store.ErrNotFound, "GetMatch after delete")
		checkRanked(t, a, listMatches(t, s, a, 10), map[string]int{})
		checkRanked(t, b, listMatches(t, s, b, 10), map[string]int{c: 40})
		check(t, s.DeleteMatch(ctx, a, b), "DeleteMatch again")
	})
}

func testBlocks(t *testing.T, s store.Store) {
	t.Run("both directions", func(t *testing.T) {
		a, b, c := id.New(), id.New(), id.New()
		check(t, s.PutBlock(ctx, store.Block{BlockerID: a, BlockedID: b, CreatedAt: at(0)}), "PutBlock")
		tests := []struct {
			name string
			x, y string
			want bool
		}{
			{"blocker first", a, b, true},
			{"blocked first", b, a, true},
			{"unrelated", a, c, false},
			{"unrelated reversed", c, b, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.Blocked(ctx, tt.x, tt.y)
				check(t, err, "Blocked")
				if got != tt.want {
					t.Errorf("Blocked(%s, %s) = %v, want %v", tt.x, tt.y, got, tt.want)
				}
			})
		}
	})
	t.Run("put twice, list, delete", func(t *testing.T) {
		a, b, c := id.New(), id.New(), id.New()
		want := []store.Block{{BlockerID: a, BlockedID: b, CreatedAt: at(0)}, {BlockerID: a, BlockedID: c, CreatedAt: at(1)}}
		for _, bl := range want {
			check(t, s.PutBlock(ctx, bl), "PutBlock")
		}
		check(t, s.PutBlock(ctx, want[0]), "PutBlock again")
		check(t, s.PutBlock(ctx, store.Block{BlockerID: b, BlockedID: a, CreatedAt: at(2)}), "PutBlock the other way")
		got, err := s.ListBlocks(ctx, a)
		check(t, err, "ListBlocks")
		slices.SortFunc(got, func(x, y store.Block) int { return int(x.CreatedAt.Sub(y.CreatedAt)) })
		same(t, got, want, normBlocks, "ListBlocks")

		check(t, s.DeleteBlock(ctx, a, b), "DeleteBlock")
		check(t, s.DeleteBlock(ctx, a, b), "DeleteBlock again")
		got, err = s.ListBlocks(ctx, a)
		check(t, err, "ListBlocks")
		same(t, got, want[1:], normBlocks, "ListBlocks after delete")
		blocked, err := s.Blocked(ctx, a, b)
		check(t, err, "Blocked")
		if !blocked {
			t.Errorf("Blocked after deleting one direction = false, want true (b still blocks a)")
		}
		check(t, s.DeleteBlock(ctx, b, a), "DeleteBlock the other way")
		if blocked, err := s.Blocked(ctx, a, b); err != nil || blocked {
			t.Errorf("Blocked after deleting both = %v, %v; want false", blocked, err)
		}
	})
}

func testTwins(t *testing.T, s store.Store) {
	t.Run("not found", func(t *testing.T) {
		viewer := id.New()
		_, _, err := s.GetTwin(ctx, id.New(), viewer)
		wantErr(t, err, store.ErrNotFound, "GetTwin unknown")
		_, _, err = s.GetTwin(ctx, viewer, viewer)
		wantErr(t, err, store.ErrNotFound, "GetTwin unknown, own")
	})
	t.Run("not found though blocked", func(t *testing.T) {
		twinID, viewer := id.New(), id.New()
		check(t, s.PutBlock(ctx, store.Block{BlockerID: viewer, BlockedID: twinID, CreatedAt: at(0)}), "PutBlock")
		_, _, err := s.GetTwin(ctx, twinID, viewer)
		wantErr(t, err, store.ErrNotFound, "GetTwin unknown, blocked")
	})
	type blockBy int
	const (
		none blockBy = iota
		twinBlocks
		viewerBlocks
		elsewhere
		own
	)
	tests := []struct {
		name string
		by   blockBy
		want bool
	}{
		{"found", none, false},
		{"blocked by twin", twinBlocks, true},
		{"blocked by viewer", viewerBlocks, true},
		{"unrelated block elsewhere", elsewhere, false},
		{"viewer is twin", own, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			twin := createUser(t, s, "Twin")
			viewer, other := id.New(), id.New()
			var blocks []store.Block
			switch tt.by {
			case twinBlocks:
				blocks = []store.Block{{BlockerID: twin.ID, BlockedID: viewer}}
			case viewerBlocks:
				blocks = []store.Block{{BlockerID: viewer, BlockedID: twin.ID}}
			case elsewhere:
				blocks = []store.Block{{BlockerID: twin.ID, BlockedID: other}, {BlockerID: other, BlockedID: viewer},
					{BlockerID: viewer, BlockedID: other}, {BlockerID: other, BlockedID: twin.ID}}
			case own:
				viewer = twin.ID
				// Even a block of oneself, which no path makes, does not count.
				blocks = []store.Block{{BlockerID: twin.ID, BlockedID: other}, {BlockerID: other, BlockedID: twin.ID},
					{BlockerID: twin.ID, BlockedID: twin.ID}}
			}
			for _, b := range blocks {
				b.CreatedAt = at(0)
				check(t, s.PutBlock(ctx, b), "PutBlock")
			}
			got, blocked, err := s.GetTwin(ctx, twin.ID, viewer)
			check(t, err, "GetTwin")
			same(t, got, twin, normUser, "GetTwin")
			if blocked != tt.want {
				t.Errorf("GetTwin(%s, %s) blocked = %v, want %v", twin.ID, viewer, blocked, tt.want)
			}
		})
	}
}

func testTerms(t *testing.T, s store.Store) {
	term := func(name string) string { return name + "-" + id.New() } // unique to this run
	t.Run("set replaces", func(t *testing.T) {
		hiking, chess, jazz := term("hiking"), term("chess"), term("jazz")
		u, v := id.New(), id.New()
		check(t, s.SetUserTerms(ctx, u, []string{hiking, chess}), "SetUserTerms")
		check(t, s.SetUserTerms(ctx, v, []string{hiking}), "SetUserTerms")
		check(t, s.SetUserTerms(ctx, u, []string{chess, jazz, jazz}), "SetUserTerms again")
		tests := []struct {
			term string
			want []string
		}{
			{hiking, []string{v}},
			{chess, []string{u}},
			{jazz, []string{u}},
			{term("none"), nil},
		}
		for _, tt := range tests {
			got, err := s.UsersWithTerm(ctx, tt.term, "", 10)
			check(t, err, "UsersWithTerm")
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("UsersWithTerm(%s) = %v, want %v", tt.term, got, tt.want)
			}
		}
		check(t, s.SetUserTerms(ctx, u, nil), "SetUserTerms none")
		if got, err := s.UsersWithTerm(ctx, chess, "", 10); err != nil || len(got) != 0 {
			t.Errorf("UsersWithTerm after clearing = %v, %v; want none", got, err)
		}
	})
	t.Run("limit", func(t *testing.T) {
		music := term("music")
		all := map[string]bool{}
		for range 5 {
			u := id.New()
			all[u] = true
			check(t, s.SetUserTerms(ctx, u, []string{music}), "SetUserTerms")
		}
		got, err := s.UsersWithTerm(ctx, music, "", 3)
		check(t, err, "UsersWithTerm")
		if len(got) != 3 {
			t.Errorf("UsersWithTerm with limit 3 returned %d ids", len(got))
		}
		for _, u := range got {
			if !all[u] {
				t.Errorf("UsersWithTerm returned %s, not indexed under the term", u)
			}
		}
	})
	t.Run("start depends on the asker", func(t *testing.T) {
		// 10 holders, lookups of 3 from 200 askers: each asker gets 3 holders that follow each other in
		// holder position order from the asker's position (wrapping around), the same on every lookup,
		// and every holder is returned to someone (a fixed start would return the same 3 to everyone).
		golf := term("golf")
		var holders []string
		for range 10 {
			u := id.New()
			holders = append(holders, u)
			check(t, s.SetUserTerms(ctx, u, []string{golf}), "SetUserTerms")
		}
		check(t, s.SetUserTerms(ctx, holders[0], []string{golf}), "SetUserTerms unchanged")
		slices.SortFunc(holders, func(a, b string) int {
			return strings.Compare(store.HolderPosition(a), store.HolderPosition(b))
		})
		seen := map[string]bool{}
		for range 200 {
			asker := id.New()
			got, err := s.UsersWithTerm(ctx, golf, asker, 3)
			check(t, err, "UsersWithTerm")
			again, err := s.UsersWithTerm(ctx, golf, asker, 3)
			check(t, err, "UsersWithTerm again")
			first := slices.IndexFunc(holders, func(h string) bool { return store.HolderPosition(h) >= store.HolderPosition(asker) })
			if first < 0 {
				first = 0
			}
			want := []string{holders[first], holders[(first+1)%10], holders[(first+2)%10]}
			if !slices.Equal(got, want) || !slices.Equal(again, got) {
				t.Fatalf("UsersWithTerm(asker %s) = %v then %v, want %v", asker, got, again, want)
			}
			for _, h := range got {
				seen[h] = true
			}
		}
		if len(seen) != len(holders) {
			t.Errorf("200 askers were given %d of the 10 holders, want all", len(seen))
		}
	})
}

func testJobs(t *testing.T, s store.Store) {
	t.Run("get not found", func(t *testing.T) {
		_, err := s.GetJobState(ctx, "never-"+id.New())
		wantErr(t, err, store.ErrNotFound, "GetJobState unknown")
	})
	t.Run("put and replace", func(t *testing.T) {
		name := "rematch-" + id.New()
		j := store.JobState{Name: name, LastRun: at(0), Cursor: "abc", UpdatedAt: at(1)}
		check(t, s.PutJobState(ctx, j), "PutJobState")
		got, err := s.GetJobState(ctx, name)
		check(t, err, "GetJobState")
		same(t, got, j, normJob, "GetJobState")
		j2 := store.JobState{Name: name, LastRun: at(int(24 * time.Hour.Milliseconds())), UpdatedAt: at(2)}
		check(t, s.PutJobState(ctx, j2), "PutJobState again")
		got, err = s.GetJobState(ctx, name)
		check(t, err, "GetJobState")
		same(t, got, j2, normJob, "GetJobState after replace")
	})
}
