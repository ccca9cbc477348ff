// Command deploycheck checks samconfig.toml's deploy parameters against template.yaml before `sam
// deploy`, offline: each parameter against its AllowedPattern and AllowedValues, the required ones
// set, the parameters that go together, the secrets in the stack's region and in one account, prod
// complete (public URL, sign-in, model key, alarm email) and in an account of its own, each queue
// worker's reserved concurrency at least its pollers' sum, and no placeholder left. `make
// deploy-check ENV=dev|prod` runs it; `make deploy` runs it first.
//
//	go run ./infra/deploycheck [-env dev|prod|all] [-template template.yaml] [-config samconfig.toml]
package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploycheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := fs.String("env", "all", "the samconfig.toml environment to check (all: every one with deploy parameters)")
	tmpl := fs.String("template", "template.yaml", "the SAM template")
	cfg := fs.String("config", "samconfig.toml", "the SAM CLI configuration")
	placeholders := fs.Bool("allow-placeholders", false, "accept the placeholders samconfig.toml ships with")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	src, err := os.ReadFile(*tmpl)
	if err != nil {
		fmt.Fprintln(stderr, "deploycheck:", err)
		return 2
	}
	params, err := readParameters(src)
	if err != nil {
		fmt.Fprintln(stderr, "deploycheck:", err)
		return 2
	}
	workers, err := readWorkers(src)
	if err != nil {
		fmt.Fprintln(stderr, "deploycheck:", err)
		return 2
	}
	b, err := os.ReadFile(*cfg)
	if err != nil {
		fmt.Fprintln(stderr, "deploycheck:", err)
		return 2
	}
	envs, err := readSamconfig(string(b))
	if err != nil {
		fmt.Fprintln(stderr, "deploycheck:", err)
		return 2
	}
	names := []string{*env}
	if *env == "all" {
		names = slices.Sorted(maps.Keys(envs))
	}
	var problems []string
	for _, n := range names {
		problems = append(problems, Check(params, envs, n, Options{AllowPlaceholders: *placeholders})...)
		problems = append(problems, CheckConcurrency(params, workers, envs, n)...)
	}
	if *env == "all" || *env == "prod" {
		problems = append(problems, CheckSeparateAccounts(envs)...)
	}
	for _, p := range problems {
		fmt.Fprintln(stderr, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "deploycheck: %d problems in %s against %s\n", len(problems), *cfg, *tmpl)
		return 1
	}
	fmt.Fprintf(stdout, "deploycheck: %v in %s agree with %s\n", names, *cfg, *tmpl)
	return 0
}
