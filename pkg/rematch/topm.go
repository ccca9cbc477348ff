package rematch

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/store"
)

// DefaultModelTop is how many of a person's candidates, best by the deterministic score, get the model
// part (the twin conversation and the judge); the others get the deterministic match only.
const DefaultModelTop = 5

// UserGetter reads people by id, at most 100 at a time (store.Store.GetUsers).
type UserGetter interface {
	GetUsers(ctx context.Context, ids []string) ([]store.User, error)
}

// maxGetUsers is the most ids one GetUsers call is given.
const maxGetUsers = 100

// topByScore returns the ids of the people among ids who rank in u's top m by the deterministic
// score (formula.Score), ties broken by id, and, with a band, the ids of the others whose score is
// within band points of the m-th (the only ones that can still reach the top m when the model moves
// each score by at most band/2 points either way). People who are gone or hidden never rank: their
// pair job deletes their match.
func topByScore(ctx context.Context, st UserGetter, u store.User, ids []string, m, band int) (top, near map[string]bool, err error) {
	type ranked struct {
		id    string
		score int
	}
	fu := formula.NewFeatures(u)
	var rs []ranked
	for i := 0; i < len(ids); i += maxGetUsers {
		users, err := st.GetUsers(ctx, ids[i:min(i+maxGetUsers, len(ids))])
		if err != nil {
			return nil, nil, fmt.Errorf("get candidates of %s: %w", u.ID, err)
		}
		for _, o := range users {
			if o.Discoverable && o.ID != u.ID {
				rs = append(rs, ranked{o.ID, formula.Score(fu, formula.NewFeatures(o)).Total()})
			}
		}
	}
	slices.SortFunc(rs, func(x, y ranked) int {
		if x.score != y.score {
			return y.score - x.score
		}
		return strings.Compare(x.id, y.id)
	})
	top, near = make(map[string]bool, min(m, len(rs))), make(map[string]bool)
	for i, r := range rs {
		switch {
		case i < m:
			top[r.id] = true
		case band > 0 && r.score >= rs[m-1].score-band:
			near[r.id] = true
		default:
			return top, near, nil
		}
	}
	return top, near, nil
}

// pairJobs returns the jobs of u's pairs with each of others: a pair job (paid by by, when set) for
// those in top or near, and a score-only job for the rest.
func pairJobs(u string, others []string, top, near map[string]bool, by string) [][]byte {
	bodies := make([][]byte, 0, len(others))
	for _, c := range others {
		j := ScoreOnlyJob(u, c)
		if top[c] || near[c] {
			j = PairJobBy(u, c, by)
		}
		bodies = append(bodies, j.Encode())
	}
	return bodies
}
