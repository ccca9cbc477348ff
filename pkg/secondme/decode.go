package secondme

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// errMalformed is the cause of every answer that is not one of the tolerated shapes.
var errMalformed = errors.New("secondme: malformed response")

// object is a JSON object whose values are read leniently by the helpers below.
type object map[string]json.RawMessage

// parseObject parses raw as a JSON object; ok is false for anything else (null included).
func parseObject(raw []byte) (object, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	var o object
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, false
	}
	return o, true
}

// str returns the first of keys that holds a string (or a number, written as a string), else "".
func (o object) str(keys ...string) string {
	for _, k := range keys {
		if s, ok := asString(o[k]); ok && s != "" {
			return s
		}
	}
	return ""
}

// num returns the first of keys that holds a number (or a numeric string).
func (o object) num(keys ...string) (float64, bool) {
	for _, k := range keys {
		raw := bytes.TrimSpace(o[k])
		if len(raw) == 0 {
			continue
		}
		var f float64
		if json.Unmarshal(raw, &f) == nil {
			return f, true
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
				return f, true
			}
		}
	}
	return 0, false
}

// boolean returns the first of keys that holds a boolean.
func (o object) boolean(keys ...string) bool {
	for _, k := range keys {
		var b bool
		if json.Unmarshal(o[k], &b) == nil {
			return b
		}
	}
	return false
}

// strings returns the strings of the first of keys that holds an array (other elements are skipped),
// or, tolerantly, the words of a space- or comma-separated string.
func (o object) strings(keys ...string) []string {
	for _, k := range keys {
		raw := bytes.TrimSpace(o[k])
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) == nil {
			out := make([]string, 0, len(arr))
			for _, e := range arr {
				if s, ok := asString(e); ok && s != "" {
					out = append(out, s)
				}
			}
			return out
		}
		if s, ok := asString(raw); ok {
			return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
		}
	}
	return nil
}

// asString reads a JSON string, or a JSON number as its decimal text.
func asString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// decodeEnvelope reads a SecondMe answer of any tolerated shape and returns its payload: `data` of a
// `{"code": 0, "data": ...}` envelope, or the whole body when there is no envelope. Error shapes
// (`{code != 0, message, subCode}`, `{code, message, error_code}`, `{detail}`, or any status >= 400)
// come back as *Error.
func decodeEnvelope(status int, body []byte) (json.RawMessage, error) {
	o, ok := parseObject(body)
	if !ok {
		if status >= 400 {
			st := errorStatus(status)
			return nil, &Error{Status: st, Message: http.StatusText(st)}
		}
		return nil, fmt.Errorf("%w: not a JSON object", errMalformed)
	}
	code, hasCode := o.num("code")
	subCode := o.str("subCode", "sub_code", "error_code", "errorCode")
	message := clip(o.str("message", "msg", "error_description"))
	if message == "" {
		message = clip(detailText(o["detail"]))
	}
	switch {
	case hasCode && code != 0:
		return nil, &Error{Status: statusOf(int(code), status), SubCode: subCode, Message: message}
	case !hasCode && len(o["detail"]) > 0:
		st := http.StatusUnauthorized
		if status >= 400 {
			st = errorStatus(status)
		}
		return nil, &Error{Status: st, SubCode: subCode, Message: message}
	case status >= 400:
		if subCode == "" {
			subCode = o.str("error") // an OAuth-style {"error": "invalid_grant"}
		}
		return nil, &Error{Status: errorStatus(status), SubCode: subCode, Message: message}
	}
	if data, ok := o["data"]; ok {
		return data, nil
	}
	return json.RawMessage(bytes.TrimSpace(body)), nil
}

// errorStatus keeps an HTTP error status within 400-599 (anything else is a bad gateway).
func errorStatus(status int) int {
	if status >= 400 && status <= 599 {
		return status
	}
	return http.StatusBadGateway
}

// statusOf picks the status of an error envelope: its code when that is an HTTP error status, else
// the HTTP status when that is one, else 502.
func statusOf(code, httpStatus int) int {
	switch {
	case code >= 400 && code <= 599:
		return code
	}
	return errorStatus(httpStatus)
}

// detailText renders a `detail` value: a string as it is, anything else as compact JSON.
func detailText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	if s, ok := asString(raw); ok {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return ""
	}
	return b.String()
}

// clip keeps an upstream message short and valid UTF-8.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if utf8.RuneCountInString(s) <= maxErrorMessageCharacter {
		return s
	}
	r := []rune(s)
	return string(r[:maxErrorMessageCharacter]) + "..."
}

// DecodeToken reads the answer of the token endpoints (code exchange and refresh): camelCase or
// snake_case fields, inside the envelope or bare. It refuses an answer without an access token.
func DecodeToken(status int, body []byte) (Token, error) {
	payload, err := decodeEnvelope(status, body)
	if err != nil {
		return Token{}, err
	}
	o, ok := parseObject(payload)
	if !ok {
		return Token{}, fmt.Errorf("%w: token answer is not an object", errMalformed)
	}
	t := Token{
		AccessToken:  o.str("accessToken", "access_token"),
		RefreshToken: o.str("refreshToken", "refresh_token"),
		TokenType:    o.str("tokenType", "token_type"),
		Scope:        o.strings("scope", "scopes"),
	}
	if secs, ok := o.num("expiresIn", "expires_in"); ok && secs > 0 && secs < math.MaxInt32 {
		t.ExpiresIn = time.Duration(secs) * time.Second
	}
	if t.AccessToken == "" {
		return Token{}, fmt.Errorf("%w: token answer without an access token", errMalformed)
	}
	if t.TokenType != "" && !strings.EqualFold(t.TokenType, "bearer") {
		return Token{}, fmt.Errorf("%w: token type %q is not Bearer", errMalformed, clip(t.TokenType))
	}
	return t, nil
}

// decodeMe reads GET /api/auth/me: appScopedUserId in data, tolerated at the top level, else userId.
func decodeMe(status int, body []byte) (Me, error) {
	payload, err := decodeEnvelope(status, body)
	if err != nil {
		return Me{}, err
	}
	var m Me
	if o, ok := parseObject(payload); ok {
		m.AppScopedUserID = o.str("appScopedUserId", "app_scoped_user_id")
		m.UserID = o.str("userId", "user_id", "id")
	}
	if top, ok := parseObject(body); ok {
		if m.AppScopedUserID == "" {
			m.AppScopedUserID = top.str("appScopedUserId", "app_scoped_user_id")
		}
		if m.UserID == "" {
			m.UserID = top.str("userId", "user_id")
		}
	}
	if m.Subject() == "" {
		return Me{}, fmt.Errorf("%w: /api/auth/me without appScopedUserId or userId", errMalformed)
	}
	return m, nil
}

// decodeUserInfo reads GET /api/secondme/user/info (userId, tolerating id and user_id).
func decodeUserInfo(status int, body []byte) (UserInfo, error) {
	payload, err := decodeEnvelope(status, body)
	if err != nil {
		return UserInfo{}, err
	}
	o, ok := parseObject(payload)
	if !ok {
		return UserInfo{}, fmt.Errorf("%w: user info is not an object", errMalformed)
	}
	u := UserInfo{
		UserID:           o.str("userId", "id", "user_id"),
		Name:             o.str("name", "nickname"),
		Email:            o.str("email"),
		Avatar:           o.str("avatar"),
		Bio:              o.str("bio"),
		SelfIntroduction: o.str("selfIntroduction", "self_introduction"),
		Route:            o.str("route"),
		Cover:            o.str("cover"),
		HasVoice:         o.boolean("hasVoice", "has_voice"),
		AccountStatus:    o.str("accountStatus", "account_status"),
	}
	if c, ok := o.num("profileCompleteness", "profile_completeness"); ok {
		u.ProfileCompleteness = c
	}
	return u, nil
}

// DecodeShades reads GET /api/secondme/user/shades: the list is data.shades (never the bare data).
func DecodeShades(status int, body []byte) ([]Shade, error) {
	payload, err := decodeEnvelope(status, body)
	if err != nil {
		return nil, err
	}
	o, ok := parseObject(payload)
	if !ok {
		return nil, fmt.Errorf("%w: shades answer is not an object with a shades list", errMalformed)
	}
	var items []json.RawMessage
	if raw := bytes.TrimSpace(o["shades"]); len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("%w: shades is not a list", errMalformed)
		}
	}
	out := make([]Shade, 0, len(items))
	for _, raw := range items {
		s, ok := parseObject(raw)
		if !ok {
			continue
		}
		out = append(out, Shade{
			ID:                         s.str("id"),
			Name:                       s.str("shadeName"),
			Icon:                       s.str("shadeIcon"),
			ConfidenceLevel:            s.str("confidenceLevel"),
			Description:                s.str("shadeDescription"),
			DescriptionThirdView:       s.str("shadeDescriptionThirdView"),
			Content:                    s.str("shadeContent"),
			ContentThirdView:           s.str("shadeContentThirdView"),
			SourceTopics:               s.strings("sourceTopics"),
			NamePublic:                 s.str("shadeNamePublic"),
			IconPublic:                 s.str("shadeIconPublic"),
			ConfidenceLevelPublic:      s.str("confidenceLevelPublic"),
			DescriptionPublic:          s.str("shadeDescriptionPublic"),
			DescriptionThirdViewPublic: s.str("shadeDescriptionThirdViewPublic"),
			ContentPublic:              s.str("shadeContentPublic"),
			ContentThirdViewPublic:     s.str("shadeContentThirdViewPublic"),
			SourceTopicsPublic:         s.strings("sourceTopicsPublic"),
			HasPublicContent:           s.boolean("hasPublicContent"),
		})
	}
	return out, nil
}

// decodeMemories reads a memory list (key memory search or the older soft memory): data.list[].
func decodeMemories(status int, body []byte) ([]Memory, error) {
	payload, err := decodeEnvelope(status, body)
	if err != nil {
		return nil, err
	}
	o, ok := parseObject(payload)
	if !ok {
		return nil, fmt.Errorf("%w: memory answer is not an object with a list", errMalformed)
	}
	var items []json.RawMessage
	if raw := bytes.TrimSpace(o["list"]); len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("%w: list is not a list", errMalformed)
		}
	}
	out := make([]Memory, 0, len(items))
	for _, raw := range items {
		m, ok := parseObject(raw)
		if !ok {
			continue
		}
		mem := Memory{
			ID:         m.str("id"),
			Actor:      m.str("factActor"),
			Object:     m.str("factObject"),
			Content:    m.str("factContent"),
			Visibility: m.str("visibility"),
		}
		if ms, ok := m.num("createTime"); ok {
			mem.CreatedAt = epochMillis(ms)
		}
		if ms, ok := m.num("updateTime"); ok {
			mem.UpdatedAt = epochMillis(ms)
		}
		if mem.Content == "" && mem.Object == "" {
			continue
		}
		out = append(out, mem)
	}
	return out, nil
}

// epochMillis converts epoch milliseconds to a UTC time; values out of a sane range give the zero time.
func epochMillis(ms float64) time.Time {
	if ms <= 0 || ms > 1e15 {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms)).UTC()
}
