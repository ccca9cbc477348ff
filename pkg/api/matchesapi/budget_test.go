package matchesapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/apitest"
	"github.com/secondme/twin/pkg/api/matchesapi"
	"github.com/secondme/twin/pkg/rematch"
)

// queued counts the jobs a bounded Rematcher sends.
type queued struct{ n int }

func (q *queued) Send(ctx context.Context, bodies ...[]byte) error { q.n += len(bodies); return nil }

func (q *queued) SendAfter(ctx context.Context, delay time.Duration, bodies ...[]byte) error {
	q.n += len(bodies)
	return nil
}

// TestRefreshBeyondTheMatchingBudget refreshes through the bounded Rematcher over the store: each
// refresh costs one call of the caller's daily matching budget, and beyond it the answer is 429 with
// Retry-After until midnight UTC, through the one error table, and nothing is queued.
func TestRefreshBeyondTheMatchingBudget(t *testing.T) {
	t.Parallel()
	f := setup(t)
	now := time.Date(2026, 11, 30, 22, 30, 0, 0, time.UTC)
	q := &queued{}
	r := rematch.NewBoundedRematcher(q, f.st, rematch.BudgetConfig{PersonCalls: 2, Now: func() time.Time { return now }})
	rt := api.NewRouter()
	matchesapi.New(f.st, apitest.HeaderAuth{}, r).Register(rt)
	f.srv = api.Wrap(rt, api.Edge{PublicURL: apitest.Origin})
	me, other := f.person(t, "me", true), f.person(t, "o", true)
	for i := range 2 {
		if rec, body := f.do(t, "POST", "/api/matches/"+other+"/refresh", me); rec.Code != http.StatusAccepted {
			t.Fatalf("refresh %d within the budget = %d %v, want 202", i+1, rec.Code, body)
		}
	}
	rec, body := f.do(t, "POST", "/api/matches/"+other+"/refresh", me)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "5400" {
		t.Errorf("refresh beyond the budget = %d (Retry-After %q) %v, want 429 with Retry-After 5400", rec.Code, rec.Header().Get("Retry-After"), body)
	}
	if q.n != 2 {
		t.Errorf("%d jobs queued, want 2 (none for the refused refresh)", q.n)
	}
}
