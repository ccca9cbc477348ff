package lang

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestFromAcceptLanguage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ header, want string }{
		{"", ""},
		{"zh-CN", Chinese},
		{"zh", Chinese},
		{"zh-TW,zh;q=0.9", Chinese},
		{"ZH-hans-cn", Chinese},
		{"en-US,en;q=0.9", English},
		{"zh-CN,zh;q=0.9,en;q=0.8", Chinese},
		{"en;q=0.8, zh-CN;q=0.9", Chinese},
		{"en;q=0.5, zh-CN;q=0.5", English}, // a tie goes to the earlier range
		{"fr-FR, de;q=0.9", ""},
		{"fr-FR, zh;q=0.3", Chinese},
		{"*", Default},
		{"fr, *;q=0.1", Default},
		{"zh;q=0, en;q=0.1", English},
		{"zh;q=0", ""},
		{"zh;q=1.5, en;q=0.2", English}, // out of range: skipped
		{"zh;q=abc, en;q=0.2", English},
		{"zh;q=, en", English},
		{"zh;q=1e0, en;q=0.2", English},
		{"zh;q=0x1, en;q=0.2", English},
		{"zh;q=NaN, en;q=0.2", English},
		{"zh;level=1;q=0.9, en;q=0.8", Chinese},
		{" , ;;, zh-CN ;q=0.7 ,", Chinese},
		{"en-GB;q=0.900", English},
		{"\x00zh\xff", ""},
	} {
		if got := FromAcceptLanguage(tc.header); got != tc.want {
			t.Errorf("FromAcceptLanguage(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func FuzzFromAcceptLanguage(f *testing.F) {
	for _, s := range []string{"zh-CN,zh;q=0.9,en;q=0.8", "*;q=0.1", "en;q=", ";q=1;q=0", ",,,,", "zh;q=0.0000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got := FromAcceptLanguage(header)
		if got != "" && !Valid(got) {
			t.Fatalf("FromAcceptLanguage(%q) = %q, not a language we speak", header, got)
		}
	})
}

func TestOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"", English},
		{"Hello, how are you?", English},
		{"你好，你平时喜欢做什么？", Chinese},
		{"我喜欢 jazz 和 piano", Chinese},
		{"Do you like 中国菜?", English},
		{"？！", English},
		{"你好", Chinese},
	} {
		if got := Of(tc.text); got != tc.want {
			t.Errorf("Of(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string]bool{"zh-CN": true, "en": true, "zh": false, "zh-cn": false, "EN": false, "": false, "fr": false} {
		if Valid(tag) != want {
			t.Errorf("Valid(%q) = %v, want %v", tag, !want, want)
		}
	}
}

func TestFromRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, cookie, accept, want string
	}{
		{"nothing", "", "", Default},
		{"header", "", "zh-CN,zh;q=0.9", Chinese},
		{"cookie over header", "en", "zh-CN", English},
		{"cookie chinese", "zh-CN", "en-US", Chinese},
		{"cookie not a language", "klingon", "zh", Chinese},
		{"header we do not speak", "", "fr-FR", Default},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: Cookie, Value: tc.cookie})
			}
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			if got := FromRequest(r); got != tc.want {
				t.Errorf("FromRequest = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTypeset(t *testing.T) {
	t.Parallel()
	if got := Typeset("我是Maya Okafor的 AI 分身 。问问 Jazz或Sunday  cook ！"); got != "我是 Maya Okafor 的 AI 分身。问问 Jazz 或 Sunday cook！" {
		t.Errorf("Typeset = %q", got)
	}
}
