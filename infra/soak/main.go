// Command soak is `make soak`: a bounded soak of the local stack over loopback that stops by itself.
// It builds infra/local and runs it as a process of its own over a fresh DATA_DIR, signs up people
// through the mock provider, and sends chat turns from many clients: a load, retries after the answer,
// retries while the first try runs, a kill -9 under load with a restart on the same data, and a
// SIGTERM under load. After each phase it reads the store back through the API and counts lost
// messages, lost replies and duplicate replies; it also counts 5xx answers, the latency, the peak of
// the write-ahead log and the restart times.
//
// It prints the section "Soak" of docs/benchmarks.md and writes it there (-write=false: print only).
// It exits non-zero when a target is missed: anything lost or duplicated, a 5xx, a request in flight
// at SIGTERM that the drain did not finish, the write-ahead log over 64 MB.
//
// Run it from the repository root: go run ./infra/soak [-turns 10000] [-clients 64] [-people 16] ...
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	cfg := Config{Progress: os.Stderr}
	flag.IntVar(&cfg.People, "people", 16, "people signed up through the mock provider")
	flag.IntVar(&cfg.Clients, "clients", 64, "concurrent clients, sharing the people out")
	flag.IntVar(&cfg.Turns, "turns", 10_000, "turns of the load phase")
	flag.IntVar(&cfg.RetryAfter, "retry-after", 1_000, "turns retried once after their answer")
	flag.IntVar(&cfg.RetryInFlight, "retry-in-flight", 1_000, "turns retried while the first try runs")
	flag.IntVar(&cfg.KillAfter, "kill-after", 1_000, "turns answered under load before kill -9 (0: no kill)")
	flag.IntVar(&cfg.TermAfter, "term-after", 1_000, "turns answered under load before SIGTERM (0: no SIGTERM)")
	flag.DurationVar(&cfg.Pace, "pace", 5*time.Millisecond, "the server's OFFLINE_PACE (pause between the offline model's words)")
	doc := flag.String("doc", "docs/benchmarks.md", "the file whose Soak section is written")
	write := flag.Bool("write", true, "write the section into -doc")
	keep := flag.Bool("keep", false, "keep the server's directory (binary, data, server.log)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "soak-")
	if err != nil {
		fail(err)
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "soak: directory", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	cfg.Dir = dir
	res, err := Run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "soak: the server's output is in %s/server.log\n", dir)
		fail(err)
	}
	var sec bytes.Buffer
	section(&sec, res)
	os.Stdout.Write(sec.Bytes())
	if *write {
		if err := writeSection(*doc, sec.Bytes()); err != nil {
			fail(err)
		}
		fmt.Fprintln(os.Stderr, "soak: wrote the Soak section of", *doc)
	}
	if f := res.Failures(); len(f) > 0 {
		fmt.Fprintf(os.Stderr, "soak: %d targets missed; the server's output is in %s/server.log\n", len(f), dir)
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "soak:", err)
	os.Exit(1)
}
