package secondme

import (
	"errors"
	"testing"
)

// checkDecodeError fails unless err is nil, an *Error, or a malformed-response error.
func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if err != nil && !errors.As(err, &e) && !errors.Is(err, errMalformed) {
		t.Fatalf("unexpected error kind: %v", err)
	}
	if e != nil && (e.Status < 400 || e.Status > 599) {
		t.Fatalf("error status %d outside 400-599", e.Status)
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add(200, []byte(`{"code":0,"data":{"a":1}}`))
	f.Add(401, []byte(`{"code":401,"message":"x","subCode":"oauth2.token.expired"}`))
	f.Add(400, []byte(`{"code":400,"message":"x","error_code":"oauth2.code.used"}`))
	f.Add(401, []byte(`{"detail":"Invalid token"}`))
	f.Add(200, []byte(`{"accessToken":"x"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		_, err := decodeEnvelope(status, body)
		checkDecodeError(t, err)
	})
}

func FuzzDecodeToken(f *testing.F) {
	f.Add(200, []byte(`{"code":0,"data":{"accessToken":"lba_at_1","refreshToken":"lba_rt_1","tokenType":"Bearer","expiresIn":7200,"scope":["userinfo"]}}`))
	f.Add(200, []byte(`{"access_token":"a","refresh_token":"r","token_type":"bearer","expires_in":"60","scope":"a b"}`))
	f.Add(400, []byte(`{"code":400,"message":"used","subCode":"oauth2.code.used"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		tok, err := DecodeToken(status, body)
		checkDecodeError(t, err)
		if err == nil && (tok.AccessToken == "" || tok.ExpiresIn < 0) {
			t.Fatalf("accepted token without access token or with negative expiry: %+v", tok)
		}
	})
}

func FuzzDecodeShades(f *testing.F) {
	f.Add(200, []byte(`{"code":0,"data":{"shades":[{"id":1,"shadeName":"a","sourceTopics":["x"],"hasPublicContent":true}]}}`))
	f.Add(200, []byte(`{"code":0,"data":[]}`))
	f.Add(500, []byte(`{"code":500,"message":"x","subCode":"internal.error"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		_, err := DecodeShades(status, body)
		checkDecodeError(t, err)
	})
}
