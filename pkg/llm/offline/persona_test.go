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
		// Every verb of the subject, not only the first (texts of infra/demo's personas).
		{"Plays jazz piano professionally and thinks in chord changes.",
			"I play jazz piano professionally and think in chord changes."},
		{"Gigs three nights a week in a trio, transcribes Bill Evans solos at dawn, and teaches teenagers to improvise.",
			"I gig three nights a week in a trio, transcribe Bill Evans solos at dawn, and teach teenagers to improvise."},
		{"Finished three marathons, each slower than the last, and is fine with that; runs at 5 am before the heat.",
			"I finished three marathons, each slower than the last, and am fine with that; run at 5 am before the heat."},
		{"Wrote his master's thesis on free will; still reads Spinoza every evening and thinks chess is applied epistemology.",
			"I wrote my master's thesis on free will; still read Spinoza every evening and think chess is applied epistemology."},
		{"Still gets stage fright before solo concerts.", "I still get stage fright before solo concerts."},
		{"Translates games and is learning Portuguese.", "I translate games and am learning Portuguese."},
		// Third-person pronouns of the person; those of someone else stay.
		{"Learned to cook from her grandmother in Lagos; keeps a notebook of family recipes and argues about the best jollof with anyone who will listen.",
			"I learned to cook from my grandmother in Lagos; keep a notebook of family recipes and argue about the best jollof with anyone who will listen."},
		{"Reads Lucille Clifton and Fernando Pessoa when she cannot sleep; sometimes sets short poems to music.",
			"I read Lucille Clifton and Fernando Pessoa when I cannot sleep; sometimes set short poems to music."},
		{"His wife Margaret died in 2021; the allotment is where he misses her least.",
			"My wife Margaret died in 2021; the allotment is where I miss her least."},
		{"Her grandmother died two years ago; most of her poems since are letters to her.",
			"My grandmother died two years ago; most of my poems since are letters to her."},
		{"Her twins are five; she and her partner split mornings and evenings on a shared calendar.",
			"My twins are five; my partner and I split mornings and evenings on a shared calendar."},
		{"Avoids playing tournaments himself because losing in front of his students would sting.",
			"I avoid playing tournaments myself because losing in front of my students would sting."},
		{"Experiments with fueling for long runs; makes her own energy bars.",
			"I experiment with fueling for long runs; make my own energy bars."},
		{"Doubts she belongs in academia.", "I doubt I belong in academia."},
		{"Trained in Carnatic singing since age six.", "I trained in Carnatic singing since age six."},
		{"Trained Carnatic singer, weekend climber.", "Trained Carnatic singer, weekend climber."},
		{"Perfectionism makes her miss deadlines.", "Perfectionism makes her miss deadlines."},
		{"Charles lent her his lathe.", "Charles lent her his lathe."},
		{"She says he cooks.", "She says he cooks."},
		// What is not a verb of the person stays.
		{"Grows tomatoes, basil and peppers on a tiny balcony.", "I grow tomatoes, basil and peppers on a tiny balcony."},
		{"Loves films, books, plays and walks.", "I love films, books, plays and walks."},
		{"Still plays bass on Sundays; the band broke up but they meet and plays on.",
			"I still play bass on Sundays; the band broke up but they meet and plays on."},
		{"Has a daughter who loves chess and plays piano.", "I have a daughter who loves chess and plays piano."},
		{"Head chef of a 30-seat restaurant; cooks seasonal Austrian food.", "Head chef of a 30-seat restaurant; cooks seasonal Austrian food."},
	}
	for _, tc := range cases {
		if got := firstPerson(tc.in); got != tc.want {
			t.Errorf("firstPerson(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMidSentence(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"Musician", "musician"},
		{"Home cook", "home cook"},
		{"Home Cook", "home cook"},
		{"Bill Evans fan", "Bill Evans fan"},
		{"West African cooking", "West African cooking"},
		{"SecondMe power user", "SecondMe power user"},
		{"AI ethics", "AI ethics"},
		{"Life in NYC", "life in NYC"},
		{"Ölmalerei", "ölmalerei"},
		{"爬山", "爬山"},
		{"poetry", "poetry"},
	}
	for _, tc := range cases {
		if got := midSentence(tc.in); got != tc.want {
			t.Errorf("midSentence(%q) = %q, want %q", tc.in, got, tc.want)
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
