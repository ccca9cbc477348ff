package formula

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/secondme/twin/pkg/lang"
)

// reasonKind is the sentence a Reason says; its words fill the sentence in any language.
type reasonKind int

const (
	// sharedTopic: both use a topic. Words: the word, A's nickname, A's shade, B's nickname, B's shade.
	sharedTopic reasonKind = iota + 1
	// sharedFacet: both name a shade alike. Words as sharedTopic.
	sharedFacet
	// traitPair: traits that complete each other. Words: A's trait bit, B's trait bit, then A's
	// nickname and shade, B's nickname and shade.
	traitPair
	// noPublicShades: a person shares nothing yet. Words: the nickname.
	noPublicShades
	// notMentioned: one is into what the other never mentions. Words: the nickname, the word, the
	// shade, the other's nickname.
	notMentioned
)

// newReason returns the reason of a kind with its words, its Text in English.
func newReason(kind reasonKind, stems []string, shadeA, shadeB string, words ...string) Reason {
	r := Reason{Stems: stems, ShadeA: shadeA, ShadeB: shadeB, kind: kind, words: words}
	r.Text = r.In(lang.English)
	return r
}

// In returns the reason's sentence in a language (package lang): the English of Text, or Chinese. The
// words of the people (nicknames, shade names, the word both use) stay as they wrote them.
func (r Reason) In(language string) string {
	w := r.words
	if language == lang.Chinese {
		return chineseReason(r.kind, w)
	}
	switch r.kind {
	case sharedTopic:
		return fmt.Sprintf("Both into %s: %s's %s and %s's %s", w[0], w[1], quote(w[2]), w[3], quote(w[4]))
	case sharedFacet:
		return fmt.Sprintf("Both mention %s: %s's %s and %s's %s", w[0], w[1], quote(w[2]), w[3], quote(w[4]))
	case traitPair:
		return fmt.Sprintf("A %s and a %s: %s's %s and %s's %s", traitWord(bitOf(w[0])), traitWord(bitOf(w[1])),
			w[2], quote(w[3]), w[4], quote(w[5]))
	case noPublicShades:
		return fmt.Sprintf("%s shares no public shades yet", w[0])
	case notMentioned:
		return fmt.Sprintf("%s is into %s (%s), which %s has not mentioned", w[0], w[1], quote(w[2]), w[3])
	}
	return r.Text
}

// chineseReason writes a reason of a kind in Chinese, typeset (lang.Typeset) around the people's words.
func chineseReason(kind reasonKind, w []string) string {
	var s string
	switch kind {
	case sharedTopic:
		s = fmt.Sprintf("两人都对“%s”感兴趣：%s的“%s”和%s的“%s”", w[0], w[1], w[2], w[3], w[4])
	case sharedFacet:
		s = fmt.Sprintf("两人都提到了“%s”：%s的“%s”和%s的“%s”", w[0], w[1], w[2], w[3], w[4])
	case traitPair:
		s = fmt.Sprintf("一位%s，一位%s：%s的“%s”和%s的“%s”", chineseTraits[bitOf(w[0])], chineseTraits[bitOf(w[1])],
			w[2], w[3], w[4], w[5])
	case noPublicShades:
		s = fmt.Sprintf("%s还没有公开任何侧面", w[0])
	case notMentioned:
		s = fmt.Sprintf("%s喜欢“%s”（“%s”），%s还没有提到过", w[0], w[1], w[2], w[3])
		if strings.EqualFold(w[1], w[2]) { // the shade is named by the word itself
			s = fmt.Sprintf("%s喜欢“%s”，%s还没有提到过", w[0], w[1], w[3])
		}
	default:
		return ""
	}
	return lang.Typeset(s)
}

// bitOf reads a trait bit written by strconv.Itoa.
func bitOf(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// chineseTraits names each trait bit of complements in Chinese, as traitWord does in English.
var chineseTraits = [2 * 12]string{
	"倾听者", "讲故事的人",
	"计划者", "随性的人",
	"内向的人", "外向的人",
	"引路人", "好学的人",
	"下厨的人", "美食家",
	"带头人", "支持者",
	"艺术家", "工程师",
	"写作者", "读者",
	"音乐人", "听众",
	"沉稳的人", "活力充沛的人",
	"梦想家", "务实的人",
	"恋家的人", "旅行者",
}
