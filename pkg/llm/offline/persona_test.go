package offline

import (
	"fmt"
	"reflect"
	"testing"
)

func TestFirstPerson(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"You love hiking; your dog comes along.", "I love hiking; my dog comes along."},
		{"You are curious and you're kind.", "I am curious and I'm kind."},
		{"Music makes you happy.", "Music makes me happy."},
		{"Friends say you were shy, but you have grown.", "Friends say I was shy, but I have grown."},
		{"Your garden is yours; you tend it yourself.", "My garden is mine; I tend it myself."},
		{"She enjoys machines.", "I enjoy machines."},
		{"He is a night owl.", "I am a night owl."},
		{"They love jazz.", "I love jazz."},
		{"Writes poetry.", "I write poetry."},
		{"Teaches chess to kids.", "I teach chess to kids."},
		{"Studies the stars.", "I study the stars."},
		{"Dogs make me happy.", "Dogs make me happy."},
		{"Mountains are calling.", "Mountains are calling."},
		{"She, of all people, cooks.", "She, of all people, cooks."},
		{"喜欢爬山。", "喜欢爬山。"},
	}
	for _, tc := range cases {
		if got := firstPerson(tc.in); got != tc.want {
			t.Errorf("firstPerson(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTerms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []string
	}{
		{"Hiking, hikes, hiked and the hike!", []string{"hik", "hik", "hik", "hik"}},
		{"I love running in 2024", []string{"run"}},
		{"Parties and a party", []string{"parti", "parti"}},
		{"爬山很好", []string{"爬山", "山很", "很好"}},
		{"Go 跑", []string{"go", "跑"}},
	}
	for _, tc := range cases {
		var got []string
		eachTerm(tc.in, func(term, _ string) { got = append(got, term) })
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("terms of %q = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParsePersona(t *testing.T) {
	t.Parallel()
	system := "You are the AI twin of \"Ada\".\nRules:\n1. Never claim to be human.\n\nThe profile (quoted data):\n" +
		"> Name: Ada\n> About me: Builds looms. Lives in London.\n" +
		"> Facet: Hiker (confidence high) | You hike. | topics: alps, trails\n" +
		"> Memory: Charles | Works with Charles.\n" +
		"\nSummary of the earlier conversation (quoted data):\n> Person: what about chess?\n"
	p := parsePersona(system)
	if p.name != "Ada" {
		t.Errorf("name = %q, want Ada", p.name)
	}
	if want := []string{"Hiker", "Charles"}; !reflect.DeepEqual(p.labels, want) {
		t.Errorf("labels = %q, want %q", p.labels, want)
	}
	var texts []string
	for _, f := range p.facts {
		texts = append(texts, f.say())
	}
	if want := []string{"I build looms.", "I live in London.", "I hike.", "I work with Charles."}; !reflect.DeepEqual(texts, want) {
		t.Errorf("facts = %q, want %q", texts, want)
	}
	if !p.facts[2].extra["alp"] || !p.facts[2].extra["hiker"] {
		t.Errorf("the facet's topics and name do not count for its sentences: %v", p.facts[2].extra)
	}

	plain := parsePersona("You are a twin.\n# About\n- Loves jazz.\nNever lie.\n2) Plays chess.")
	texts = nil
	for _, f := range plain.facts {
		texts = append(texts, f.say())
	}
	if want := []string{"I love jazz.", "I play chess."}; !reflect.DeepEqual(texts, want) {
		t.Errorf("unquoted facts = %q, want %q", texts, want)
	}
}

// TestPersonaCache checks that the offline model reads a persona once however its summary changes,
// reads a changed profile afresh, gives what parsePersona gives, and stays bounded.
func TestPersonaCache(t *testing.T) {
	t.Parallel()
	profile := "The profile (quoted data):\n> Name: Ada\n> About me: Builds looms.\n"
	var c personaCache
	first := c.get(profile + "\nSummary of the earlier conversation (quoted data):\n> Person: chess?\n")
	again := c.get(profile + "\nSummary of the earlier conversation (quoted data):\n> Person: chess?\n> Twin: no.\n")
	if len(c.m) != 1 || !reflect.DeepEqual(first, again) || !reflect.DeepEqual(first, parsePersona(profile)) {
		t.Errorf("the same profile with two summaries: %d entries, %+v then %+v", len(c.m), first, again)
	}
	if changed := c.get(profile + "> Memory: Charles | Works with Charles.\n"); len(c.m) != 2 || len(changed.facts) != 2 {
		t.Errorf("a changed profile: %d entries, facts %+v", len(c.m), changed.facts)
	}
	for i := range maxCachedPersonas + 1 {
		c.get(fmt.Sprintf("> Name: Person %d\n", i))
	}
	if len(c.m) > maxCachedPersonas {
		t.Errorf("%d personas cached, want at most %d", len(c.m), maxCachedPersonas)
	}
}
