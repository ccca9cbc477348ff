package rematch

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// LookupWorkers is how many term lookups of one person run at once.
const LookupWorkers = 8

// TermCandidates returns the k people who share the most rare terms with self, through a term index:
// holders gives a term's holders (at most limit of them: the store's UsersWithTerm), and a term held
// by few people counts more, ln(1 + limit/holders). The lookups run LookupWorkers at a time; the
// scores add up in the order of terms, so the answer does not depend on which lookup ends first.
func TermCandidates(ctx context.Context, holders func(ctx context.Context, term string) ([]string, error), self string, terms []string, limit, k int) ([]string, error) {
	found := make([][]string, len(terms))
	errs := make([]error, len(terms))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(LookupWorkers, len(terms)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				found[i], errs[i] = holders(ctx, terms[i])
			}
		}()
	}
	for i := range terms {
		next <- i
	}
	close(next)
	wg.Wait()
	score := make(map[string]float64)
	for i, ids := range found {
		if errs[i] != nil {
			return nil, fmt.Errorf("users with term %q: %w", terms[i], errs[i])
		}
		if len(ids) == 0 {
			continue
		}
		idf := math.Log1p(float64(limit) / float64(len(ids)))
		for _, id := range ids {
			if id != self {
				score[id] += idf
			}
		}
	}
	return topK(score, k), nil
}

// topK returns the k keys with the highest scores, best first, ties by id.
func topK(score map[string]float64, k int) []string {
	ids := make([]string, 0, len(score))
	for id := range score {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(x, y string) int {
		switch {
		case score[x] > score[y]:
			return -1
		case score[x] < score[y]:
			return 1
		}
		return strings.Compare(x, y)
	})
	return ids[:min(k, len(ids))]
}
