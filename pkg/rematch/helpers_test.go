package rematch_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

func newStore(tb testing.TB) *sqlitestore.Store {
	tb.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(tb.TempDir(), "twin.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// person stores a discoverable person whose one public shade has the given topics.
func person(tb testing.TB, st store.Store, nick string, topics ...string) store.User {
	tb.Helper()
	now := time.Now().UTC()
	u := store.User{ID: id.New(), Nickname: nick, Provider: store.ProviderOIDC, Discoverable: true, AllowTwinChat: true,
		ProfileVersion: 1, ProfileChangedAt: now, CreatedAt: now, UpdatedAt: now,
		Shades: []store.Shade{{ID: id.New(), Name: nick + " things", Confidence: store.ConfidenceHigh,
			Public: &store.PublicShade{Name: nick + " things", Description: "I like " + strings.Join(topics, " and "), Topics: topics}}}}
	if err := st.CreateUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

// update applies change to a stored person as a profile edit would (a new version, changed now).
func update(tb testing.TB, st store.Store, userID string, change func(u *store.User)) store.User {
	tb.Helper()
	return updateAt(tb, st, userID, time.Now(), change)
}

// updateAt is update with the edit made at.
func updateAt(tb testing.TB, st store.Store, userID string, at time.Time, change func(u *store.User)) store.User {
	tb.Helper()
	u, err := st.GetUser(context.Background(), userID)
	if err != nil {
		tb.Fatal(err)
	}
	change(&u)
	u.ProfileVersion++
	u.ProfileChangedAt = at.UTC()
	u, err = st.UpdateUser(context.Background(), u)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// countingModel answers the conversation call with fixed lines and a verdict, and the judge with a
// fixed verdict, counting calls.
type countingModel struct {
	mu    sync.Mutex
	calls int
	fail  error
}

func (m *countingModel) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.fail != nil {
		return llm.Reply{}, m.fail
	}
	if req.Data != nil && req.Data.Task == llm.TaskTranscript {
		var lines []string
		for i := range req.Data.Lines {
			lines = append(lines, fmt.Sprintf(`{"speaker": %d, "text": "Hello from twin %d."}`, i%2+1, i%2+1))
		}
		return llm.Reply{Text: `{"lines": [` + strings.Join(lines, ",") + `], "score": 75, "reasoning": "Talked.", "highlights": [], "challenges": []}`}, nil
	}
	return llm.Reply{Text: `{"score": 77, "reasoning": "Judged.", "highlights": ["h"], "challenges": ["c"]}`}, nil
}

func (m *countingModel) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// recordingSender keeps every batch sent; it fails with failAfter batches sent, when set.
type recordingSender struct {
	mu        sync.Mutex
	batches   [][][]byte
	failAfter int
}

func (s *recordingSender) Send(ctx context.Context, bodies ...[]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAfter > 0 && len(s.batches) >= s.failAfter {
		return fmt.Errorf("queue down")
	}
	s.batches = append(s.batches, slices.Clone(bodies))
	return nil
}

// jobs returns every job sent, decoded, and resets the record.
func (s *recordingSender) jobs(tb testing.TB) []rematch.Job {
	tb.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []rematch.Job
	for _, b := range s.batches {
		if len(b) > rematch.BatchSize {
			tb.Errorf("batch of %d jobs, want at most %d", len(b), rematch.BatchSize)
		}
		for _, body := range b {
			j, err := rematch.DecodeJob(body)
			if err != nil {
				tb.Fatalf("sent a bad job %s: %v", body, err)
			}
			out = append(out, j)
		}
	}
	s.batches = nil
	return out
}
