package offline

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/secondme/twin/infra/demo"
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/prompt"
	"github.com/secondme/twin/pkg/store"
)

// TestOfflineWordsOfDemoPersonas asks every twin of infra/demo's personas, as its owner and as a
// stranger, a greeting, a question nothing bears on, each shade's name and each topic, and has every
// pair of neighbouring twins talk, and checks every reply: it does not mark itself offline in its text
// (the client does, once per conversation), no "I" is followed by a third-person verb it knows, and
// no shade name it suggests is capitalised mid-sentence.
func TestOfflineWordsOfDemoPersonas(t *testing.T) {
	t.Parallel()
	people, err := demo.Personas()
	if err != nil {
		t.Fatal(err)
	}
	model := New()
	ctx := context.Background()
	var chats []*llm.Persona
	replies := 0
	for _, u := range people {
		for _, own := range []bool{true, false} {
			msgs := []string{"hi", "What's your favourite food?", "Tell me about yourself."}
			for _, s := range u.Shades {
				msgs = append(msgs, "Tell me about "+s.Name, "Do you like "+strings.Join(s.Topics, " and ")+"?")
			}
			var history []store.ChatMessage
			for _, m := range msgs {
				req := prompt.Build(prompt.Input{Persona: prompt.PersonaOf(u, own), History: history, Message: m}, prompt.Config{}).Request
				reply, err := model.Generate(ctx, req, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !reply.Offline || reply.Model != llm.ModelOffline {
					t.Errorf("reply %+v does not say it is the offline model's", reply)
				}
				checkWords(t, u, reply.Text)
				replies++
				history = append(history, store.ChatMessage{Role: store.RoleUser, Content: m},
					store.ChatMessage{Role: store.RoleAssistant, Content: reply.Text})
				if !own && req.Data != nil && len(history) == 2 {
					chats = append(chats, &req.Data.Personas[0])
				}
			}
		}
	}
	for i := range chats {
		a, b := chats[i], chats[(i+1)%len(chats)]
		req := llm.Request{Data: &llm.Data{Task: llm.TaskTranscript, Personas: []llm.Persona{*a, *b}, Lines: 8}}
		reply, err := model.Generate(ctx, req, nil)
		if err != nil {
			t.Fatal(err)
		}
		var tr struct {
			Lines []struct {
				Speaker int
				Text    string
			}
		}
		if err := json.Unmarshal([]byte(reply.Text), &tr); err != nil {
			t.Fatalf("transcript %q: %v", reply.Text, err)
		}
		for _, l := range tr.Lines {
			checkWords(t, people[(i+l.Speaker-1)%len(people)], l.Text)
			replies++
		}
	}
	if replies < 400 {
		t.Errorf("only %d replies checked", replies)
	}
}

// checkWords reports the faults of one reply of u's twin.
func checkWords(t *testing.T, u store.User, text string) {
	t.Helper()
	if strings.Contains(text, "offline") {
		t.Errorf("%s: %q marks itself offline", u.Nickname, text)
	}
	words := strings.Fields(text)
	for i, w := range words {
		if w != "I" {
			continue
		}
		j := i + 1
		for j < len(words)-1 && adverbs[strings.ToLower(words[j])] {
			j++
		}
		if j >= len(words) {
			continue
		}
		_, verb, _ := splitPunct(words[j])
		if base, ok := baseVerb(verb); ok && base != verb && verb != "was" {
			t.Errorf("%s: %q says \"I %s\"", u.Nickname, text, verb)
		}
	}
	// The model names shades where it suggests what to ask about; the person's own sentences, which
	// may use a name as a proper noun ("Trained Carnatic singer"), are said as written.
	_, ask, ok := strings.Cut(text, "Ask me about ")
	if !ok {
		return
	}
	ask, _, _ = strings.Cut(ask, ".")
	for _, s := range u.Shades {
		names := []string{s.Name}
		if s.Public != nil && s.Public.Name != "" {
			names = append(names, s.Public.Name)
		}
		for _, name := range names {
			if midSentence(name) != name && strings.Contains(ask, name) {
				t.Errorf("%s: %q names %q capitalised mid-sentence", u.Nickname, text, name)
			}
		}
	}
}
