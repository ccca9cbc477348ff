// Package api is the HTTP layer shared by every function: JSON decoding and validation, the one error
// table, routing with JSON 404 and 405 answers, and the middleware (request ids, access logs, panic
// recovery, same-origin checks, sign-in).
package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/lang"
	"github.com/secondme/twin/pkg/store"
)

// errorTable is the one table of error codes: the HTTP status of each, and the words a person reading
// Chinese sees for it in place of the error's English message (see Message).
var errorTable = map[string]struct {
	status int
	zh     string
}{
	fault.CodeInvalidArgument:      {http.StatusBadRequest, "请求有误"},
	fault.CodeUnauthenticated:      {http.StatusUnauthorized, "请先登录"},
	fault.CodePermissionDenied:     {http.StatusForbidden, "你没有权限这样做"},
	fault.CodeNotFound:             {http.StatusNotFound, "找不到你要的内容"},
	fault.CodeMethodNotAllowed:     {http.StatusMethodNotAllowed, "这个地址不支持这种请求方法"},
	fault.CodeConflict:             {http.StatusConflict, "内容在此期间已经改变，请重试"},
	fault.CodePayloadTooLarge:      {http.StatusRequestEntityTooLarge, "请求内容太大"},
	fault.CodeUnsupportedMediaType: {http.StatusUnsupportedMediaType, "请求内容须为 JSON 格式"},
	fault.CodeRateLimited:          {http.StatusTooManyRequests, "已达到使用上限，请稍后再试"},
	fault.CodeUpstreamUnavailable:  {http.StatusBadGateway, "所依赖的服务暂时无法使用，请稍后再试"},
	fault.CodeInternal:             {http.StatusInternalServerError, "服务器内部错误"},
}

// Status returns the HTTP status of e: the table's status for its code, 503 for a temporary
// upstream_unavailable, 500 for a code the table does not know.
func Status(e *fault.Error) int {
	if e.Temporary && e.Code == fault.CodeUpstreamUnavailable {
		return http.StatusServiceUnavailable
	}
	if row, ok := errorTable[e.Code]; ok {
		return row.status
	}
	return http.StatusInternalServerError
}

// Message returns the message of e in a language (package lang): its own for English; for Chinese the
// table's words for its code, followed for invalid_argument by each field at fault with why in Chinese
// (whyChinese). The code and the fields, which programs read, stay as they are.
func Message(e *fault.Error, language string) string {
	if language != lang.Chinese {
		return e.Message
	}
	row, ok := errorTable[e.Code]
	if !ok {
		row = errorTable[fault.CodeInternal]
	}
	if len(e.Fields) == 0 {
		return row.zh + "。"
	}
	names := slices.Sorted(maps.Keys(e.Fields))
	parts := make([]string, len(names))
	for i, f := range names {
		parts[i] = f + "（" + whyChinese(e.Fields[f]) + "）"
	}
	return row.zh + "：" + strings.Join(parts, "；") + "。"
}

// whyChinese says in Chinese why a field is wrong, from the English reason the validation gave: the
// reasons of this code base that a person can act on, else a general one.
func whyChinese(why string) string {
	var n int
	var unit string
	switch {
	case strings.HasPrefix(why, "required"):
		return "必填"
	case scan(why, "at most %d %s", &n, &unit):
		return fmt.Sprintf("最多 %d %s", n, unitChinese(unit))
	case scan(why, "at least %d %s", &n, &unit):
		return fmt.Sprintf("至少 %d %s", n, unitChinese(unit))
	case strings.HasPrefix(why, "longer than "):
		return "太长了"
	case why == "must be zh-CN or en":
		return "只能是 zh-CN 或 en"
	case why == "unknown field":
		return "未知字段"
	case strings.HasPrefix(why, "must be a whole number from"):
		return "须为范围内的整数"
	case slices.Contains([]string{"a string", "a boolean", "an array", "an object", "a number", "of another type"},
		strings.TrimPrefix(why, "must be ")):
		return "类型不对"
	case strings.HasPrefix(why, "must be an https URL"):
		return "须为 https 网址"
	case strings.HasPrefix(why, "must be one of"):
		return "不是允许的取值"
	case strings.HasPrefix(why, "repeated"):
		return "重复了"
	case strings.HasPrefix(why, "contains control characters"):
		return "含有控制字符"
	case strings.HasPrefix(why, "contains bidirectional"):
		return "含有文字方向控制字符"
	case strings.HasPrefix(why, "must contain a visible character"):
		return "须含有可见字符"
	case strings.Contains(why, "UTF-8"):
		return "不是有效的 UTF-8 文本"
	case strings.Contains(why, "JSON"):
		return "JSON 格式有误"
	case strings.HasPrefix(why, "not an id") || strings.HasPrefix(why, "not a user id"):
		return "不是有效的编号"
	case strings.HasPrefix(why, "must not be empty"):
		return "不能为空"
	case strings.HasPrefix(why, "not a cursor"):
		return "不是这个列表的分页标记"
	}
	return "取值无效"
}

// scan reads s with a fmt.Sscanf format and reports whether every verb was read.
func scan(s, format string, args ...any) bool {
	n, err := fmt.Sscanf(s, format, args...)
	return err == nil && n == len(args)
}

// unitChinese names the unit of a length limit in Chinese.
func unitChinese(unit string) string {
	switch unit {
	case "characters", "character":
		return "个字符"
	case "bytes", "byte":
		return "字节"
	case "shades", "shade":
		return "个侧面"
	case "topics", "topic":
		return "个话题"
	}
	return unit
}

// StatusClientClosed is the status logged for a request whose client went away before the answer
// (nginx's 499). The client never sees it.
const StatusClientClosed = 499

// FromError converts any error into the *fault.Error a client sees. Store sentinels map to their codes;
// anything else becomes internal, and its cause is for the log only. (A request whose client went
// away is WriteError's to tell: a cancel, answered 499 and never logged as a fault.)
func FromError(err error) *fault.Error {
	var e *fault.Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrNotFound):
		return fault.NotFound("record")
	case errors.Is(err, store.ErrBadCursor):
		return fault.Invalid("cursor", "not a cursor of this listing")
	case errors.Is(err, store.ErrConflict):
		return fault.New(fault.CodeConflict, "the record changed; try again")
	case errors.Is(err, store.ErrQuotaExceeded):
		return &fault.Error{Code: fault.CodeRateLimited, Message: "daily quota reached", RetryAfter: time.Hour}
	case errors.Is(err, context.DeadlineExceeded):
		return fault.Unavailable("timed out")
	}
	return fault.New(fault.CodeInternal, "internal error")
}

// clientGone reports whether the client of r went away: its context was canceled (net/http cancels
// it when the connection closes).
func clientGone(r *http.Request) bool {
	return errors.Is(r.Context().Err(), context.Canceled)
}

// retryAfterHeader formats a wait for the Retry-After header: whole seconds, rounded up.
func retryAfterHeader(d time.Duration) string { return strconv.Itoa(int(math.Ceil(d.Seconds()))) }
