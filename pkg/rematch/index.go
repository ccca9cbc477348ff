package rematch

import (
	"math"
	"runtime"
	"slices"
	"sync"
)

// DefaultMaxPosting is how many people of one term's posting list a candidate search visits: a rare
// term is visited whole, a common one through a window of this size that starts at a place that
// depends on the person, so that different people meet different holders of a common term, and the
// same person meets mostly the same ones from one night to the next.
const DefaultMaxPosting = 256

// Index is an in-memory inverted index from normalised shade terms to people, for the nightly
// candidate search over many people. Build it with Add (not safe for concurrent use), then call
// Candidates from any number of goroutines, each with its own Scratch.
type Index struct {
	dict       map[string]uint32
	users      []string
	number     map[string]uint32
	terms      [][]uint32
	postings   [][]uint32
	maxPosting int
}

// NewIndex returns an empty index; maxPosting <= 0 means DefaultMaxPosting.
func NewIndex(maxPosting int) *Index {
	if maxPosting <= 0 {
		maxPosting = DefaultMaxPosting
	}
	return &Index{dict: make(map[string]uint32), number: make(map[string]uint32), maxPosting: maxPosting}
}

// Add indexes a person under their terms. A person added twice keeps their first terms.
func (x *Index) Add(userID string, terms []string) {
	if _, ok := x.number[userID]; ok {
		return
	}
	u := uint32(len(x.users))
	x.users = append(x.users, userID)
	x.number[userID] = u
	ts := make([]uint32, 0, len(terms))
	for _, t := range terms {
		n, ok := x.dict[t]
		if !ok {
			n = uint32(len(x.postings))
			x.dict[t] = n
			x.postings = append(x.postings, nil)
		}
		if p := x.postings[n]; len(p) > 0 && p[len(p)-1] == u {
			continue // the same term twice
		}
		x.postings[n] = append(x.postings[n], u)
		ts = append(ts, n)
	}
	x.terms = append(x.terms, ts)
}

// Len returns the number of people indexed.
func (x *Index) Len() int { return len(x.users) }

// Scratch is the working memory of one goroutine's candidate searches.
type Scratch struct {
	score   []float32
	touched []uint32
	best    []scored
}

type scored struct {
	u     uint32
	score float32
}

// NewScratch returns working memory for searches in x.
func (x *Index) NewScratch() *Scratch {
	return &Scratch{score: make([]float32, len(x.users))}
}

// Candidates appends to dst the ids of the k people who share the most rare terms with userID, best
// first (ties in the order people were added), and returns it. A shared term counts ln(1 + N/df): the
// rarer, the more. A person not in the index has no candidates.
func (x *Index) Candidates(dst []string, userID string, k int, s *Scratch) []string {
	u, ok := x.number[userID]
	if !ok || k <= 0 {
		return dst
	}
	for _, b := range x.top(u, k, s) {
		dst = append(dst, x.users[b.u])
	}
	return dst
}

// top returns the k best candidates of person u (in s.best).
func (x *Index) top(u uint32, k int, s *Scratch) []scored {
	if len(s.score) < len(x.users) {
		s.score = make([]float32, len(x.users))
	}
	n := float64(len(x.users))
	for _, t := range x.terms[u] {
		p := x.postings[t]
		idf := float32(math.Log1p(n / float64(len(p))))
		if len(p) <= x.maxPosting {
			s.add(p, idf)
			continue
		}
		// The window starts at the first holder at or after a pivot in the index's numbering that
		// depends on u alone, so that it stays put when a few holders come or go between runs.
		pivot := uint32((uint64(u) * 2654435761) % uint64(len(x.users)))
		start, _ := slices.BinarySearch(p, pivot)
		end := start + x.maxPosting
		if end <= len(p) {
			s.add(p[start:end], idf)
		} else { // the window wraps around to the start of the list
			s.add(p[start:], idf)
			s.add(p[:end-len(p)], idf)
		}
	}
	s.best = s.best[:0]
	for _, v := range s.touched {
		sc := s.score[v]
		s.score[v] = 0
		if v == u || (len(s.best) == k && sc <= s.best[k-1].score) {
			continue // a tie with the last kept loses: it was added later
		}
		s.best = insertBest(s.best, scored{v, sc}, k)
	}
	s.touched = s.touched[:0]
	return s.best
}

// add adds idf to the score of each person in vs.
func (s *Scratch) add(vs []uint32, idf float32) {
	for _, v := range vs {
		if s.score[v] == 0 {
			s.touched = append(s.touched, v)
		}
		s.score[v] += idf
	}
}

// insertBest keeps best sorted (highest score first, ties by the order people were added) and at
// most k long.
func insertBest(best []scored, c scored, k int) []scored {
	better := func(a, b scored) bool {
		if a.score != b.score {
			return a.score > b.score
		}
		return a.u < b.u
	}
	i := len(best)
	if len(best) < k {
		best = append(best, c)
	} else {
		i = k - 1
	}
	for i > 0 && better(c, best[i-1]) {
		best[i] = best[i-1]
		i--
	}
	best[i] = c
	return best
}

// Pairs returns the distinct pairs (in canonical order, A < B) of every person in ids with each of
// their top k candidates: at most k·len(ids) pairs, found on all cores.
func Pairs(x *Index, ids []string, k int) [][2]string {
	workers := max(1, runtime.GOMAXPROCS(0))
	parts := make([][]uint64, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := x.NewScratch()
			for i := w; i < len(ids); i += workers {
				u, ok := x.number[ids[i]]
				if !ok {
					continue
				}
				for _, c := range x.top(u, k, s) {
					parts[w] = append(parts[w], pairKey(u, c.u))
				}
			}
		}()
	}
	wg.Wait()
	var keys []uint64
	for _, p := range parts {
		keys = append(keys, p...)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	out := make([][2]string, len(keys))
	for i, key := range keys {
		a, b := x.users[key>>32], x.users[uint32(key)]
		if a > b {
			a, b = b, a
		}
		out[i] = [2]string{a, b}
	}
	return out
}

// pairKey packs the numbers of two people into one key, the same in either order.
func pairKey(u, v uint32) uint64 {
	if u > v {
		u, v = v, u
	}
	return uint64(u)<<32 | uint64(v)
}
