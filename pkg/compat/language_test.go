package compat_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/secondme/twin/pkg/compat"
	"github.com/secondme/twin/pkg/compat/formula"
	"github.com/secondme/twin/pkg/lang"
	"github.com/secondme/twin/pkg/store"
)

// langUser is an English profile for the language tests.
func langUser(id, nickname string, shades ...[3]string) store.User {
	u := store.User{ID: id, Nickname: nickname, ProfileVersion: 2}
	for _, s := range shades {
		u.Shades = append(u.Shades, store.Shade{Name: s[0], Confidence: store.ConfidenceHigh,
			Public: &store.PublicShade{Name: s[0], Description: s[1], Topics: strings.Split(s[2], ",")}})
	}
	return u
}

var (
	langMaya = langUser("01A", "Maya Okafor",
		[3]string{"Jazz pianist", "Plays jazz piano and teaches improvisation.", "jazz,piano,teaching"},
		[3]string{"Home cook", "Cooks West African food for friends.", "cooking,hosting"},
		[3]string{"Reader", "Reads poetry late at night.", "poetry,reading"})
	langNoah = langUser("01B", "Noah Williams",
		[3]string{"Jazz fan", "Goes to jazz gigs every week.", "jazz,concerts"},
		[3]string{"Allotment", "Grows vegetables and cooks them.", "gardening,cooking"},
		[3]string{"Chess", "Plays chess in the park.", "chess,games"})
)

func hasHan(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Han, r) })
}

// TestReadInChinese reads a stored match of two English profiles as a Chinese reader and as an English
// one: the Chinese reader gets every deterministic reason in Chinese and the judge's Chinese items
// only, the English reader the stored words.
func TestReadInChinese(t *testing.T) {
	t.Parallel()
	m := compat.New(nil, compat.Config{}).Deterministic(langMaya, langNoah)
	if len(m.Highlights) == 0 || len(m.Challenges) == 0 {
		t.Fatalf("the pair has highlights %q and challenges %q; the test needs both", m.Highlights, m.Challenges)
	}
	en := compat.Read(m, langNoah, langMaya, lang.English)
	if en.Reasoning != m.Reasoning || !slices.Equal(en.Highlights, m.Highlights) || !slices.Equal(en.Challenges, m.Challenges) {
		t.Errorf("English reading %+v differs from the stored match %+v", en, m)
	}
	zh := compat.Read(m, langNoah, langMaya, lang.Chinese)
	if len(zh.Highlights) != len(m.Highlights) || len(zh.Challenges) != len(m.Challenges) {
		t.Fatalf("Chinese reading has %d highlights and %d challenges, stored %d and %d",
			len(zh.Highlights), len(zh.Challenges), len(m.Highlights), len(m.Challenges))
	}
	for _, s := range append(slices.Clone(zh.Highlights), zh.Challenges...) {
		if !hasHan(s) || strings.Contains(s, "Both ") || strings.Contains(s, "'s ") || strings.Contains(s, "has not mentioned") {
			t.Errorf("%q is not a Chinese sentence", s)
		}
	}
	if !slices.ContainsFunc(zh.Highlights, func(s string) bool {
		return strings.Contains(s, "“jazz”") && strings.Contains(s, "Maya Okafor 的“Jazz pianist”")
	}) {
		t.Errorf("highlights %q: want the shared jazz, with Maya's shade as she wrote it", zh.Highlights)
	}
	if !strings.HasPrefix(zh.Reasoning, "个人资料得分 ") {
		t.Errorf("reasoning %q, want the profile score in Chinese", zh.Reasoning)
	}

	// A match the judge took part in: its English items are left out, its Chinese ones kept.
	judged := m
	judged.Parts = []string{compat.PartDeterministic, compat.PartModel}
	judged.Algorithm = formula.Version + "+" + compat.JudgeVersion
	judged.Score = m.Score + 5
	judged.Highlights = append(slices.Clone(m.Highlights[:1]), "They would trade recipes for hours.", "两人都喜欢在周末招待朋友。")
	judged.Reasoning = "Score 0/100: the English score sentence. 两人在对话里聊得很投机。"
	zh = compat.Read(judged, langMaya, langNoah, lang.Chinese)
	if slices.Contains(zh.Highlights, "They would trade recipes for hours.") || !slices.Contains(zh.Highlights, "两人都喜欢在周末招待朋友。") {
		t.Errorf("highlights %q: want the judge's Chinese item and not its English one", zh.Highlights)
	}
	if !strings.HasPrefix(zh.Reasoning, "匹配度 ") || !strings.Contains(zh.Reasoning, "分身对话 +5") || !strings.HasSuffix(zh.Reasoning, "两人在对话里聊得很投机。") {
		t.Errorf("reasoning %q, want the score and its parts in Chinese, then the judge's Chinese words", zh.Reasoning)
	}

	// Profiles changed since: the reasons follow them, the score sentence has no parts to give.
	edited := langNoah
	edited.ProfileVersion++
	if got := compat.Read(judged, langMaya, edited, lang.Chinese).Reasoning; got != "匹配度 "+strconv.Itoa(judged.Score)+"/100。两人在对话里聊得很投机。" {
		t.Errorf("reasoning after an edit = %q", got)
	}
}
