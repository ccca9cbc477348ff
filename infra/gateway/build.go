package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// buildConcurrency is how many bootstraps build at once (the linker is the slow part; two keep a
// 2-core machine busy without starving the rest).
const buildConcurrency = 2

// buildFunctions builds each function's bootstrap for this machine, with the flags of the Lambda
// build (CGO_ENABLED=0, -tags lambda.norpc,grpcnotrace, -trimpath, -ldflags "-s -w"), into
// binDir/<dir>/bootstrap, where <dir> is the last element of the function's code directory. It
// prints each build to out and returns each bootstrap's path by function name. root is the module
// root; a function whose code directory has no main.go is an error.
func buildFunctions(ctx context.Context, root, binDir string, fns []*Function, out io.Writer) (map[string]string, error) {
	for _, f := range fns {
		if _, err := os.Stat(filepath.Join(root, f.Code, "main.go")); err != nil {
			return nil, fmt.Errorf("function %s: no %s/main.go to build", f.Name, f.Code)
		}
	}
	var (
		mu    sync.Mutex
		paths = map[string]string{}
	)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(buildConcurrency)
	for _, f := range fns {
		g.Go(func() error {
			dst := filepath.Join(binDir, f.Dir(), "bootstrap")
			start := time.Now()
			if err := buildBootstrap(ctx, root, f.Code, dst); err != nil {
				return fmt.Errorf("build %s (function %s): %w", f.Code, f.Name, err)
			}
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(out, "built %s -> %s (%.1fs)\n", f.Code, dst, time.Since(start).Seconds())
			paths[f.Name] = dst
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return paths, nil
}

// buildBootstrap runs go build for the main package in root/code, writing dst.
func buildBootstrap(ctx context.Context, root, code, dst string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc,grpcnotrace", "-trimpath",
		"-ldflags", "-s -w", "-o", dst, "./"+filepath.ToSlash(code))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w\n%s", err, strings.TrimSpace(string(msg)))
	}
	return nil
}
