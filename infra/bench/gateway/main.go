// Command gateway prints the "Functions under the gateway" section of docs/benchmarks.md: every
// function of template.yaml, its own bootstrap run by make gateway's Lambda Runtime API, with the
// median of 5 cold starts and of 200 warm invocations. It runs the gateway itself in its measuring
// mode (-measure-cold, -measure-warm) on a free port and a fresh data directory.
//
// Run it from the repository root: go run ./infra/bench/gateway [-cold 5] [-warm 200].
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
)

func main() {
	cold := flag.Int("cold", 5, "cold starts per function")
	warm := flag.Int("warm", 200, "warm invocations per function")
	flag.Parse()
	if err := run(*cold, *warm); err != nil {
		fmt.Fprintln(os.Stderr, "bench gateway:", err)
		os.Exit(1)
	}
}

// run measures through `go run ./infra/gateway`, whose Markdown goes to stdout.
func run(cold, warm int) error {
	dir, err := os.MkdirTemp("", "bench-gateway-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("go", "run", "./infra/gateway", "-measure-cold", fmt.Sprint(cold), "-measure-warm", fmt.Sprint(warm))
	cmd.Env = append(os.Environ(), "PORT=0", "DATA_DIR="+dir)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
