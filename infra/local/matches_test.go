package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/infra/demo"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/rematch"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// matchList is the answer of GET /api/matches.
type matchList struct {
	Matches []struct {
		Person struct{ ID, Nickname string }
		Score  int
	}
}

// waitMatches polls GET /api/matches until ok accepts the list (the queue computes in the background).
func waitMatches(t *testing.T, c *chatClient, what string, ok func(matchList) bool) matchList {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list matchList
		if code, body := c.do("GET", "/api/matches?limit=100", "", &list); code != 200 {
			t.Fatalf("GET /api/matches: %d %s", code, body)
		}
		if ok(list) {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s; matches are %+v", what, list.Matches)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func putShades(t *testing.T, c *chatClient, shades ...profile.Shade) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"shades": shades})
	if code, resp := c.do("PUT", "/api/user/shades", string(body), nil); code != 200 {
		t.Fatalf("PUT /api/user/shades: %d %s", code, resp)
	}
}

func publicShade(name, text string, topics ...string) profile.Shade {
	return profile.Shade{Name: name, Confidence: "VERY_HIGH", Description: text, Topics: topics,
		Public: &profile.PublicShade{Name: name, Description: text, Topics: topics}}
}

// TestMatchesFollowShadeEdits signs a new person in through the mock provider, makes them
// discoverable with jazz shades, and reads their matches over HTTP; then they edit their shades to
// climbing, and their matches change, with the same server still running.
func TestMatchesFollowShadeEdits(t *testing.T) {
	a := startApp(t, t.TempDir())
	me := signInAs(t, a, "new:Matchmaker")
	if code, body := me.do("PATCH", "/api/user/info", `{"discoverable":true}`, nil); code != 200 {
		t.Fatalf("PATCH /api/user/info: %d %s", code, body)
	}
	putShades(t, me, publicShade("Jazz pianist", "Plays jazz piano and improvises in a trio.", "jazz", "piano", "music", "improvisation"))
	top := func(l matchList) string {
		if len(l.Matches) == 0 {
			return ""
		}
		return l.Matches[0].Person.Nickname
	}
	jazz := waitMatches(t, me, "matches for the jazz shades", func(l matchList) bool { return top(l) == "Maya Okafor" })

	// The evidence of the top match: the twins talked (offline model), both speakers present. The
	// deterministic score comes at once, the model part at the end of the person's coalescing window.
	var one struct {
		Score      int
		Parts      []string
		Transcript []struct{ Speaker, Text string }
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		code, body := me.do("GET", "/api/matches/"+jazz.Matches[0].Person.ID, "", &one)
		if code == 200 && len(one.Transcript) == 6 && len(one.Parts) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /api/matches/{id}: no model part within 30s: %d %s", code, body)
		}
	}

	putShades(t, me, publicShade("Climber", "Climbs and boulders outdoors every weekend.", "climbing", "bouldering", "outdoors"))
	climbers := map[string]bool{"Lukas Berger": true, "Ingrid Larsen": true, "Priya Raman": true}
	// The new candidates come first, and the old match is recomputed from the new profile.
	after := waitMatches(t, me, "matches for the climbing shades", func(l matchList) bool {
		for _, m := range l.Matches {
			if m.Person.Nickname == "Maya Okafor" && m.Score >= jazz.Matches[0].Score {
				return false
			}
		}
		return climbers[top(l)]
	})
	if code, body := me.do("POST", "/api/matches/"+after.Matches[0].Person.ID+"/refresh", "", nil); code != 202 {
		t.Errorf("refresh: %d %s", code, body)
	}

	// The model calls were counted by purpose, under the names CloudWatch gets on AWS.
	var counters map[string]map[string]int64
	if code, body := me.do("GET", "/local/metrics", "", &counters); code != 200 {
		t.Fatalf("GET /local/metrics: %d %s", code, body)
	}
	calls := counters[metrics.ModelCalls]
	if calls[metrics.PurposeCompatConversation] == 0 || calls[metrics.PurposeCompatJudge] < calls[metrics.PurposeCompatConversation] ||
		counters[metrics.ModelTokensIn][metrics.PurposeCompatJudge] == 0 {
		t.Errorf("GET /local/metrics = %v, want model calls and tokens of the compat conversation and judge", counters)
	}
}

// TestRematchOnce is `make rematch`: one nightly pass over the local data that computes every pair
// before it returns, then exits.
func TestRematchOnce(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"DATA_DIR": dir, "MATCH_K": "3"}
	var out strings.Builder
	if err := run(context.Background(), []string{"-rematch-once"}, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatalf("run -rematch-once: %v", err)
	}
	st, err := sqlitestore.Open(context.Background(), filepath.Join(dir, "secondme.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	state, err := st.GetJobState(context.Background(), rematch.JobName)
	if err != nil || state.LastRun.IsZero() {
		t.Fatalf("job state = %+v, %v; want the run recorded", state, err)
	}
	personas, err := demo.Personas()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range personas {
		page, err := st.ListMatches(context.Background(), p.ID, "", 10)
		if err != nil || len(page.Items) == 0 {
			t.Errorf("%s has no matches after the pass: %v", p.Nickname, err)
		}
	}
}
