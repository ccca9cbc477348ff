package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

func testRematchWindows(t *testing.T, s store.Store) {
	const w = 5 * time.Minute
	t.Run("a window opens dirty, its edits coalesce, the next opens when it ended", func(t *testing.T) {
		uid := id.New()
		steps := []struct {
			at   time.Duration
			want store.RematchDecision
			end  time.Duration
		}{
			{0, store.RematchNow, w},
			{time.Second, store.RematchCoalesced, w},
			{2 * time.Second, store.RematchCoalesced, w},
			{w - time.Millisecond, store.RematchCoalesced, w},
			{w, store.RematchNow, 2 * w}, // the window ended (its rematch lost): a new one opens
			{w + time.Second, store.RematchCoalesced, 2 * w},
		}
		for _, st := range steps {
			got, end, err := s.MarkRematch(ctx, uid, base.Add(st.at), w)
			check(t, err, "MarkRematch")
			if got != st.want || !end.Equal(ms(base.Add(st.end))) {
				t.Errorf("MarkRematch at +%v = %v, ends %v; want %v, ends %v", st.at, got, end, st.want, ms(base.Add(st.end)))
			}
		}
	})
	t.Run("the rematch of a window's end opens a clean one", func(t *testing.T) {
		uid := id.New()
		for _, at := range []time.Duration{0, time.Second} {
			_, _, err := s.MarkRematch(ctx, uid, base.Add(at), w)
			check(t, err, "MarkRematch")
		}
		// The rematch of the window's end runs and opens the next window.
		check(t, s.OpenRematchWindow(ctx, uid, base.Add(w), w), "OpenRematchWindow")
		for _, c := range []struct {
			at   time.Duration
			want store.RematchDecision
		}{{w + time.Second, store.RematchAtWindowEnd}, {w + 2*time.Second, store.RematchCoalesced}} {
			got, end, err := s.MarkRematch(ctx, uid, base.Add(c.at), w)
			check(t, err, "MarkRematch")
			if got != c.want || !end.Equal(ms(base.Add(2*w))) {
				t.Errorf("MarkRematch at +%v after OpenRematchWindow = %v, ends %v; want %v, ends %v", c.at, got, end, c.want, ms(base.Add(2*w)))
			}
		}
	})
	t.Run("no window is opened for a person without one", func(t *testing.T) {
		uid := id.New()
		check(t, s.OpenRematchWindow(ctx, uid, base, w), "OpenRematchWindow")
		got, _, err := s.MarkRematch(ctx, uid, base.Add(time.Second), w)
		check(t, err, "MarkRematch")
		if got != store.RematchNow {
			t.Errorf("MarkRematch after OpenRematchWindow of a person without a window = %v, want %v", got, store.RematchNow)
		}
	})
	t.Run("concurrent edits: one decides, the rest coalesce", func(t *testing.T) {
		uid := id.New()
		const n = 8
		got := make([]store.RematchDecision, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], _, errs[i] = s.MarkRematch(ctx, uid, base.Add(time.Duration(i)*time.Millisecond), w)
			}()
		}
		wg.Wait()
		count := map[store.RematchDecision]int{}
		for i := range n {
			check(t, errs[i], "MarkRematch")
			count[got[i]]++
		}
		if count[store.RematchNow] != 1 || count[store.RematchCoalesced] != n-1 {
			t.Errorf("decisions of %d concurrent edits = %v, want 1 now and %d coalesced", n, count, n-1)
		}
		// In a clean window (after its rematch opened it) too: exactly one marks it dirty.
		check(t, s.OpenRematchWindow(ctx, uid, base.Add(time.Second), w), "OpenRematchWindow")
		clear(count)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], _, errs[i] = s.MarkRematch(ctx, uid, base.Add(2*time.Second+time.Duration(i)*time.Millisecond), w)
			}()
		}
		wg.Wait()
		for i := range n {
			check(t, errs[i], "MarkRematch")
			count[got[i]]++
		}
		if count[store.RematchAtWindowEnd] != 1 || count[store.RematchCoalesced] != n-1 {
			t.Errorf("decisions of %d concurrent edits in a clean window = %v, want 1 at the end and %d coalesced", n, count, n-1)
		}
	})
}

func testBudgets(t *testing.T, s store.Store) {
	t.Run("adds n within the limit", func(t *testing.T) {
		uid, day := id.New(), "2026-11-25"
		for _, c := range []struct{ n, want int }{{3, 3}, {3, 6}, {0, 6}, {4, 10}} {
			got, err := s.ConsumeBudget(ctx, uid, "match", day, c.n, 10)
			check(t, err, "ConsumeBudget")
			if got != c.want {
				t.Errorf("ConsumeBudget(%d) = %d, want %d", c.n, got, c.want)
			}
		}
		for _, n := range []int{0, 1, 3} {
			_, err := s.ConsumeBudget(ctx, uid, "match", day, n, 10)
			wantErr(t, err, store.ErrQuotaExceeded, "ConsumeBudget past the limit")
		}
		got, err := s.ConsumeBudget(ctx, uid, "match", day, 2, 12)
		check(t, err, "ConsumeBudget with a higher limit")
		if got != 12 {
			t.Errorf("ConsumeBudget after refusals = %d, want 12 (refusals must not count)", got)
		}
	})
	t.Run("refuses what would pass the limit, keeps what fits", func(t *testing.T) {
		uid, day := id.New(), "2026-11-25"
		_, err := s.ConsumeBudget(ctx, uid, "match", day, 4, 5)
		check(t, err, "ConsumeBudget")
		_, err = s.ConsumeBudget(ctx, uid, "match", day, 3, 5)
		wantErr(t, err, store.ErrQuotaExceeded, "ConsumeBudget of 3 at 4 of 5")
		got, err := s.ConsumeBudget(ctx, uid, "match", day, 1, 5)
		check(t, err, "ConsumeBudget of 1 at 4 of 5")
		if got != 5 {
			t.Errorf("ConsumeBudget = %d, want 5", got)
		}
		_, err = s.ConsumeBudget(ctx, id.New(), "match", day, 6, 5)
		wantErr(t, err, store.ErrQuotaExceeded, "ConsumeBudget of more than the limit")
	})
	t.Run("per owner, name and day; separate from the chat quota", func(t *testing.T) {
		uid := id.New()
		_, err := s.ConsumeQuota(ctx, uid, "2026-11-25", 1)
		check(t, err, "ConsumeQuota")
		for _, c := range []struct{ owner, name, day string }{
			{uid, "match", "2026-11-25"}, {uid, "match", "2026-11-26"}, {uid, "other", "2026-11-25"},
			{id.New(), "match", "2026-11-25"}, {"", "nightly-" + id.New(), "2026-11-25"},
		} {
			got, err := s.ConsumeBudget(ctx, c.owner, c.name, c.day, 2, 2)
			check(t, err, "ConsumeBudget")
			if got != 2 {
				t.Errorf("ConsumeBudget(%q, %s, %s) = %d, want 2", c.owner, c.name, c.day, got)
			}
		}
	})
}

func testDeferrals(t *testing.T, s store.Store) {
	t.Run("longest deferred first, first time kept, cleared", func(t *testing.T) {
		// Other tests of the group may defer pairs too; only these pairs are looked at, and they are
		// deferred before anything else of the suite (base minus hours).
		old := base.Add(-10 * time.Hour)
		p := make([][2]string, 3)
		for i := range p {
			p[i][0], p[i][1] = pair()
		}
		check(t, s.DeferMatch(ctx, p[1][1], p[1][0], old.Add(2*time.Second)), "DeferMatch") // either order
		check(t, s.DeferMatch(ctx, p[0][0], p[0][1], old.Add(time.Second)), "DeferMatch")
		check(t, s.DeferMatch(ctx, p[2][0], p[2][1], old.Add(3*time.Second)), "DeferMatch")
		check(t, s.DeferMatch(ctx, p[0][0], p[0][1], old.Add(4*time.Second)), "DeferMatch again") // keeps +1s
		got, err := s.ListDeferred(ctx, 3)
		check(t, err, "ListDeferred")
		want := []store.Deferral{
			{A: p[0][0], B: p[0][1], Since: ms(old.Add(time.Second))},
			{A: p[1][0], B: p[1][1], Since: ms(old.Add(2 * time.Second))},
			{A: p[2][0], B: p[2][1], Since: ms(old.Add(3 * time.Second))},
		}
		same(t, got, want, normDeferrals, "ListDeferred")
		check(t, s.ClearDeferred(ctx, p[1][1], p[1][0]), "ClearDeferred")
		check(t, s.ClearDeferred(ctx, p[1][1], p[1][0]), "ClearDeferred again")
		got, err = s.ListDeferred(ctx, 2)
		check(t, err, "ListDeferred")
		same(t, got, []store.Deferral{want[0], want[2]}, normDeferrals, "ListDeferred after ClearDeferred")
		for _, d := range want {
			check(t, s.ClearDeferred(ctx, d.A, d.B), "ClearDeferred")
		}
	})
	t.Run("DeleteMatch and EraseUser remove deferrals", func(t *testing.T) {
		a, b := pair()
		c := id.New()
		putMatch(t, s, a, b, 50)
		putMatch(t, s, a, c, 60)
		old := base.Add(-20 * time.Hour)
		check(t, s.DeferMatch(ctx, a, b, old), "DeferMatch")
		check(t, s.DeferMatch(ctx, a, c, old.Add(time.Second)), "DeferMatch")
		check(t, s.DeleteMatch(ctx, a, b), "DeleteMatch")
		check(t, s.EraseUser(ctx, c), "EraseUser")
		got, err := s.ListDeferred(ctx, 100)
		check(t, err, "ListDeferred")
		for _, d := range got {
			if d.A == c || d.B == c || (d.A == a && d.B == b) {
				t.Errorf("ListDeferred holds %+v after its match was deleted or a person erased", d)
			}
		}
	})
}

func normDeferrals(ds []store.Deferral) []store.Deferral {
	out := make([]store.Deferral, len(ds))
	for i, d := range ds {
		d.Since = ms(d.Since)
		out[i] = d
	}
	return out
}
