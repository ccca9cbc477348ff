// Package testenv decides what a test does when something it needs is missing: locally it skips,
// in CI (CI=true) it fails, because a skipped test is not a passing test.
package testenv

import (
	"os"
	"testing"
)

// CI reports whether the tests run in CI.
func CI() bool { return os.Getenv("CI") == "true" }

// Need stops the test when a dependency is missing: a failure in CI, a skip elsewhere. what names the
// dependency and how to get it, for example "dynalite (DYNAMO_ENDPOINT); run make test".
func Need(tb testing.TB, ok bool, what string) {
	tb.Helper()
	if ok {
		return
	}
	if CI() {
		tb.Fatalf("missing test dependency: %s", what)
	}
	tb.Skipf("missing test dependency: %s", what)
}
