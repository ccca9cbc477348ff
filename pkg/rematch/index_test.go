package rematch_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/secondme/twin/pkg/rematch"
)

func TestIndexCandidates(t *testing.T) {
	t.Parallel()
	x := rematch.NewIndex(0)
	x.Add("ann", []string{"jazz", "hik", "chess", "rare"})
	x.Add("ben", []string{"jazz", "hik"})
	x.Add("cat", []string{"rare"})
	x.Add("dan", []string{"jazz"})
	x.Add("eve", []string{"pottery"})
	x.Add("fay", []string{"jazz", "jazz"})
	for i := range 20 {
		x.Add(fmt.Sprint("j", i), []string{"jazz"})
	}
	s := x.NewScratch()
	got := x.Candidates(nil, "ann", 3, s)
	// ben shares two terms; cat shares the rarest one; then the jazz people tie and the smallest id wins.
	if want := []string{"ben", "cat", "dan"}; !slices.Equal(got, want) {
		t.Errorf("Candidates(ann) = %v, want %v", got, want)
	}
	if got := x.Candidates(nil, "eve", 3, s); len(got) != 0 {
		t.Errorf("Candidates(eve) = %v, want none", got)
	}
	if got := x.Candidates(nil, "nobody", 3, s); len(got) != 0 {
		t.Errorf("Candidates(nobody) = %v, want none", got)
	}
	if again := x.Candidates(nil, "ann", 3, s); !slices.Equal(again, []string{"ben", "cat", "dan"}) {
		t.Errorf("second search = %v: the scratch was not reset", again)
	}
}

func TestIndexCommonTermWindow(t *testing.T) {
	t.Parallel()
	x := rematch.NewIndex(8)
	for i := range 100 {
		x.Add(fmt.Sprintf("p%03d", i), []string{"music"})
	}
	s := x.NewScratch()
	seen := map[string]bool{}
	for i := range 100 {
		got := x.Candidates(nil, fmt.Sprintf("p%03d", i), 5, s)
		if len(got) != 5 {
			t.Fatalf("p%03d: %d candidates, want 5", i, len(got))
		}
		for _, c := range got {
			seen[c] = true
		}
	}
	if len(seen) < 50 {
		t.Errorf("only %d people ever proposed through a common term, want the windows to spread", len(seen))
	}
}

// TestCandidatesScaleLinearly generates 100,000 compact synthetic people (terms drawn from a Zipf
// distribution over 5,000 terms) and checks that candidate generation yields at most K·N pairs.
func TestCandidatesScaleLinearly(t *testing.T) {
	t.Parallel()
	const n, k = 100_000, 20
	x := rematch.NewIndex(0)
	r := rand.New(rand.NewPCG(11, 12))
	zipf := rand.NewZipf(r, 1.1, 4, 4999)
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("u%06d", i)
		terms := make([]string, 0, 12)
		for range 4 + r.IntN(9) {
			terms = append(terms, fmt.Sprint("t", zipf.Uint64()))
		}
		x.Add(ids[i], terms)
	}
	pairs := rematch.Pairs(x, ids, k)
	if got := len(pairs); got > k*n {
		t.Errorf("%d pairs for %d people, want at most K·N = %d", got, n, k*n)
	}
	if len(pairs) < n {
		t.Errorf("only %d pairs for %d people: candidate generation found almost nothing", len(pairs), n)
	}
	for _, p := range pairs[:100] {
		if p[0] >= p[1] {
			t.Fatalf("pair %v not in canonical order", p)
		}
	}
}
