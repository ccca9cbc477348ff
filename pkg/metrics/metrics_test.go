package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/metrics"
)

// echo answers with a fixed text, or fails.
type echo struct {
	text string
	err  error
}

func (e echo) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	return llm.Reply{Text: e.text}, e.err
}

func TestCountCallsByPurpose(t *testing.T) {
	t.Parallel()
	c := metrics.NewCounter()
	ctx := context.Background()
	ok := metrics.CountCalls(echo{text: strings.Repeat("x", 40)}, c, metrics.PurposeChat)
	failing := metrics.CountCalls(echo{text: "xxxx", err: llm.ErrUnavailable}, c, metrics.PurposeOther)
	req := func(task string) llm.Request {
		r := llm.Request{System: strings.Repeat("s", 80), Messages: []llm.Message{{Role: llm.RoleUser, Content: strings.Repeat("m", 20)}}}
		if task != "" {
			r.Data = &llm.Data{Task: task}
		}
		return r
	}
	calls := []struct {
		ctx   context.Context
		model llm.Model
		req   llm.Request
	}{
		{ctx, ok, req("")},                 // fallback: chat
		{ctx, ok, req(llm.TaskTranscript)}, // compat conversation
		{ctx, ok, req(llm.TaskJudge)},      // compat judge
		{ctx, ok, req(llm.TaskJudge)},      // compat judge
		{metrics.WithPurpose(ctx, metrics.PurposeSummary), ok, req(llm.TaskChat)}, // the context wins
		{ctx, failing, req(llm.TaskJudge)},                                        // a failed call counts, and as an error
	}
	for _, call := range calls {
		_, err := call.model.Generate(call.ctx, call.req, nil)
		if call.model == failing && !errors.Is(err, llm.ErrUnavailable) {
			t.Fatalf("the counted model changed the error: %v", err)
		}
	}
	want := map[string]map[string]int64{
		metrics.ModelCalls:     {"chat": 1, "compat_conversation": 1, "compat_judge": 3, "summary": 1},
		metrics.ModelTokensIn:  {"chat": 25, "compat_conversation": 25, "compat_judge": 75, "summary": 25},
		metrics.ModelTokensOut: {"chat": 10, "compat_conversation": 10, "compat_judge": 21, "summary": 10},
		metrics.ModelErrors:    {"compat_judge": 1},
	}
	if got := c.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("counters = %v\nwant %v", got, want)
	}
	b, err := json.Marshal(c)
	if err != nil || !strings.Contains(string(b), `"ModelCalls":{"chat":1,`) {
		t.Errorf("JSON of the counter = %s, %v", b, err)
	}
}

func TestEMFLinesDeclareWhatTheyCarry(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	e := metrics.NewEMF(&buf)
	e.Record(metrics.Sample{Dimension: metrics.DimPurpose, Value: "compat_judge",
		Counts: []metrics.Count{{metrics.ModelCalls, 1}, {metrics.ModelTokensIn, 300}}})
	e.Record(metrics.Sample{Dimension: metrics.DimBudget, Value: "nightly", Counts: []metrics.Count{{metrics.MatchingDeferred, 1}}})
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one a sample:\n%s", len(lines), buf.String())
	}
	for _, line := range lines {
		var v struct {
			AWS struct {
				Timestamp         int64
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
		}
		var root map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil || json.Unmarshal([]byte(line), &root) != nil {
			t.Fatalf("line is not JSON: %s", line)
		}
		if v.AWS.Timestamp == 0 || len(v.AWS.CloudWatchMetrics) != 1 {
			t.Fatalf("line without the _aws directive: %s", line)
		}
		d := v.AWS.CloudWatchMetrics[0]
		if d.Namespace != metrics.Namespace || len(d.Dimensions) != 1 || len(d.Dimensions[0]) != 1 {
			t.Errorf("directive %+v, want namespace %s and one dimension", d, metrics.Namespace)
		}
		if _, ok := root[d.Dimensions[0][0]].(string); !ok {
			t.Errorf("dimension %s has no string value in %s", d.Dimensions[0][0], line)
		}
		for _, m := range d.Metrics {
			if _, ok := root[m.Name].(float64); !ok || m.Unit != "Count" {
				t.Errorf("metric %s declared without a numeric value (unit %s) in %s", m.Name, m.Unit, line)
			}
		}
	}
}
