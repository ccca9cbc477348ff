package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
)

// memStore is an in-memory store for the nightly simulation: just what the nightly run and the worker
// use, with matches kept compactly (a stored match is its versions, algorithm and score), so that
// 100,000 people and their millions of matches fit in memory.
type memStore struct {
	mu      sync.Mutex
	users   []store.User
	byID    map[string]int
	matches map[[2]int32]storedMatch
	adj     map[int32][]int32
	jobs    map[string]store.JobState
	// budgets, deferred and windows are the matching budget state (budget.go).
	budgets  map[budgetKey]int
	deferred map[[2]string]time.Time
	windows  map[string]time.Time // when each person's coalescing window ends
}

type storedMatch struct {
	va, vb    int64
	score     int
	algorithm string
}

var (
	_ rematch.WorkerStore  = (*memStore)(nil)
	_ rematch.NightlyStore = (*memStore)(nil)
)

func newMemStore(users []store.User) *memStore {
	s := &memStore{users: users, byID: make(map[string]int, len(users)), matches: make(map[[2]int32]storedMatch),
		adj: make(map[int32][]int32), jobs: make(map[string]store.JobState)}
	for i, u := range users {
		s.byID[u.ID] = i
	}
	return s
}

func (s *memStore) key(a, b string) ([2]int32, bool) {
	i, ok1 := s.byID[a]
	j, ok2 := s.byID[b]
	if i > j {
		i, j = j, i
	}
	return [2]int32{int32(i), int32(j)}, ok1 && ok2
}

func (s *memStore) GetUser(ctx context.Context, id string) (store.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.byID[id]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return s.users[i], nil
}

func (s *memStore) GetUsers(ctx context.Context, ids []string) ([]store.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.User
	for _, id := range ids {
		if i, ok := s.byID[id]; ok {
			out = append(out, s.users[i])
		}
	}
	return out, nil
}

func (s *memStore) Blocked(ctx context.Context, a, b string) (bool, error) { return false, nil }

func (s *memStore) GetMatch(ctx context.Context, a, b string) (store.Match, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, _ := s.key(a, b)
	m, ok := s.matches[k]
	if !ok {
		return store.Match{}, store.ErrNotFound
	}
	return store.Match{A: s.users[k[0]].ID, B: s.users[k[1]].ID, Score: m.score, VersionA: m.va, VersionB: m.vb, Algorithm: m.algorithm}, nil
}

func (s *memStore) PutMatch(ctx context.Context, m store.Match) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.key(m.A, m.B)
	if !ok {
		return fmt.Errorf("put match %s/%s: %w", m.A, m.B, store.ErrNotFound)
	}
	if _, exists := s.matches[k]; !exists {
		s.adj[k[0]] = append(s.adj[k[0]], k[1])
		s.adj[k[1]] = append(s.adj[k[1]], k[0])
	}
	s.matches[k] = storedMatch{va: m.VersionA, vb: m.VersionB, score: m.Score, algorithm: m.Algorithm}
	return nil
}

func (s *memStore) DeleteMatch(ctx context.Context, a, b string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, _ := s.key(a, b)
	if _, ok := s.matches[k]; !ok {
		return nil
	}
	delete(s.matches, k)
	s.adj[k[0]] = slices.DeleteFunc(s.adj[k[0]], func(v int32) bool { return v == k[1] })
	s.adj[k[1]] = slices.DeleteFunc(s.adj[k[1]], func(v int32) bool { return v == k[0] })
	return nil
}

// ListMatches returns the first page only (what the worker and the nightly run read).
func (s *memStore) ListMatches(ctx context.Context, userID, cursor string, limit int) (store.Page[store.MatchEntry], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := int32(s.byID[userID])
	var out []store.MatchEntry
	for _, o := range s.adj[i] {
		k := [2]int32{min(i, o), max(i, o)}
		out = append(out, store.MatchEntry{UserID: userID, OtherID: s.users[o].ID, Score: s.matches[k].score})
	}
	slices.SortFunc(out, func(x, y store.MatchEntry) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(x.OtherID, y.OtherID)) // as the stores: score, then id
	})
	return store.Page[store.MatchEntry]{Items: out[:min(limit, len(out))]}, nil
}

func (s *memStore) SetUserTerms(ctx context.Context, userID string, terms []string) error { return nil }

func (s *memStore) UsersWithTerm(ctx context.Context, term, asker string, limit int) ([]string, error) {
	return nil, nil
}

// ChangedUsers walks the users changed at or after since, in slice order; the cursor is a position.
func (s *memStore) ChangedUsers(ctx context.Context, since time.Time, cursor string, limit int) (store.Page[store.User], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start, _ := strconv.Atoi(cursor)
	var page store.Page[store.User]
	for i := start; i < len(s.users); i++ {
		if s.users[i].ProfileChangedAt.Before(since) {
			continue
		}
		if len(page.Items) == limit {
			page.Next = strconv.Itoa(i)
			break
		}
		page.Items = append(page.Items, s.users[i])
	}
	return page, nil
}

// ScanUsers walks every user in slice order; the cursor is a position.
func (s *memStore) ScanUsers(ctx context.Context, cursor string, limit int) (store.Page[store.User], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	start, _ := strconv.Atoi(cursor)
	end := min(len(s.users), start+limit)
	page := store.Page[store.User]{Items: slices.Clone(s.users[start:end])}
	if end < len(s.users) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

func (s *memStore) GetJobState(ctx context.Context, name string) (store.JobState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[name]
	if !ok {
		return store.JobState{}, store.ErrNotFound
	}
	return j, nil
}

func (s *memStore) PutJobState(ctx context.Context, j store.JobState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[j.Name] = j
	return nil
}
