// Package llm is the model interface of Second Me and its providers: Gemini (google.golang.org/genai),
// the person's own SecondMe, any OpenAI-compatible chat-completions endpoint, and a deterministic
// offline model that needs no key.
package llm

import (
	"context"
	"errors"
)

// ErrUnavailable means the model could not answer (timeout, 5xx, broken stream, refused request).
// Callers map it to upstream_unavailable.
var ErrUnavailable = errors.New("model unavailable")

// ModelOffline is Reply.Model of the offline model (package offline).
const ModelOffline = "offline"

// Roles of a message in a request.
const (
	RoleUser  = "user"
	RoleModel = "model"
)

// Message is one turn of the conversation sent to a model.
type Message struct {
	Role    string
	Content string
}

// Request is what a model is asked.
type Request struct {
	// System is the system prompt (persona and rules).
	System string
	// Messages is the conversation, oldest first; the last one is the message to answer.
	Messages []Message
	// MaxTokens caps the reply; 0 means the provider's default.
	MaxTokens int
	// Schema, when set, asks for a JSON reply that matches this JSON Schema.
	Schema map[string]any
	// Data, when set, is what the prompt says as data: the task and the personas it is about. Prompt
	// builders fill it next to the text; real providers ignore it, and the offline model, which cannot
	// read the text, answers from it.
	Data *Data
}

// Tasks of a request (Data.Task).
const (
	// TaskChat is a twin's reply in a chat: Personas[0] is the twin's persona.
	TaskChat = "chat"
	// TaskTranscript is a whole twin-to-twin conversation of Data.Lines lines, as JSON: Personas are the
	// two twins, the first speaks first.
	TaskTranscript = "transcript"
	// TaskJudge is a verdict on two people, as JSON: Personas are Person 1 and Person 2.
	TaskJudge = "judge"
	// TaskSummary is a summary of a conversation.
	TaskSummary = "summary"
)

// Data is the structured part of a request.
type Data struct {
	Task     string
	Personas []Persona
	// Lines is the length of a transcript (TaskTranscript).
	Lines int
}

// Persona is a person as the prompt presents them: what their twin may say about them.
type Persona struct {
	ID   string
	Name string
	Bio  string
	// Facets are the person's shades (and, for their own twin, memories), most important first.
	Facets []Facet
}

// Facet is one shade or memory: a name, the sentences about it and its topics.
type Facet struct {
	Name   string
	Texts  []string
	Topics []string
}

// Reply is a model's whole answer.
type Reply struct {
	Text string
	// Model names the model that answered ("offline" for the offline model).
	Model string
	// Offline is true when the deterministic offline model answered.
	Offline bool
}

// Model generates replies.
type Model interface {
	// Generate answers req. When onDelta is not nil it is called with each piece of text as it arrives;
	// an error from onDelta stops generation and is returned. Generate returns the joined text. Failures
	// of the provider wrap ErrUnavailable; a cancelled ctx returns ctx.Err(). On any error the Reply
	// holds the text onDelta accepted before it (a partial reply to save as incomplete).
	Generate(ctx context.Context, req Request, onDelta func(string) error) (Reply, error)
}
