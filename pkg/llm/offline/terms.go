package offline

import (
	"strings"

	"github.com/secondme/twin/pkg/terms"
)

// chatStopWords are words of conversation that say nothing about what a message is about, on top of
// the stop words of package terms.
var chatStopWords = map[string]bool{
	"don": true, "done": true, "hello": true, "hey": true, "hi": true, "know": true, "ok": true,
	"okay": true, "please": true, "say": true, "tell": true, "thank": true, "thanks": true,
	"think": true, "want": true, "yes": true,
	// Chinese: greetings and the character pairs of asking (what, how, tell me, you, me).
	"你好": true, "您好": true, "谢谢": true, "什么": true, "怎么": true, "告诉": true, "说说": true, "一下": true,
	"可以": true, "你是": true, "我是": true, "你的": true, "我的": true, "你喜": true, "你有": true, "你会": true,
	"你在": true, "你觉": true, "觉得": true, "喜欢": true, "欢吗": true, "你平": true, "平时": true, "聊聊": true, "介绍": true, "绍一": true,
	"吗": true, "呢": true,
}

// eachTerm calls f with each normalised term of text (terms.Each) and the word it came from, leaving
// out the words of conversation.
func eachTerm(text string, f func(term, word string)) {
	terms.Each(text, func(t, w string) {
		if !chatStopWords[strings.ToLower(w)] {
			f(t, w)
		}
	})
}

// termSet returns the set of normalised terms of text, without the words of conversation.
func termSet(text string) map[string]bool {
	set := make(map[string]bool)
	eachTerm(text, func(t, _ string) { set[t] = true })
	return set
}
