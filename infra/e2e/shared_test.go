package e2e_test

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// The browser tests on `make run` share one local stack: each signs in as a different person, so they
// do not see each other's data, and the stack (about 15 s to build and seed on 2 cores) starts once.
// The first test that needs it starts it; TestMain stops it after the last test.
var shared = struct {
	sync.Mutex
	stacks map[string]*sharedStack // by kind, once started
	all    []*sharedStack          // every one started or starting, to stop
}{stacks: map[string]*sharedStack{}}

// sharedStack is a stack started for the package, and what stopping it takes.
type sharedStack struct {
	base     string
	cleanups []func()
	ended    bool // the package's tests are over: report to stderr, not to a finished test
	failed   bool
}

// sharedStackURL returns the base URL of the package's stack of that kind, starting it on first use.
func sharedStackURL(t *testing.T, kind string) string {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if s, ok := shared.stacks[kind]; ok {
		return s.base
	}
	s := &sharedStack{}
	shared.all = append(shared.all, s)
	s.base = startStack(&stackHost{TB: t, s: s}, kind)
	shared.stacks[kind] = s
	return s.base
}

// stopSharedStacks stops every shared stack, printing its output when a test failed, and reports
// whether one did not stop cleanly.
func stopSharedStacks(testsFailed bool) (failed bool) {
	shared.Lock()
	defer shared.Unlock()
	for _, s := range shared.all {
		s.ended = true
		s.failed = testsFailed
		for i := len(s.cleanups) - 1; i >= 0; i-- {
			s.cleanups[i]()
		}
		failed = failed || (s.failed && !testsFailed)
	}
	return failed
}

func TestMain(m *testing.M) {
	code := m.Run()
	if stopSharedStacks(code != 0) && code == 0 {
		code = 1
	}
	os.Exit(code)
}

// stackHost is the testing.TB startStack gets for a shared stack: the first test's while it starts,
// but its cleanups and temporary directory belong to the package, and what the cleanups report after
// the tests are over goes to stderr.
type stackHost struct {
	testing.TB
	s *sharedStack
}

func (h *stackHost) Cleanup(f func()) { h.s.cleanups = append(h.s.cleanups, f) }

func (h *stackHost) TempDir() string {
	dir, err := os.MkdirTemp("", "e2e-stack-")
	if err != nil {
		h.TB.Fatal(err)
	}
	h.s.cleanups = append(h.s.cleanups, func() { _ = os.RemoveAll(dir) })
	return dir
}

func (h *stackHost) Errorf(format string, args ...any) {
	if !h.s.ended {
		h.TB.Errorf(format, args...)
		return
	}
	h.s.failed = true
	fmt.Fprintf(os.Stderr, "shared stack: "+format+"\n", args...)
}

func (h *stackHost) Logf(format string, args ...any) {
	if !h.s.ended {
		h.TB.Logf(format, args...)
		return
	}
	fmt.Fprintf(os.Stderr, "shared stack: "+format+"\n", args...)
}

func (h *stackHost) Failed() bool {
	if !h.s.ended {
		return h.TB.Failed()
	}
	return h.s.failed
}
