package offline

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/secondme/twin/pkg/lang"
	"github.com/secondme/twin/pkg/llm"
)

// chinesePersona is a persona written in Chinese, as SecondMe's shades mostly are.
var chinesePersona = llm.Persona{
	ID: "zh", Name: "林晓雨", Bio: "杭州的中学语文老师。周末在西湖边练书法。",
	Facets: []llm.Facet{
		{Name: "书法", Texts: []string{"从小跟外公学写毛笔字，最爱临王羲之的《兰亭序》。"}, Topics: []string{"书法", "传统文化"}},
		{Name: "喝茶", Texts: []string{"她每天早上泡一壶龙井，喜欢和朋友聊茶。"}, Topics: []string{"茶", "龙井"}},
		{Name: "徒步", Texts: []string{"喜欢周末去山里徒步，去年走完了徽杭古道。"}, Topics: []string{"徒步", "户外"}},
	},
}

var englishPersona = llm.Persona{
	ID: "en", Name: "Maya Okafor", Bio: "Jazz pianist and piano teacher in Lisbon.",
	Facets: []llm.Facet{
		{Name: "Jazz pianist", Texts: []string{"Plays jazz piano in a trio three nights a week."}, Topics: []string{"jazz", "piano"}},
		{Name: "Sunday cook", Texts: []string{"Cooks West African food for friends on Sundays."}, Topics: []string{"cooking"}},
	},
}

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

func chat(t *testing.T, m *Model, p llm.Persona, msgs ...string) string {
	t.Helper()
	req := llm.Request{Data: &llm.Data{Task: llm.TaskChat, Personas: []llm.Persona{p}}}
	for i, s := range msgs {
		role := llm.RoleUser
		if i%2 == 1 {
			role = llm.RoleModel
		}
		req.Messages = append(req.Messages, llm.Message{Role: role, Content: s})
	}
	var streamed strings.Builder
	reply, err := m.Generate(context.Background(), req, func(d string) error {
		streamed.WriteString(d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if streamed.String() != reply.Text {
		t.Errorf("streamed %q, replied %q", streamed.String(), reply.Text)
	}
	return reply.Text
}

// TestReplyInTheMessagesLanguage checks that the offline twin answers a Chinese message in Chinese
// and an English one in English, whichever language its persona is written in.
func TestReplyInTheMessagesLanguage(t *testing.T) {
	t.Parallel()
	m := New()
	for _, tc := range []struct {
		name     string
		persona  llm.Persona
		msg      string
		want     string
		contains []string
	}{
		{"chinese to chinese, on a topic", chinesePersona, "你平时喜欢喝茶吗？", lang.Chinese, []string{"我每天早上泡一壶龙井，喜欢和朋友聊茶。"}},
		{"chinese to chinese, on calligraphy", chinesePersona, "聊聊书法吧", lang.Chinese, []string{"我从小跟外公学写毛笔字"}},
		{"chinese greeting", chinesePersona, "你好", lang.Chinese, []string{"你好！", "我是林晓雨的 AI 分身。", "你可以问问我关于书法、喝茶或徒步的事。"}},
		{"chinese, nothing it bears on", chinesePersona, "你对量子计算有什么看法？", lang.Chinese, []string{"我可以告诉你的是："}},
		{"english to chinese persona", chinesePersona, "What do you like to drink?", lang.English, []string{"I'm the AI twin of 林晓雨.", "My profile is written in Chinese"}},
		{"chinese to english persona", englishPersona, "你喜欢爵士乐吗？", lang.Chinese, []string{"我是 Maya Okafor 的 AI 分身。", "我的资料是用英文写的"}},
		{"english to english persona", englishPersona, "Do you play jazz?", lang.English, []string{"I play jazz piano in a trio three nights a week."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := chat(t, m, tc.persona, tc.msg)
			if lang.Of(got) != tc.want {
				t.Errorf("reply %q is not in %s", got, tc.want)
			}
			if tc.want == lang.Chinese && tc.persona.ID == "zh" && hanShare(got) < 0.6 {
				t.Errorf("reply %q: %.2f of its letters are Han, want most", got, hanShare(got))
			}
			if tc.want == lang.English && tc.persona.ID == "en" && hanShare(got) > 0 {
				t.Errorf("reply %q has Han characters", got)
			}
			for _, s := range tc.contains {
				if !strings.Contains(got, s) {
					t.Errorf("reply %q lacks %q", got, s)
				}
			}
		})
	}
}

// TestChineseConversationDoesNotRepeat has a Chinese conversation go on and checks no reply repeats
// an earlier message while the persona has sentences left.
func TestChineseConversationDoesNotRepeat(t *testing.T) {
	t.Parallel()
	m := New()
	var msgs []string
	seen := map[string]bool{}
	for _, q := range []string{"你好", "你喜欢什么？", "还有呢？", "再说说吧", "你喜欢什么？", "你好"} {
		msgs = append(msgs, q)
		got := chat(t, m, chinesePersona, msgs...)
		if seen[got] {
			t.Errorf("reply %q repeats an earlier one", got)
		}
		seen[got] = true
		if lang.Of(got) != lang.Chinese {
			t.Errorf("reply %q to %q is not Chinese", got, q)
		}
		msgs = append(msgs, got)
	}
}

func TestFirstPersonChinese(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"她每天早上泡一壶龙井":      "我每天早上泡一壶龙井",
		"他和他的狗住在海边":       "我和我的狗住在海边",
		"你喜欢爬山":           "我喜欢爬山",
		"喜欢周末去山里徒步":       "我喜欢周末去山里徒步",
		"周末在西湖边练书法":       "我周末在西湖边练书法",
		"我是一名老师":          "我是一名老师",
		"她们是我的学生":         "她们是我的学生",
		"杭州的中学语文老师":       "我是杭州的中学语文老师",
		"书法爱好者。":          "我是书法爱好者。",
		"老师们都很好":          "老师们都很好",
		"杭州人，在上海工作的设计师":   "我是杭州人，在上海工作的设计师",
		"退休的中学物理老师":       "我是退休的中学物理老师",
		"中学语文老师，喜欢带学生读书。": "我是中学语文老师，喜欢带学生读书。",
		"退休后在社区讲天文":       "我退休后在社区讲天文",
		"从小跟外公学写毛笔字":      "我从小跟外公学写毛笔字",
	} {
		if got := firstPersonChinese(in); got != want {
			t.Errorf("firstPersonChinese(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFinishChinese(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		max  int
		want string
	}{
		{"你好！我是林晓雨的 AI 分身。", 0, "你好！我是林晓雨的 AI 分身。"},
		{"你好！我是林晓雨的 AI 分身。", 8, "你好！"},
		{"我每天早上泡一壶龙井", 5, "我每天早…"},
	} {
		if got := finishChinese(tc.text, tc.max); got != tc.want {
			t.Errorf("finishChinese(%q, %d) = %q, want %q", tc.text, tc.max, got, tc.want)
		}
	}
	if got := splitPieces("你好！我是 AI 分身。"); strings.Join(got, "|") != "你好！|我是 |AI |分身。" {
		t.Errorf("splitPieces = %q", got)
	}
}

func TestPersonaLanguage(t *testing.T) {
	t.Parallel()
	if got := personaFromData(chinesePersona).language(); got != lang.Chinese {
		t.Errorf("the Chinese persona's language = %q", got)
	}
	if got := personaFromData(englishPersona).language(); got != lang.English {
		t.Errorf("the English persona's language = %q", got)
	}
	if got := (persona{}).language(); got != lang.English {
		t.Errorf("an empty persona's language = %q", got)
	}
}

// TestNoSentenceSaidTwice: a shade's description that begins its content is not said before it.
func TestNoSentenceSaidTwice(t *testing.T) {
	t.Parallel()
	p := llm.Persona{ID: "tea", Name: "林晓雨", Facets: []llm.Facet{{Name: "喝茶",
		Texts: []string{"每天早上泡一壶龙井。", "每天早上泡一壶龙井再去上课，喜欢和朋友聊茶。"}, Topics: []string{"茶", "龙井"}}}}
	got := chat(t, New(), p, "你平时喝龙井茶吗？")
	if n := strings.Count(got, "泡一壶龙井"); n != 1 {
		t.Errorf("reply %q says the same sentence %d times", got, n)
	}
}

// TestTranscriptInTheSharedLanguage has two Chinese personas' twins talk: every line is Chinese; and a
// Chinese and an English one: the English twin speaks English.
func TestTranscriptInTheSharedLanguage(t *testing.T) {
	t.Parallel()
	other := chinesePersona
	other.ID, other.Name = "zh2", "张伟"
	for _, tc := range []struct {
		name string
		a, b llm.Persona
	}{
		{"both Chinese", chinesePersona, other},
		{"Chinese and English", chinesePersona, englishPersona},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := llm.Request{Data: &llm.Data{Task: llm.TaskTranscript, Personas: []llm.Persona{tc.a, tc.b}, Lines: 6}}
			reply, err := New().Generate(context.Background(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			var tr struct {
				Lines []struct {
					Speaker int
					Text    string
				}
			}
			if err := json.Unmarshal([]byte(reply.Text), &tr); err != nil || len(tr.Lines) != 6 {
				t.Fatalf("transcript %q: %v", reply.Text, err)
			}
			for _, l := range tr.Lines {
				p := tc.a
				if l.Speaker == 2 {
					p = tc.b
				}
				want := lang.Chinese
				if p.ID == "en" || tc.b.ID == "en" && p.ID == "zh" {
					want = lang.English // a mixed pair talks as the opener does, in English
				}
				if lang.Of(l.Text) != want {
					t.Errorf("%s's line %q is not in %s", p.Name, l.Text, want)
				}
			}
		})
	}
}
