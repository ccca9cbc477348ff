package metrics

import (
	"context"

	"github.com/secondme/twin/pkg/llm"
)

// bytesPerToken is the estimate of tokens from text: providers do not all report usage, so tokens
// are counted the same way for every provider, about four bytes of text a token.
const bytesPerToken = 4

// Tokens estimates the tokens of text.
func Tokens(text string) int64 { return int64((len(text) + bytesPerToken - 1) / bytesPerToken) }

// purposeKey is the context key of WithPurpose.
type purposeKey struct{}

// WithPurpose returns ctx with the purpose of the model calls made under it, which overrides what
// the request says.
func WithPurpose(ctx context.Context, purpose string) context.Context {
	return context.WithValue(ctx, purposeKey{}, purpose)
}

// PurposeOf returns why req is made: the purpose of ctx, else the request's task (chat, summary,
// transcript for the compat conversation, judge for the compat judge), else fallback.
func PurposeOf(ctx context.Context, req llm.Request, fallback string) string {
	if p, ok := ctx.Value(purposeKey{}).(string); ok && p != "" {
		return p
	}
	if req.Data != nil {
		switch req.Data.Task {
		case llm.TaskChat:
			return PurposeChat
		case llm.TaskSummary:
			return PurposeSummary
		case llm.TaskTranscript:
			return PurposeCompatConversation
		case llm.TaskJudge:
			return PurposeCompatJudge
		}
	}
	return fallback
}

// countingModel is an llm.Model that records every call.
type countingModel struct {
	next     llm.Model
	rec      Recorder
	fallback string
}

// CountCalls returns a model that passes every call to next and records it in rec: ModelCalls,
// ModelTokensIn (system prompt and messages), ModelTokensOut (the reply, partial on failure) and,
// when the call failed, ModelErrors, under its purpose (PurposeOf, with fallback when neither the
// context nor the request says).
func CountCalls(next llm.Model, rec Recorder, fallback string) llm.Model {
	return &countingModel{next: next, rec: rec, fallback: fallback}
}

// Generate calls the model and records the call.
func (m *countingModel) Generate(ctx context.Context, req llm.Request, onDelta func(string) error) (llm.Reply, error) {
	reply, err := m.next.Generate(ctx, req, onDelta)
	in := Tokens(req.System)
	for _, msg := range req.Messages {
		in += Tokens(msg.Content)
	}
	counts := []Count{{ModelCalls, 1}, {ModelTokensIn, in}, {ModelTokensOut, Tokens(reply.Text)}}
	if err != nil {
		counts = append(counts, Count{ModelErrors, 1})
	}
	m.rec.Record(Sample{Dimension: DimPurpose, Value: PurposeOf(ctx, req, m.fallback), Counts: counts})
	return reply, err
}
