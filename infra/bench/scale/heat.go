package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// Per-partition limits of DynamoDB: a partition serves at most 3,000 read and 1,000 write units a
// second, whatever the table's mode.
const (
	partitionReads  = 3000
	partitionWrites = 1000
)

// scenario is one load of docs/scale.md.
type scenario struct {
	name        string
	people      int
	active      int     // daily active people
	turns       float64 // chat turns a second at peak
	edits       float64 // profile changes a second at peak (5% a day, peak 3x the mean)
	matchReads  float64 // match list reads a second at peak
	nightly     float64 // people the nightly chain rematches a second
	personaTTL  float64 // seconds a function instance keeps a twin's public persona; 0: no cache
	instances   int     // chat function instances at peak
	changedKeys int     // GSI2 partitions of profile changes
}

// op is one access of a partition: units read and written.
type op struct {
	key   string
	reads float64
	write float64
}

// heat replays a few simulated seconds of each scenario's peak mix and prints the hottest key's
// units a second against the partition limits.
func heat(w io.Writer) {
	fmt.Fprintln(w, "### Partition heat at peak")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ten simulated seconds of each scenario's peak mix (docs/scale.md): chat turns to twins chosen by a Zipf")
	fmt.Fprintln(w, "law (s = 1.2: the most talked-to twin takes about 18% of all turns), profile changes, match list reads and")
	fmt.Fprintln(w, "the nightly chain's term lookups. A turn reads the twin's public persona (strongly consistent, 2 units")
	fmt.Fprintln(w, "unless the instance has it cached: the store keeps other people's twins 30 s per instance), the session's")
	fmt.Fprintln(w, "meta and last messages, and writes about 10 units to the session's partition (docs/scale.md). A profile change")
	fmt.Fprintln(w, "writes the person's item (3 units), its GSI2 entry under one of the CHANGED# partitions (3 units) and 4 term")
	fmt.Fprintln(w, "entries (2 units each). The nightly chain rematches 50 people a second (the fan-out above), 15 term lookups each.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | hottest read key | reads/s | of 3,000 | hottest write key | writes/s | of 1,000 | fix |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|---:|---:|---|")
	base := []scenario{
		{name: "A", people: 1_000_000, active: 100_000, turns: 1000, edits: 3 * 50_000 / 86400.0, matchReads: 200, nightly: 50, instances: 100, changedKeys: 4},
		{name: "B", people: 10_000_000, active: 1_000_000, turns: 10_000, edits: 3 * 500_000 / 86400.0, matchReads: 2000, nightly: 50, instances: 1000, changedKeys: 4},
	}
	for _, sc := range base {
		row(w, sc, "")
		cached := sc
		cached.name += ", persona cached 30 s"
		cached.personaTTL = 30
		row(w, cached, "")
		burst := cached
		burst.name += ", 2,000 changes/s burst"
		burst.edits = 2000
		row(w, burst, "")
		sharded := burst
		sharded.name += ", CHANGED# in 16"
		sharded.changedKeys = 16
		row(w, sharded, "")
	}
	fmt.Fprintln(w)
}

// row simulates one scenario and prints its row.
func row(w io.Writer, sc scenario, _ string) {
	const seconds = 10
	r := rand.New(rand.NewPCG(7, uint64(sc.people)))
	zipf := rand.NewZipf(r, 1.2, 1, uint64(sc.active-1))
	reads := map[string]float64{}
	writes := map[string]float64{}
	add := func(o op) {
		reads[o.key] += o.reads
		writes[o.key] += o.write
	}
	// A persona cache per instance: a twin's USER# item is read once per TTL by each instance that
	// serves it (at most every instance).
	cachedTwins := map[string]bool{}
	for range int(sc.turns * seconds) {
		twin := "USER#twin" + strconv.FormatUint(zipf.Uint64(), 10)
		session := "SESSION#" + strconv.Itoa(r.IntN(int(sc.turns)*20)) // a conversation turns every ~20 s
		if sc.personaTTL == 0 {
			add(op{key: twin, reads: 2})
		} else if !cachedTwins[twin] {
			cachedTwins[twin] = true
			add(op{key: twin, reads: 2 * float64(sc.instances) * seconds / sc.personaTTL})
		}
		add(op{key: session, reads: 0.5 + 2, write: 10})
	}
	for range int(sc.edits * seconds) {
		u := r.IntN(sc.people)
		add(op{key: "USER#" + strconv.Itoa(u), write: 3})
		add(op{key: "GSI2 CHANGED#" + strconv.Itoa(u%sc.changedKeys), write: 3})
		for range changedTermsPerEdit {
			pop := &population{vocab: 50_000}
			add(op{key: "TERM#t" + strconv.Itoa(pop.term(r.Float64())), write: 2})
		}
	}
	for range int(sc.matchReads * seconds) {
		add(op{key: "USER#" + strconv.Itoa(r.IntN(sc.people)) + " matches", reads: 1})
	}
	// The nightly chain: each person looks up their 15 or so terms; the most common is held by 20%.
	for range int(sc.nightly * seconds) {
		for range 15 {
			pop := &population{vocab: 50_000}
			add(op{key: "TERM#t" + strconv.Itoa(pop.term(r.Float64())), reads: 3})
		}
	}
	rk, rv := top(reads)
	wk, wv := top(writes)
	rv, wv = rv/seconds, wv/seconds
	fix := "none needed"
	switch {
	case rv > partitionReads/2 && rk[:5] == "USER#":
		fix = "cache twins' public personas per instance"
	case wv > partitionWrites/2 && rk != "" && len(wk) > 4 && wk[:4] == "GSI2":
		fix = "more CHANGED# partitions on GSI2"
	case wv > partitionWrites/2 && len(wk) > 5 && wk[:5] == "TERM#":
		fix = "split a common term's entries over several keys (TERM#<term>#<n>)"
	case rv > partitionReads/2 || wv > partitionWrites/2:
		fix = "spread the key"
	}
	fmt.Fprintf(w, "| %s | %s | %.0f | %.0f%% | %s | %.0f | %.0f%% | %s |\n", sc.name, rk, rv, 100*rv/partitionReads, wk, wv, 100*wv/partitionWrites, fix)
}

// top returns the key with the most units.
func top(m map[string]float64) (string, float64) {
	var key string
	var most float64
	for k, v := range m {
		if v > most || v == most && k < key {
			key, most = k, v
		}
	}
	return key, most
}
