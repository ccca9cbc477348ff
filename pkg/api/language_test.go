package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/lang"
)

// TestErrorLanguage checks that an error's message follows the request's language (the person's,
// set by the handler, then the language cookie, then Accept-Language) while its code and fields stay.
func TestErrorLanguage(t *testing.T) {
	t.Parallel()
	const en = "nickname: at most 64 characters"
	const zh = "请求有误：nickname（最多 64 个字符）。"
	for _, tc := range []struct {
		name, person, cookie, accept, want string
	}{
		{name: "no language", want: en},
		{name: "accept chinese", accept: "zh-CN,zh;q=0.9,en;q=0.8", want: zh},
		{name: "accept taiwanese chinese", accept: "zh-TW", want: zh},
		{name: "accept english first", accept: "en, zh-CN;q=0.5", want: en},
		{name: "accept by quality", accept: "en;q=0.4, zh;q=0.6", want: zh},
		{name: "accept only other languages", accept: "fr, de", want: en},
		{name: "cookie over accept", cookie: "zh-CN", accept: "en", want: zh},
		{name: "person over accept", person: "en", accept: "zh-CN", want: en},
		{name: "person over cookie", person: "zh-CN", cookie: "en", accept: "en", want: zh},
		{name: "person without a language", person: "", accept: "zh-CN", want: zh},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := NewRouter()
			rt.HandleFunc("GET /x", func(w http.ResponseWriter, r *http.Request) error {
				SetLanguage(r.Context(), tc.person)
				return fault.Invalid("nickname", "at most 64 characters")
			})
			r := httptest.NewRequest("GET", "/x", nil)
			if tc.accept != "" {
				r.Header.Set("Accept-Language", tc.accept)
			}
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: lang.Cookie, Value: tc.cookie})
			}
			w := httptest.NewRecorder()
			Middleware{}.Wrap(rt).ServeHTTP(w, r)
			var body struct {
				Error struct {
					Code, Message string
					Fields        map[string]string
				}
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, body %s (%v)", w.Code, w.Body, err)
			}
			if body.Error.Message != tc.want {
				t.Errorf("message = %q, want %q", body.Error.Message, tc.want)
			}
			if body.Error.Code != fault.CodeInvalidArgument || body.Error.Fields["nickname"] != "at most 64 characters" {
				t.Errorf("code %q fields %v changed with the language", body.Error.Code, body.Error.Fields)
			}
		})
	}
}

// TestChineseMessages checks that every code of the error table has Chinese words, and that the
// reasons the validations give read as Chinese.
func TestChineseMessages(t *testing.T) {
	t.Parallel()
	codes := []string{fault.CodeInvalidArgument, fault.CodeUnauthenticated, fault.CodePermissionDenied, fault.CodeNotFound,
		fault.CodeMethodNotAllowed, fault.CodeConflict, fault.CodePayloadTooLarge, fault.CodeUnsupportedMediaType,
		fault.CodeRateLimited, fault.CodeUpstreamUnavailable, fault.CodeInternal}
	if len(codes) != len(errorTable) {
		t.Fatalf("the table has %d codes, the test %d", len(errorTable), len(codes))
	}
	for _, c := range codes {
		msg := Message(fault.New(c, "in English"), lang.Chinese)
		if lang.Of(msg) != lang.Chinese || strings.Contains(msg, "English") {
			t.Errorf("%s: %q is not Chinese", c, msg)
		}
		if got := Message(fault.New(c, "in English"), lang.English); got != "in English" {
			t.Errorf("%s in English = %q, want the error's own message", c, got)
		}
	}
	if got := Message(fault.New("no_such_code", "x"), lang.Chinese); got != "服务器内部错误。" {
		t.Errorf("unknown code in Chinese = %q", got)
	}
	for why, want := range map[string]string{
		"required":                             "必填",
		"required: secondme or oidc":           "必填",
		"at most 40 characters":                "最多 40 个字符",
		"at most 256 bytes":                    "最多 256 字节",
		"at most 50 shades":                    "最多 50 个侧面",
		"at least 2 characters":                "至少 2 个字符",
		"must be zh-CN or en":                  "只能是 zh-CN 或 en",
		"unknown field":                        "未知字段",
		"must be a string":                     "类型不对",
		"not valid UTF-8":                      "不是有效的 UTF-8 文本",
		"malformed JSON at byte 3":             "JSON 格式有误",
		"not an id in our format":              "不是有效的编号",
		"must be a whole number from 1 to 100": "须为范围内的整数",
		"must be an https URL or empty":        "须为 https 网址",
		"something nobody translated":          "取值无效",
	} {
		if got := whyChinese(why); got != want {
			t.Errorf("whyChinese(%q) = %q, want %q", why, got, want)
		}
	}
	f := fault.Fields{}
	f.Add("nickname", "required")
	f.Add("avatar", "must be an https URL")
	var e *fault.Error
	if err := f.Err(); err != nil {
		e = err.(*fault.Error)
	}
	if got, want := Message(e, lang.Chinese), "请求有误：avatar（须为 https 网址）；nickname（必填）。"; got != want {
		t.Errorf("two fields in Chinese = %q, want %q", got, want)
	}
}
