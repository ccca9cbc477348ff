package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode"

	"github.com/secondme/twin/infra/demo"
	"github.com/secondme/twin/pkg/lang"
	"github.com/secondme/twin/pkg/store"
)

// hanShare is the share of Han characters among the letters of s.
func hanShare(s string) float64 {
	han, letters := 0, 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			han++
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if letters == 0 {
		return 0
	}
	return float64(han) / float64(letters)
}

// withLanguage sends a same-origin request with an Accept-Language header and returns the status and body.
func (c *chatClient) withLanguage(method, path, body, accept string) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", c.base)
	req.Header.Set("Accept-Language", accept)
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestLanguagesThroughTheLocalStack speaks to the local stack over HTTP in Chinese and in English:
// the offline twin of a Chinese persona answers a Chinese message in Chinese and an English one in
// English; errors and the 404 page come in the person's language, else the browser's; and a person
// whose language is zh-CN reads Chinese reasons for their matches with English profiles.
func TestLanguagesThroughTheLocalStack(t *testing.T) {
	a := startApp(t, t.TempDir())
	personas, err := demo.Personas()
	if err != nil {
		t.Fatal(err)
	}
	var chinese, english []store.User
	for _, p := range personas {
		if p.Language == lang.Chinese {
			chinese = append(chinese, p)
		} else {
			english = append(english, p)
		}
	}
	if len(chinese) < 4 {
		t.Fatalf("%d Chinese personas, want at least 4", len(chinese))
	}
	lin := chinese[0]

	t.Run("chat", func(t *testing.T) {
		for _, tc := range []struct {
			who, hint, twin string
		}{
			{"a Chinese persona's own twin", lin.ID, ""},
			{"a Chinese persona's twin, to someone else", "new:Robin", lin.ID},
		} {
			c := signInAs(t, a, tc.hint)
			twin := ""
			if tc.twin != "" {
				twin = fmt.Sprintf(`,"twinId":%q`, tc.twin)
			}
			var zh, en localTurn
			if code, body := c.do("POST", "/api/chat", `{"message":"你平时周末喜欢做什么？"`+twin+`}`, &zh); code != 200 {
				t.Fatalf("%s, in Chinese: %d %s", tc.who, code, body)
			}
			if lang.Of(zh.Reply.Content) != lang.Chinese || hanShare(zh.Reply.Content) < 0.6 {
				t.Errorf("%s answers a Chinese message with %q, want Chinese", tc.who, zh.Reply.Content)
			}
			if code, body := c.do("POST", "/api/chat", `{"message":"What do you like to do at the weekend?"`+twin+`}`, &en); code != 200 {
				t.Fatalf("%s, in English: %d %s", tc.who, code, body)
			}
			if lang.Of(en.Reply.Content) != lang.English || hanShare(en.Reply.Content) > 0.3 {
				t.Errorf("%s answers an English message with %q, want English", tc.who, en.Reply.Content)
			}
		}
	})

	t.Run("profile and errors", func(t *testing.T) {
		c := signInAs(t, a, lin.ID)
		var info struct{ Language string }
		if code, body := c.do("GET", "/api/user/info", "", &info); code != 200 || info.Language != lang.Chinese {
			t.Fatalf("GET /api/user/info as %s: %d %s, want language zh-CN", lin.Nickname, code, body)
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		code, body := c.withLanguage("PATCH", "/api/user/info", `{"language":"fr"}`, "en-US")
		if err := json.Unmarshal(body, &e); err != nil || code != 400 || e.Error.Code != "invalid_argument" || !strings.Contains(e.Error.Message, "language") || lang.Of(e.Error.Message) != lang.Chinese {
			t.Errorf("a bad language from a zh-CN person with an English browser: %d %s, want a Chinese message naming language", code, body)
		}
		robin := signInAs(t, a, "new:Robin")
		code, body = robin.withLanguage("PATCH", "/api/user/info", `{"nickname":""}`, "zh-CN,zh;q=0.9,en;q=0.8")
		if err := json.Unmarshal(body, &e); err != nil || code != 400 || lang.Of(e.Error.Message) != lang.Chinese {
			t.Errorf("an error for a person without a language and a Chinese browser: %d %s, want Chinese", code, body)
		}
		code, body = robin.withLanguage("GET", "/no/such/page", "", "zh-CN")
		if code != 404 || !strings.Contains(string(body), `<html lang="zh-CN">`) {
			t.Errorf("the 404 page for a Chinese browser: %d %.200s", code, body)
		}
		code, body = robin.withLanguage("GET", "/no/such/page", "", "en-GB")
		if code != 404 || !strings.Contains(string(body), `<html lang="en">`) {
			t.Errorf("the 404 page for an English browser: %d %.200s", code, body)
		}
	})

	t.Run("matches", func(t *testing.T) {
		maya := english[0]
		c := signInAs(t, a, maya.ID)
		if code, body := c.do("PATCH", "/api/user/info", `{"language":"zh-CN"}`, nil); code != 200 {
			t.Fatalf("PATCH language: %d %s", code, body)
		}
		isEnglish := map[string]bool{}
		for _, p := range english {
			isEnglish[p.ID] = true
		}
		waitMatches(t, c, "Maya's matches with English profiles", func(l matchList) bool {
			for _, m := range l.Matches {
				if isEnglish[m.Person.ID] {
					return true
				}
			}
			return false
		})
		var list struct {
			Matches []struct {
				Person     struct{ ID, Nickname string }
				Reasoning  string
				Highlights []string
			}
		}
		if code, body := c.do("GET", "/api/matches?limit=100", "", &list); code != 200 {
			t.Fatalf("GET /api/matches: %d %s", code, body)
		}
		read := 0
		for _, m := range list.Matches {
			if !isEnglish[m.Person.ID] || len(m.Highlights) == 0 {
				continue
			}
			if read++; read == 1 {
				t.Logf("Maya (zh-CN) reads about %s: %s %q", m.Person.Nickname, m.Reasoning, m.Highlights)
			}
			for _, h := range m.Highlights {
				if !strings.ContainsFunc(h, func(r rune) bool { return unicode.Is(unicode.Han, r) }) || strings.Contains(h, "Both ") {
					t.Errorf("Maya (zh-CN) reads %q about %s, want Chinese", h, m.Person.Nickname)
				}
			}
			if !strings.Contains(m.Reasoning, "/100") || lang.Of(m.Reasoning) != lang.Chinese {
				t.Errorf("Maya (zh-CN) reads the reasoning %q about %s, want Chinese", m.Reasoning, m.Person.Nickname)
			}
		}
		if read == 0 {
			t.Errorf("Maya has no match with highlights among English profiles: %+v", list.Matches)
		}
	})
}
