// Package metrics counts what operators watch: model calls and their tokens by purpose, and the
// matching budgets. A Recorder takes samples; Counter keeps them in memory (the local stack serves
// them at GET /local/metrics), EMF writes them as CloudWatch embedded metric format lines to a log
// stream (Lambda's stdout), so CloudWatch turns them into metrics with no API call. Both use the
// same metric names.
package metrics

import (
	"encoding/json"
	"sync"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "SecondMe"

// Metric names.
const (
	// ModelCalls counts model calls, by Purpose.
	ModelCalls = "ModelCalls"
	// ModelTokensIn counts the tokens sent to the model (prompt and conversation), by Purpose.
	ModelTokensIn = "ModelTokensIn"
	// ModelTokensOut counts the tokens the model answered, by Purpose.
	ModelTokensOut = "ModelTokensOut"
	// ModelErrors counts model calls that failed, by Purpose.
	ModelErrors = "ModelErrors"
	// ModelCostMicroUSD adds up what a provider said it charged for the calls, in millionths of a US
	// dollar, by Purpose (Runware's includeCost: the avatar purpose).
	ModelCostMicroUSD = "ModelCostMicroUSD"
	// MatchingDeferred counts pairs whose model part waited because a budget was spent, by Budget
	// ("nightly", or "person" for a person's daily matching budget).
	MatchingDeferred = "MatchingDeferred"
	// NightlyRuns counts nightly rematch runs by Result ("ok" when the run finished: the fan-out's last
	// shard task; "failed" when the scheduled plan failed): the
	// template's NightlyMissingAlarm fires when no run finished for 26 hours.
	NightlyRuns = "NightlyRuns"
)

// Dimension names.
const (
	// DimPurpose is why the model was called: one of the Purpose values.
	DimPurpose = "Purpose"
	// DimBudget names a matching budget: "nightly" or "person".
	DimBudget = "Budget"
	// DimResult is how a run ended: ResultOK or ResultFailed.
	DimResult = "Result"
)

// Results of a run.
const (
	ResultOK     = "ok"
	ResultFailed = "failed"
)

// Purposes of a model call.
const (
	PurposeChat               = "chat"
	PurposeSummary            = "summary"
	PurposeCompatConversation = "compat_conversation"
	PurposeCompatJudge        = "compat_judge"
	PurposeAvatar             = "avatar"
	PurposeOther              = "other"
)

// Count is one metric's value in a sample.
type Count struct {
	Name  string
	Value int64
}

// Sample is what happened once: counts under one dimension value (Purpose chat: ModelCalls 1,
// ModelTokensIn 420, ModelTokensOut 80).
type Sample struct {
	Dimension string
	Value     string
	Counts    []Count
}

// Recorder takes samples. Implementations are safe for concurrent use.
type Recorder interface {
	Record(s Sample)
}

// Nop records nothing.
type Nop struct{}

// Record does nothing.
func (Nop) Record(Sample) {}

// Counter keeps running totals in memory: per metric name, per dimension value.
type Counter struct {
	mu     sync.Mutex
	totals map[string]map[string]int64
}

// NewCounter returns an empty Counter.
func NewCounter() *Counter { return &Counter{totals: map[string]map[string]int64{}} }

// Record adds the sample's counts to the totals.
func (c *Counter) Record(s Sample) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range s.Counts {
		byValue := c.totals[n.Name]
		if byValue == nil {
			byValue = map[string]int64{}
			c.totals[n.Name] = byValue
		}
		byValue[s.Value] += n.Value
	}
}

// Snapshot returns a copy of the totals: metric name, then dimension value, then the total.
func (c *Counter) Snapshot() map[string]map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]map[string]int64, len(c.totals))
	for name, byValue := range c.totals {
		cp := make(map[string]int64, len(byValue))
		for v, n := range byValue {
			cp[v] = n
		}
		out[name] = cp
	}
	return out
}

// MarshalJSON writes the snapshot: {"ModelCalls": {"chat": 3, "compat_judge": 4}, ...}.
func (c *Counter) MarshalJSON() ([]byte, error) { return json.Marshal(c.Snapshot()) }

// Multi records every sample in each of its recorders.
type Multi []Recorder

// Record passes s to every recorder.
func (m Multi) Record(s Sample) {
	for _, r := range m {
		r.Record(s)
	}
}
