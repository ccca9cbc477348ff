package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
)

// Latencies per call of the simulated services: a DynamoDB Query or BatchGet page or a write, and an
// SQS SendMessageBatch, as measured from a Lambda function in the same region (p50, a few ms).
const (
	dynamoLatency = 5 * time.Millisecond
	sqsLatency    = 8 * time.Millisecond
)

// Sizes of the stored items, in bytes: a person's profile (six shades, memories), a term entry, a
// match entry.
const (
	userItemBytes  = 3000
	termItemBytes  = 120
	matchItemBytes = 200
	// changedTermsPerEdit is how many of a changed person's index terms differ from the stored ones:
	// SetUserTerms writes only those (2 added and 2 removed: a put or a delete each, and its GSI1 copy).
	changedTermsPerEdit = 4
)

// population is a synthetic population of n people, generated from their number rather than
// stored, so that a million cost no memory: person i has 3 to 6 public shades with topics from a
// Zipf vocabulary whose most common term is held by about 20% of people; every changeEvery-th person
// changed their profile an hour before the run.
type population struct {
	n           int
	changeEvery int
	changedAt   time.Time
	vocab       int
}

// userID is the id of person i: a ULID whose entropy holds i.
func userID(i int) string {
	var u ulid.ULID
	if err := u.SetTime(1_767_225_600_000); err != nil { // 2026-01-01
		panic(err)
	}
	binary.BigEndian.PutUint64(u[8:], uint64(i))
	return u.String()
}

// number is the inverse of userID.
func number(id string) int {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return -1
	}
	return int(binary.BigEndian.Uint64(u[8:]))
}

// mix is a 64-bit hash of i and salt (splitmix64).
func mix(i, salt uint64) uint64 {
	z := i*0x9e3779b97f4a7c15 + salt
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// termShare is the share of people holding term t (Zipf, s = 1): term 0 is held by 20%.
func termShare(t int) float64 { return 0.2 / float64(t+1) }

// term draws a term from a Zipf-like distribution over the vocabulary from a uniform u in [0,1).
func (p *population) term(u float64) int {
	// Inverse of the CDF of 1/(t+1) over vocab terms: t = exp(u·ln(vocab+1)) - 1.
	return min(p.vocab-1, int(math.Exp(u*math.Log(float64(p.vocab+1))))-1)
}

// user returns person i.
func (p *population) user(i int) store.User {
	h := mix(uint64(i), 1)
	u := store.User{ID: userID(i), Nickname: "P" + strconv.Itoa(i), Provider: store.ProviderOIDC, Discoverable: h%50 != 0,
		AllowTwinChat: true, ProfileVersion: 1, ProfileChangedAt: p.changedAt.Add(-30 * 24 * time.Hour)}
	if i%p.changeEvery == 0 {
		u.ProfileVersion, u.ProfileChangedAt = 2, p.changedAt.Add(time.Duration(i)*time.Microsecond)
	}
	shades := 3 + int(h>>8)%4
	for s := range shades {
		topics := make([]string, 2+int(mix(uint64(i), uint64(s)+7)%4))
		for k := range topics {
			r := float64(mix(uint64(i), uint64(s*16+k)+100)>>11) / (1 << 53)
			topics[k] = "t" + strconv.Itoa(p.term(r))
		}
		name := topics[0]
		u.Shades = append(u.Shades, store.Shade{ID: userID(i*8 + s), Name: name, Confidence: store.ConfidenceHigh,
			Public: &store.PublicShade{Name: name, Description: "Likes " + strings.Join(topics, " and ") + ".", Topics: topics}})
	}
	return u
}

// simStore is the nightly's store over a population, adding dynamoLatency per call to the caller's
// simulated clock and counting the capacity units DynamoDB would bill, per key.
type simStore struct {
	pop *population
	mu  sync.Mutex
	// clock is the simulated time the calls took; calls counts them.
	clock time.Duration
	calls int
	rcu   map[string]float64 // read units per partition key
	wcu   map[string]float64 // write units per partition key
	jobs  map[string]store.JobState
}

func newSimStore(pop *population) *simStore {
	return &simStore{pop: pop, rcu: map[string]float64{}, wcu: map[string]float64{}, jobs: map[string]store.JobState{}}
}

// readUnits is what reading bytes costs: 4 KB a unit, half when eventually consistent.
func readUnits(bytes int, strong bool) float64 {
	u := math.Ceil(float64(bytes) / 4096)
	if !strong {
		u /= 2
	}
	return max(u, 0.5)
}

// How many calls of a kind overlap in a shard task (pkg/rematch): the task's own calls (job state,
// listing pages) one at a time; a person's calls ShardWorkers at a time; term lookups LookupWorkers
// at a time within each of those. A call adds its latency divided by its overlap to the task's clock.
const (
	taskCall   = 1
	personCall = rematch.ShardWorkers
	lookupCall = rematch.ShardWorkers * rematch.LookupWorkers
)

// call counts one call and its units.
func (s *simStore) call(overlap int, rk string, r float64, wk string, w float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock += dynamoLatency / time.Duration(overlap)
	s.calls++
	if r > 0 {
		s.rcu[rk] += r
	}
	if w > 0 {
		s.wcu[wk] += w
	}
}

// written counts write units of a call counted apart (an item of a batch).
func (s *simStore) written(key string, units float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wcu[key] += units
}

// userKey groups the many people's own partitions under one name (no one person's is hot here).
const userKey = "USER#<each person>"

func (s *simStore) page(cursor string, limit int, from int, next func(int) int, keep func(int) bool) (store.Page[store.User], error) {
	i := from
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil {
			return store.Page[store.User]{}, fmt.Errorf("cursor %q: %w", cursor, store.ErrBadCursor)
		}
		i = n
	}
	var page store.Page[store.User]
	for ; i < s.pop.n && len(page.Items) < limit; i = next(i) {
		if keep(i) {
			page.Items = append(page.Items, s.pop.user(i))
		}
	}
	if i < s.pop.n {
		page.Next = strconv.Itoa(i)
	}
	return page, nil
}

func (s *simStore) ChangedUsers(ctx context.Context, since time.Time, cursor string, limit int) (store.Page[store.User], error) {
	every := s.pop.changeEvery
	p, err := s.page(cursor, limit, 0, func(i int) int { return i + every }, func(int) bool { return true })
	// One Query page of GSI2 per CHANGED# shard (16, run 8 at a time, so two rounds: counted here as one call),
	// items of a profile each; the items each shard reads beyond the page kept are not counted.
	s.call(taskCall, "GSI2 CHANGED#<shard>", readUnits(len(p.Items)*userItemBytes, false), "", 0)
	return p, err
}

func (s *simStore) ScanUsers(ctx context.Context, cursor string, limit int) (store.Page[store.User], error) {
	p, err := s.page(cursor, limit, 0, func(i int) int { return i + 1 }, func(int) bool { return true })
	s.call(taskCall, "GSI2 (scan, every partition)", readUnits(len(p.Items)*userItemBytes, false), "", 0)
	return p, err
}

func (s *simStore) ListMatches(ctx context.Context, userID, cursor string, limit int) (store.Page[store.MatchEntry], error) {
	s.call(personCall, userKey, readUnits(limit*matchItemBytes, false), "", 0)
	return store.Page[store.MatchEntry]{}, nil
}

func (s *simStore) SetUserTerms(ctx context.Context, userID string, terms []string) error {
	// Reads the stored entries (one Query of the person's GSI1 terms) and writes the changed ones in
	// one BatchWriteItem: an entry and its GSI1 copy, 2 units each.
	s.call(personCall, userKey, readUnits(len(terms)*termItemBytes, false), "", 0)
	for k := range min(changedTermsPerEdit, len(terms)) {
		s.written("TERM#"+terms[k], 2) // in the one batch write below
	}
	s.call(personCall, "", 0, "", 0)
	return nil
}

// UsersWithTerm returns up to limit holders of a term, starting at a place that depends on the
// asker (as the store's fair lookup does): one Query page of the term's partition.
func (s *simStore) UsersWithTerm(ctx context.Context, term, asker string, limit int) ([]string, error) {
	t, _ := strconv.Atoi(strings.TrimPrefix(term, "t"))
	holders := max(1, int(termShare(t)*float64(s.pop.n)))
	n := min(limit, holders)
	ids := make([]string, n)
	start := mix(uint64(number(asker)), uint64(t))
	stride := uint64(s.pop.n / holders)
	for k := range ids {
		ids[k] = userID(int((start + uint64(k)*max(1, stride)) % uint64(s.pop.n)))
	}
	s.call(lookupCall, "TERM#"+term, readUnits(n*termItemBytes, false), "", 0)
	return ids, nil
}

func (s *simStore) GetUsers(ctx context.Context, ids []string) ([]store.User, error) {
	out := make([]store.User, 0, len(ids))
	for _, id := range ids {
		if i := number(id); i >= 0 && i < s.pop.n {
			out = append(out, s.pop.user(i))
		}
	}
	// One BatchGet (100 keys at most), eventually consistent, a unit per 4 KB item.
	s.call(personCall, userKey, float64(len(out))*readUnits(userItemBytes, false), "", 0)
	return out, nil
}

func (s *simStore) GetJobState(ctx context.Context, name string) (store.JobState, error) {
	s.call(taskCall, "JOB#"+name, 0.5, "", 0)
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[name]
	if !ok {
		return store.JobState{}, store.ErrNotFound
	}
	return j, nil
}

func (s *simStore) PutJobState(ctx context.Context, j store.JobState) error {
	s.call(taskCall, "", 0, "JOB#"+j.Name, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[j.Name] = j
	return nil
}

func (s *simStore) ListDeferred(ctx context.Context, limit int) ([]store.Deferral, error) {
	s.call(taskCall, "DEFERRED", readUnits(limit*100, false), "", 0)
	return nil, nil
}

// take returns and resets the simulated time and calls since the last take.
func (s *simStore) take() (time.Duration, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, n := s.clock, s.calls
	s.clock, s.calls = 0, 0
	return c, n
}

// hottest returns the key with the most units in m, and its units.
func hottest(m map[string]float64, skip string) (string, float64) {
	var key string
	var most float64
	for k, v := range m {
		if k != skip && v > most {
			key, most = k, v
		}
	}
	return key, most
}

// total sums the units of m.
func total(m map[string]float64) float64 {
	var t float64
	for _, v := range m {
		t += v
	}
	return t
}
