package secondme

import (
	"errors"
	"testing"
	"time"
)

func TestDecodeEnvelope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		payload string
		err     *Error
	}{
		{"success envelope", 200, `{"code":0,"message":"success","data":{"a":1}}`, `{"a":1}`, nil},
		{"success code as string", 200, `{"code":"0","data":{"a":1}}`, `{"a":1}`, nil},
		{"bare body", 200, `{"accessToken":"x"}`, `{"accessToken":"x"}`, nil},
		{"subCode error", 401, `{"code":401,"message":"expired","subCode":"oauth2.token.expired"}`, "",
			&Error{Status: 401, SubCode: "oauth2.token.expired", Message: "expired"}},
		{"error_code error", 400, `{"code":400,"message":"bad","error_code":"oauth2.code.used"}`, "",
			&Error{Status: 400, SubCode: "oauth2.code.used", Message: "bad"}},
		{"error envelope with HTTP 200", 200, `{"code":403,"message":"scope","subCode":"oauth2.scope.insufficient"}`, "",
			&Error{Status: 403, SubCode: "oauth2.scope.insufficient", Message: "scope"}},
		{"code that is not a status", 200, `{"code":1001,"message":"odd"}`, "", &Error{Status: 502, Message: "odd"}},
		{"detail only", 401, `{"detail":"Invalid token"}`, "", &Error{Status: 401, Message: "Invalid token"}},
		{"detail with HTTP 200", 200, `{"detail":"Invalid token"}`, "", &Error{Status: 401, Message: "Invalid token"}},
		{"detail list", 422, `{"detail":[{"loc":["body"],"msg":"x"}]}`, "", &Error{Status: 422, Message: `[{"loc":["body"],"msg":"x"}]`}},
		{"oauth style", 400, `{"error":"invalid_grant","error_description":"nope"}`, "", &Error{Status: 400, SubCode: "invalid_grant", Message: "nope"}},
		{"html error page", 502, `<html>bad gateway</html>`, "", &Error{Status: 502, Message: "Bad Gateway"}},
		{"empty error", 503, ``, "", &Error{Status: 503, Message: "Service Unavailable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeEnvelope(tc.status, []byte(tc.body))
			if tc.err == nil {
				if err != nil || string(got) != tc.payload {
					t.Errorf("got %s, %v; want %s", got, err, tc.payload)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || *e != *tc.err {
				t.Errorf("err = %#v, want %#v", err, tc.err)
			}
		})
	}
	if _, err := decodeEnvelope(200, []byte(`[1]`)); !errors.Is(err, errMalformed) {
		t.Errorf("array body: %v, want malformed", err)
	}
}

func TestDecodeToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		want Token
		bad  bool
	}{
		{"camel", `{"code":0,"data":{"accessToken":"lba_at_1","refreshToken":"lba_rt_1","tokenType":"Bearer","expiresIn":7200,"scope":["userinfo","chat.write"]}}`,
			Token{AccessToken: "lba_at_1", RefreshToken: "lba_rt_1", TokenType: "Bearer", ExpiresIn: 2 * time.Hour, Scope: []string{"userinfo", "chat.write"}}, false},
		{"snake bare, string expiry, space scope", `{"access_token":"lba_at_1","refresh_token":"lba_rt_1","token_type":"bearer","expires_in":"60","scope":"userinfo chat.write"}`,
			Token{AccessToken: "lba_at_1", RefreshToken: "lba_rt_1", TokenType: "bearer", ExpiresIn: time.Minute, Scope: []string{"userinfo", "chat.write"}}, false},
		{"no refresh token", `{"code":0,"data":{"accessToken":"lba_at_2"}}`, Token{AccessToken: "lba_at_2"}, false},
		{"no access token", `{"code":0,"data":{"refreshToken":"lba_rt_1"}}`, Token{}, true},
		{"data not an object", `{"code":0,"data":"lba_at_1"}`, Token{}, true},
		{"not bearer", `{"accessToken":"x","tokenType":"mac"}`, Token{}, true},
		{"negative expiry ignored", `{"accessToken":"x","expiresIn":-5}`, Token{AccessToken: "x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeToken(200, []byte(tc.body))
			if tc.bad {
				if err == nil {
					t.Errorf("DecodeToken = %v, want an error", got)
				}
				return
			}
			if err != nil || got.AccessToken != tc.want.AccessToken || got.RefreshToken != tc.want.RefreshToken ||
				got.TokenType != tc.want.TokenType || got.ExpiresIn != tc.want.ExpiresIn || len(got.Scope) != len(tc.want.Scope) {
				t.Errorf("DecodeToken = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestDecodeShadesNeverBareData(t *testing.T) {
	t.Parallel()
	if _, err := DecodeShades(200, []byte(`{"code":0,"data":[{"shadeName":"x"}]}`)); err == nil {
		t.Error("bare data list accepted; the list is data.shades")
	}
	got, err := DecodeShades(200, []byte(`{"code":0,"data":{"shades":[{"id":"7","shadeName":"x","sourceTopics":["a",1,null]}, 5]}}`))
	if err != nil || len(got) != 1 || got[0].ID != "7" || len(got[0].SourceTopics) != 2 {
		t.Errorf("DecodeShades = %+v, %v", got, err)
	}
}

func TestDecodeMe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, want string }{
		{"data", `{"code":0,"data":{"appScopedUserId":"asu_1","userId":"9"}}`, "asu_1"},
		{"top level", `{"code":0,"data":{"userId":"9"},"appScopedUserId":"asu_2"}`, "asu_2"},
		{"userId only", `{"code":0,"data":{"userId":9}}`, "9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := decodeMe(200, []byte(tc.body))
			if err != nil || m.Subject() != tc.want {
				t.Errorf("decodeMe = %+v, %v; want %s", m, err, tc.want)
			}
		})
	}
	if _, err := decodeMe(200, []byte(`{"code":0,"data":{}}`)); err == nil {
		t.Error("no id accepted")
	}
}
