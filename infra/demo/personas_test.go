package demo

import (
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/lang"
)

// TestPersonasAreVaried checks the demo data keeps what makes the demo useful: at least 12 people,
// each with public and private-only shades, topics shared with others so that matching has
// something to find, and the privacy switches shown off somewhere.
func TestPersonasAreVaried(t *testing.T) {
	ps, err := Personas()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 12 {
		t.Fatalf("%d personas, want at least 12", len(ps))
	}
	topicOwners := map[string]map[string]bool{}
	levels := map[string]bool{}
	chatOff, withPrivate := 0, 0
	for _, u := range ps {
		if !u.Discoverable {
			t.Errorf("%s is not discoverable; every persona's public profile must be served", u.Nickname)
		}
		if !u.AllowTwinChat {
			chatOff++
		}
		private, public := 0, 0
		for _, s := range u.Shades {
			levels[s.Confidence] = true
			if s.Public == nil {
				private++
				continue
			}
			public++
			for _, tp := range s.Public.Topics {
				if topicOwners[tp] == nil {
					topicOwners[tp] = map[string]bool{}
				}
				topicOwners[tp][u.ID] = true
			}
		}
		if private > 0 {
			withPrivate++
		}
		if public < 3 {
			t.Errorf("%s has %d public shades, want at least 3", u.Nickname, public)
		}
		if len(u.Memories) < 2 {
			t.Errorf("%s has %d memories, want at least 2", u.Nickname, len(u.Memories))
		}
	}
	if withPrivate < 12 {
		t.Errorf("%d personas have a private-only shade, want at least 12", withPrivate)
	}
	if chatOff == 0 || chatOff > 2 {
		t.Errorf("%d personas refuse twin chat, want one or two", chatOff)
	}
	if len(levels) != 5 {
		t.Errorf("confidence levels used: %v, want all five", levels)
	}
	for _, u := range ps {
		shared := false
		for _, owners := range topicOwners {
			if owners[u.ID] && len(owners) > 1 {
				shared = true
				break
			}
		}
		if !shared {
			t.Errorf("%s shares no public topic with anyone", u.Nickname)
		}
	}
}

// TestChinesePersonas checks the demo has the mixed population SecondMe has: at least 4 people who
// write in Chinese (name, bio, every shade and memory) and read Second Me in Chinese.
func TestChinesePersonas(t *testing.T) {
	ps, err := Personas()
	if err != nil {
		t.Fatal(err)
	}
	chinese := 0
	for _, u := range ps {
		if u.Language != lang.Chinese {
			continue
		}
		chinese++
		texts := []string{u.Nickname, u.Bio}
		for _, s := range u.Shades {
			texts = append(texts, s.Name, s.Description, s.Content, strings.Join(s.Topics, "，"))
			if s.Public != nil {
				texts = append(texts, s.Public.Name, s.Public.Description, s.Public.Content)
			}
		}
		for _, m := range u.Memories {
			texts = append(texts, m.Subject, m.Content)
		}
		for _, text := range texts {
			if text != "" && lang.Of(text) != lang.Chinese {
				t.Errorf("%s: %q is not written in Chinese", u.Nickname, text)
			}
		}
	}
	if chinese < 4 {
		t.Errorf("%d personas write in Chinese, want at least 4", chinese)
	}
}
