package main

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"slices"

	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// askers is how many people's candidates the exposure run computes (a sample of the people).
const askers = 2000

// exposure writes the "Candidate exposure" section: people synthetic people indexed under 8-16 terms
// drawn from a Zipf distribution over 5,040 interests (as infra/bench/compat's), on the SQLite store;
// for a sample of askers, their candidates as the compat worker picks them (every term looked up with
// the worker's limit, holders scored ln(1 + limit/holders), top K); then how often the most-suggested
// person is a candidate against the mean, with the lookup starting at the first holder (as before issue
// 17) and at the asker's position.
func exposure(ctx context.Context, w io.Writer, people int) error {
	dir, err := os.MkdirTemp("", "bench-exposure")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "terms.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	r := rand.New(rand.NewSource(17))
	zipf := rand.NewZipf(r, 1.15, 8, 5039)
	ids := make([]string, people)
	terms := make([][]string, people)
	for i := range ids {
		ids[i] = fmt.Sprintf("person-%06d", i) // fixed ids, so that runs are comparable
		for range 8 + r.Intn(9) {
			terms[i] = append(terms[i], fmt.Sprintf("interest-%d", zipf.Uint64()))
		}
		if err := st.SetUserTerms(ctx, ids[i], terms[i]); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "## Candidate exposure")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%d synthetic people, each indexed under 8-16 terms drawn from a Zipf distribution (s = 1.15) over 5,040\n", people)
	fmt.Fprintf(w, "interests, on the SQLite store; for %d of them, their candidates as the compat worker picks them (each term\n", askers)
	fmt.Fprintf(w, "looked up with limit %d, holders scored ln(1 + limit/holders), top %d). Exposure: how often the most-suggested\n", rematch.DefaultTermLookup, rematch.DefaultK)
	fmt.Fprintln(w, "person is a candidate, against the mean over everyone.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| lookup start | max | mean | max / mean | people never a candidate |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	for _, perAsker := range []bool{false, true} {
		count := make(map[string]int, people)
		for i := range askers {
			asker := ids[i*people/askers]
			from := ""
			if perAsker {
				from = asker
			}
			holders := func(ctx context.Context, t string) ([]string, error) {
				return st.UsersWithTerm(ctx, t, from, rematch.DefaultTermLookup)
			}
			terms := slices.Compact(slices.Sorted(slices.Values(terms[i*people/askers])))
			cands, err := rematch.TermCandidates(ctx, holders, asker, terms, rematch.DefaultTermLookup, rematch.DefaultK)
			if err != nil {
				return err
			}
			for _, c := range cands {
				count[c]++
			}
		}
		top, total := 0, 0
		for _, n := range count {
			top, total = max(top, n), total+n
		}
		mean := float64(total) / float64(people)
		name := "a fixed start (as before issue 17)"
		if perAsker {
			name = "the asker's position"
		}
		fmt.Fprintf(w, "| %s | %d | %.2f | %.0f | %d |\n", name, top, mean, float64(top)/mean, people-len(count))
	}
	return nil
}
