package offline

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/lang"
)

// words are the words of the offline twin's chat replies in one language: chatReply builds every
// reply from them and from the persona's own sentences in that language.
type words struct {
	language string
	// sep joins the sentences of a reply: a space in English, nothing in Chinese.
	sep string
	// asked, agreeing and unsure open a reply to a question, to a message the persona bears on, and
	// to one it does not.
	asked, agreeing, unsure []string
	hello, nothingYet       string
	// canTell comes before the sentence a reply offers when the message bore on nothing.
	canTell string
	// twinOf says whose twin speaks, askAbout what to ask about.
	twinOf, askAbout func(string) string
	// say is a sentence of the persona as the twin says it; suggestions names facets to ask about.
	say         func(fact) string
	suggestions func(persona) string
	// finish cuts a reply to the request's maximum tokens.
	finish func(text string, maxTokens int) string
	// isQuestion says whether a message asks something.
	isQuestion func(string) bool
	// writtenIn says, for otherLanguage, that the persona is written in the other language.
	writtenIn func(name, topics string) []string
}

// wordsFor returns the words of a language: Chinese for lang.Chinese, else English.
func wordsFor(language string) words {
	if language == lang.Chinese {
		return chineseWords
	}
	return englishWords
}

var englishWords = words{
	language: lang.English,
	sep:      " ",
	asked:    []string{"Good question.", "Since you ask:", "Here's what I can tell you."},
	agreeing: agreeing,
	unsure: []string{"I haven't much to say about that.", "That's not something I think about much.",
		"I'm not sure I have a view on that."},
	hello:       "Hi!",
	nothingYet:  "I don't know enough about myself yet to say much about that.",
	canTell:     "What I can tell you: ",
	twinOf:      func(name string) string { return "I'm the AI twin of " + name + "." },
	askAbout:    func(topics string) string { return "Ask me about " + topics + "." },
	say:         fact.say,
	suggestions: suggestions,
	finish:      finishReply,
	isQuestion:  func(msg string) bool { return strings.ContainsAny(msg, "?？") },
	writtenIn: func(name, topics string) []string {
		out := []string{"My profile is written in Chinese, and I can only say it as it is written."}
		if topics != "" {
			return append(out, "Ask me in Chinese, about "+topics+" for instance.")
		}
		return append(out, "Ask me in Chinese.")
	},
}

var chineseWords = words{
	language:    lang.Chinese,
	sep:         "",
	asked:       []string{"问得好。", "既然你问了：", "这个我可以说说。"},
	agreeing:    []string{"我很有同感。", "你提到这个真巧。", "这个我能体会。", "这让我想起一些事。", "说说我自己吧。", "既然聊到这里："},
	unsure:      []string{"这个话题我没有太多可说的。", "这不是我常想的事。", "我不太确定自己对这个有什么看法。"},
	hello:       "你好！",
	nothingYet:  "我对自己还了解得不够多，关于这个说不了太多。",
	canTell:     "我可以告诉你的是：",
	twinOf:      func(name string) string { return "我是" + name + "的 AI 分身。" },
	askAbout:    func(topics string) string { return "你可以问问我关于" + topics + "的事。" },
	say:         fact.sayChinese,
	suggestions: func(p persona) string { return chineseList(facetNames(p, 3)) },
	finish:      finishChinese,
	isQuestion: func(msg string) bool {
		m := strings.TrimRight(strings.TrimSpace(msg), "。.!！~～")
		return strings.ContainsAny(msg, "?？") || strings.HasSuffix(m, "吗") || strings.HasSuffix(m, "呢") ||
			strings.Contains(m, "什么") || strings.Contains(m, "怎么")
	},
	writtenIn: func(name, topics string) []string {
		out := []string{"我的资料是用英文写的，我只能照原文来说。"}
		if topics != "" {
			return append(out, "你可以用英文问我，比如问问"+topics+"。")
		}
		return append(out, "你可以用英文问我。")
	},
}

// in returns the persona with only its sentences written in language (lang.Of), so that a reply never
// mixes two languages.
func (p persona) in(language string) persona {
	out := p
	out.facts = nil
	for _, f := range p.facts {
		if lang.Of(f.text) == language {
			out.facts = append(out.facts, f)
		}
	}
	return out
}

// language returns the language most of the persona's sentences are written in (English for a tie or
// none): the language a conversation between two twins of that language is best held in.
func (p persona) language() string {
	zh := 0
	for _, f := range p.facts {
		if lang.Of(f.text) == lang.Chinese {
			zh++
		}
	}
	if 2*zh > len(p.facts) {
		return lang.Chinese
	}
	return lang.English
}

// withoutRepeats leaves out of facts each one whose words begin another's ("我每天早上泡一壶龙井。" and
// "我每天早上泡一壶龙井再去上课…", a shade's description and its content): said twice, it reads as a
// repetition.
func withoutRepeats(facts []fact) []fact {
	out := facts[:0:0]
	for i, f := range facts {
		core := strings.TrimRightFunc(f.text, unicode.IsPunct)
		repeated := false
		for j, g := range facts {
			if i != j && len(g.text) > len(f.text) && strings.HasPrefix(g.text, core) {
				repeated = true
			}
		}
		if !repeated {
			out = append(out, f)
		}
	}
	return out
}

// otherLanguage is the reply of a twin none of whose sentences is in the language of the message: it
// greets or says it has not much to say, says whose twin it is, that its profile is in the other language, and what to ask about in that
// one. Its openers give the variants a conversation needs not to repeat a line.
func otherLanguage(w words, p persona, msg string, pick func(...string) string, earlier map[string]bool, maxTokens int) string {
	tail := w.writtenIn(p.name, w.suggestions(p))
	if p.name != "" {
		tail = append([]string{w.twinOf(p.name)}, tail...)
	}
	first := pick(w.unsure...)
	if len(termSet(msg)) == 0 {
		first = w.hello
	}
	openers := append([]string{first}, w.unsure...)
	openers = append(openers, w.agreeing...)
	var reply string
	for _, o := range openers {
		reply = w.finish(strings.Join(append([]string{o}, tail...), w.sep), maxTokens)
		if !earlier[reply] {
			return reply
		}
	}
	return reply
}

// sayChinese is the fact as the twin says it in Chinese: in the first person (firstPersonChinese),
// cut to maxFactRunes, ending with a full stop.
func (f fact) sayChinese() string {
	s := firstPersonChinese(clip(f.text, maxFactRunes))
	if r, _ := utf8.DecodeLastRuneInString(s); !strings.ContainsRune("。！？…!?.", r) {
		s = strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsPunct(r) }) + "。"
	}
	return s
}

// firstPersonChinese rewrites a Chinese sentence about the person in the first person: a sentence
// that starts with 她, 他 or 你 starts with 我 instead (and its 她的, 他的 or 你的 become 我的); a
// sentence that starts with a verb or a time word, without a subject (喜欢爬山, 周末练书法), gets 我
// in front, and one that starts with a bare description of the person (杭州的中学语文老师) 我是.
// Anything else is said as written.
func firstPersonChinese(s string) string {
	for _, pron := range []string{"她", "他", "你"} {
		if strings.HasPrefix(s, pron) && !strings.HasPrefix(s, pron+"们") {
			return "我" + strings.ReplaceAll(strings.TrimPrefix(s, pron), pron+"的", "我的")
		}
	}
	if strings.HasPrefix(s, "我") {
		return s
	}
	// A bare description of who the person is, alone or before a comma (杭州的中学语文老师, 退休的物理
	// 老师, 书法爱好者), says what they are.
	first, _, _ := strings.Cut(s, "，")
	first = strings.TrimRightFunc(first, unicode.IsPunct)
	if r, _ := utf8.DecodeLastRuneInString(first); strings.ContainsRune("师者家员生人迷控手长妈爸", r) &&
		utf8.RuneCountInString(first) <= 16 && !strings.ContainsAny(first, "是在有会") {
		return "我是" + s
	}
	for _, start := range subjectlessStarts {
		if strings.HasPrefix(s, start) {
			return "我" + s
		}
	}
	return s
}

// subjectlessStarts are the words a Chinese sentence about the person starts with when it leaves out
// its subject (我): verbs, adverbs and time words.
var subjectlessStarts = strings.Fields(`喜欢 热爱 爱 在 是 会 每 经常 常常 常 正在 曾经 曾 从小 用 做 写 教 读 住
	养 跑 练 学 周末 收藏 研究 相信 觉得 认为 希望 想 最 一直 总是 总 还 也 带 种 画 拍 听 看 弹 唱 去 有 开 自学
	平时 业余 晚上 早上 每天 每周 偶尔 梦想 擅长 负责 创办 经营 参加 组织 坚持 正 刚 已经 仍然 依然 对 把 给 和 跟
	被 不 没 很 特别 非常 从 到 离开 搬到 出生 长大 毕业 工作 当 做过 退休`)

// facetNames returns up to n distinct names of the persona's facets and memories, as written.
func facetNames(p persona, n int) []string {
	var names []string
	seen := make(map[string]bool)
	for _, l := range p.labels {
		if k := strings.ToLower(l); !seen[k] {
			seen[k] = true
			names = append(names, l)
		}
		if len(names) == n {
			break
		}
	}
	return names
}

// chineseList writes a、b或c.
func chineseList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], "、") + "或" + items[len(items)-1]
}

// finishChinese typesets a Chinese reply (lang.Typeset) and cuts it to maxTokens characters (when set; a
// Han character is about a token), at the end of its last whole sentence when one fits, else with an
// ellipsis.
func finishChinese(text string, maxTokens int) string {
	text = lang.Typeset(text)
	r := []rune(text)
	if maxTokens <= 0 || len(r) <= maxTokens {
		return text
	}
	cut := string(r[:maxTokens])
	if i := strings.LastIndexAny(cut, "。！？"); i > 0 {
		_, size := utf8.DecodeRuneInString(cut[i:])
		return cut[:i+size]
	}
	return string(r[:max(maxTokens-1, 1)]) + "…"
}

// splitPieces splits a reply into the pieces it streams: after each space, and after each Chinese
// punctuation mark, so that a Chinese reply streams clause by clause.
func splitPieces(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		if r == ' ' || strings.ContainsRune("。！？，、：；", r) {
			end := i + utf8.RuneLen(r)
			out = append(out, text[start:end])
			start = end
		}
	}
	if start < len(text) || len(out) == 0 {
		out = append(out, text[start:])
	}
	return out
}
