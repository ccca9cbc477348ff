package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/infra/lambdatest"
	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/rematch/rematchtest"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// TestUnderEmulator runs the compatworker bootstrap under the Runtime Interface Emulator with real SQS
// events from testdata, on a fresh table of the DynamoDB test server, with the offline model and a
// fake SQS for the user job's fan-out.
func TestUnderEmulator(t *testing.T) {
	ctx := context.Background()
	endpoint, table := dynamotest.Endpoint(t), dynamotest.Table(t)
	st := dynamostore.New(dynamotest.DB(t), table)
	seed(t, st)
	for _, u := range []string{ann, ben} { // as their own user jobs would have
		p, err := st.GetUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SetUserTerms(ctx, u, rematch.IndexTerms(p, rematch.DefaultIndexTerms)); err != nil {
			t.Fatal(err)
		}
	}
	sqs := rematchtest.NewSQS(t)
	emu := lambdatest.Start(t, lambdatest.Build(t, "./functions/compatworker"), append(sqs.Env(),
		"TABLE_NAME="+table,
		"DYNAMO_ENDPOINT="+endpoint,
	))
	invoke := func(t *testing.T, name string) events.SQSEventResponse {
		t.Helper()
		ev, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		var resp events.SQSEventResponse
		if out := emu.Invoke(t, ev); json.Unmarshal(out, &resp) != nil || resp.BatchItemFailures == nil {
			t.Fatalf("response %s is not an SQSEventResponse", out)
		}
		return resp
	}

	t.Run("a mixed batch reports exactly its failures", func(t *testing.T) {
		resp := invoke(t, "sqs_mixed_batch.json")
		want := []string{"6b1c2f3e-0002-4d5e-9f00-000000000002", "6b1c2f3e-0004-4d5e-9f00-000000000004", "6b1c2f3e-0006-4d5e-9f00-000000000006"}
		if got := failedIDs(resp); !slices.Equal(got, want) {
			t.Errorf("failed ids = %v, want %v", got, want)
		}
		for _, p := range [][2]string{{ann, ben}, {ben, cat}} {
			if m, err := st.GetMatch(ctx, p[0], p[1]); err != nil || m.Algorithm != formula.Version+"+"+compat.JudgeVersion {
				t.Errorf("match %v = %+v, %v; want one judged by the offline model", p, m, err)
			}
		}
		// Cat's user job fanned out pair jobs with Cat's candidates, found through the term index.
		var others []string
		for _, j := range sqs.Jobs() {
			if j.Kind == rematch.KindPair && (j.A == cat || j.B == cat) {
				others = append(others, j.A+j.B)
			}
		}
		if len(others) != 2 {
			t.Errorf("Cat's user job sent %v, want pair jobs with Ann and Ben", sqs.Jobs())
		}
	})
	t.Run("the same job three times leaves one match", func(t *testing.T) {
		first, err := st.GetMatch(ctx, ann, ben)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if resp := invoke(t, "sqs_same_job_3x.json"); len(resp.BatchItemFailures) != 0 {
				t.Fatalf("failures %+v", resp.BatchItemFailures)
			}
		}
		again, err := st.GetMatch(ctx, ann, ben)
		if err != nil || again.Score != first.Score || !again.ComputedAt.Equal(first.ComputedAt) {
			t.Errorf("match after redeliveries = %+v, %v; want it untouched", again, err)
		}
		if page, err := st.ListMatches(ctx, ann, "", 10); err != nil || len(page.Items) != 1 || page.Items[0].OtherID != ben {
			t.Errorf("Ann lists %+v, %v; want Ben once", page.Items, err)
		}
	})
}

// The people of the fixtures in testdata.
const (
	ann = "01M8A4CY44FCM3Z8GV675Z3JNY"
	ben = "01M8A4CY456EYERJS3HV87X3QV"
	cat = "01M8A4CY451AVWVYBP842B5SXP"
)

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

// failedIDs are the message ids a batch response reports, sorted.
func failedIDs(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}
