package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/offline"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// The people of the compatworker function's fixtures (functions/compatworker/testdata).
const (
	ann = "01M8A4CY44FCM3Z8GV675Z3JNY"
	ben = "01M8A4CY456EYERJS3HV87X3QV"
	cat = "01M8A4CY451AVWVYBP842B5SXP"
)

func fixture(tb testing.TB, name string) events.SQSEvent {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "compatworker", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		tb.Fatal(err)
	}
	return ev
}

// seed stores the fixtures' people: discoverable, with shared topics.
func seed(tb testing.TB, st store.Store) {
	tb.Helper()
	now := time.Now().UTC()
	for _, p := range []struct{ id, nick string }{{ann, "Ann"}, {ben, "Ben"}, {cat, "Cat"}} {
		u := store.User{ID: p.id, Nickname: p.nick, Discoverable: true, ProfileVersion: 1, ProfileChangedAt: now, CreatedAt: now, UpdatedAt: now,
			Shades: []store.Shade{{ID: p.id, Name: "Music", Confidence: store.ConfidenceHigh,
				Public: &store.PublicShade{Name: "Music", Description: p.nick + " plays jazz piano.", Topics: []string{"jazz", "piano"}}}}}
		if err := st.CreateUser(context.Background(), u); err != nil {
			tb.Fatal(err)
		}
	}
}

// model is the offline model, counting calls and failing every request that concerns Cat.
type model struct {
	mu      sync.Mutex
	calls   int
	offline llm.Model
}

func (m *model) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	m.mu.Lock()
	m.calls++
	m.mu.Unlock()
	text := req.System
	for _, msg := range req.Messages {
		text += msg.Content
	}
	if strings.Contains(text, "Cat") {
		return llm.Reply{}, llm.ErrUnavailable
	}
	return m.offline.Generate(ctx, req, onDelta)
}

func (m *model) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

type nopSender struct{}

func (nopSender) Send(ctx context.Context, bodies ...[]byte) error { return nil }

func setup(t *testing.T) (*sqlitestore.Store, *model, BatchHandler) {
	t.Helper()
	st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "twin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seed(t, st)
	m := &model{offline: offline.New()}
	w := rematch.NewCompatWorker(st, compat.New(m, compat.Config{}), nopSender{}, rematch.Config{})
	return st, m, BatchHandler{Handle: w.Handle, Workers: rematch.BatchSize, Logger: slog.Default()}
}

func failedIDs(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}

func TestMixedBatchReportsExactlyTheFailures(t *testing.T) {
	st, _, h := setup(t)
	resp, err := h.HandleBatch(context.Background(), fixture(t, "sqs_mixed_batch.json"))
	if err != nil {
		t.Fatalf("Handle returned %v; a batch must never fail as a whole", err)
	}
	want := []string{
		"6b1c2f3e-0002-4d5e-9f00-000000000002", // not JSON
		"6b1c2f3e-0004-4d5e-9f00-000000000004", // unknown kind
		"6b1c2f3e-0005-4d5e-9f00-000000000005", // the model failed for Ben and Cat
		"6b1c2f3e-0006-4d5e-9f00-000000000006", // a bad id
	}
	if got := failedIDs(resp); !slices.Equal(got, want) {
		t.Errorf("failed ids = %v, want %v", got, want)
	}
	if m, err := st.GetMatch(context.Background(), ann, ben); err != nil || !slices.Contains(m.Parts, compat.PartModel) {
		t.Errorf("Ann and Ben: %+v, %v; want a match judged by the model", m, err)
	}
	// The failed pair keeps the deterministic match meanwhile; its retry asks the model again.
	if m, err := st.GetMatch(context.Background(), ben, cat); err != nil || slices.Contains(m.Parts, compat.PartModel) {
		t.Errorf("Ben and Cat: %+v, %v; want the deterministic match", m, err)
	}
}

func TestSameJobThreeTimesLeavesOneMatch(t *testing.T) {
	ctx := context.Background()
	st, m, h := setup(t)
	ev := fixture(t, "sqs_same_job_3x.json")
	resp, err := h.HandleBatch(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v; want no failures", resp, err)
	}
	first, err := st.GetMatch(ctx, ann, ben)
	if err != nil {
		t.Fatal(err)
	}
	calls := m.count()
	if calls != rematch.DefaultCallsPerPair {
		t.Errorf("model calls = %d, want one computation (%d: the conversation with the judge's first order, and the second order)", calls, rematch.DefaultCallsPerPair)
	}
	// Delivered again in later batches: nothing is recomputed.
	for range 2 {
		if resp, err := h.HandleBatch(ctx, ev); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("redelivery = %+v, %v", resp, err)
		}
	}
	again, _ := st.GetMatch(ctx, ann, ben)
	if m.count() != calls || again.Score != first.Score || !again.ComputedAt.Equal(first.ComputedAt) {
		t.Errorf("after redeliveries: calls %d (want %d), match %d at %v (want %d at %v)", m.count(), calls,
			again.Score, again.ComputedAt, first.Score, first.ComputedAt)
	}
	for _, u := range []string{ann, ben} {
		page, err := st.ListMatches(ctx, u, "", 10)
		if err != nil || len(page.Items) != 1 || page.Items[0].Score != first.Score {
			t.Errorf("%s lists %+v, %v; want the one match", u, page.Items, err)
		}
	}
}

func TestOutOfTimeFailsTheRest(t *testing.T) {
	_, _, h := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), margin/2)
	defer cancel()
	ev := fixture(t, "sqs_same_job_3x.json")
	resp, err := h.HandleBatch(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != len(ev.Records) {
		t.Errorf("Handle = %+v, %v; want every message reported failed, for a later receive", resp, err)
	}
}

func TestPanicFailsOnlyItsMessage(t *testing.T) {
	h := BatchHandler{Workers: 2, Logger: slog.Default(), Handle: func(ctx context.Context, body []byte) error {
		if strings.Contains(string(body), "user") {
			panic("boom")
		}
		return nil
	}}
	resp, err := h.HandleBatch(context.Background(), fixture(t, "sqs_mixed_batch.json"))
	if got := failedIDs(resp); err != nil || !slices.Equal(got, []string{"6b1c2f3e-0003-4d5e-9f00-000000000003"}) {
		t.Errorf("failed = %v, %v; want only the panicking message", got, err)
	}
}
