package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/secondme/twin/pkg/fault"
)

// MaxBody is the largest request body accepted, 64 KiB.
const MaxBody = 64 << 10

// Decode reads a JSON request body into v. It refuses a body over MaxBody (413), a content type other
// than application/json (415), invalid UTF-8, malformed JSON, unknown fields, wrong types and trailing
// data (400 naming the field where one is at fault).
func Decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return fault.Errorf(fault.CodeUnsupportedMediaType, "Content-Type must be application/json")
		}
	} else {
		return fault.Errorf(fault.CodeUnsupportedMediaType, "Content-Type must be application/json")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return fault.Errorf(fault.CodeInvalidArgument, "could not read the body")
	}
	if len(body) > MaxBody {
		return fault.Errorf(fault.CodePayloadTooLarge, "body is larger than %d bytes", MaxBody)
	}
	return DecodeBytes(body, v)
}

// DecodeBytes decodes a JSON document into v with the checks of Decode, apart from size and type.
func DecodeBytes(body []byte, v any) error {
	if !utf8.Valid(body) {
		return fault.Invalid("body", "not valid UTF-8")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fault.Invalid("body", "empty; a JSON object is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fault.Invalid("body", "unexpected data after the JSON value")
	}
	return nil
}

// jsonError turns a decoding error into a 400 that names the field where it can.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return fault.Invalid(field, "must be "+jsonKind(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr):
		return fault.Invalid("body", fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fault.Invalid("body", "truncated JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fault.Invalid(field, "unknown field")
	}
	return fault.Invalid("body", "malformed JSON")
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	}
	return "of another type"
}

// WriteJSON writes v as JSON with a status, never cached and never sniffed as another type.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Debug("write response", "err", err)
	}
}

// WriteError writes err as the JSON error of docs/api.md, its message in the request's Language. Internal
// causes go to the log, not the client.
// When the client went away (the request's context is canceled), a failure is a cancel, not a fault:
// it is logged at INFO and answered 499, which nobody reads.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := FromError(err)
	status := Status(e)
	if status >= 500 && clientGone(r) {
		Logger(r.Context()).InfoContext(r.Context(), "request canceled by the client", "method", r.Method, "path", r.URL.Path,
			"err", err)
		e, status = fault.New(fault.CodeInternal, "request canceled"), StatusClientClosed
	} else if status >= 500 {
		Logger(r.Context()).ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path,
			"status", status, "err", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", retryAfterHeader(e.RetryAfter))
	}
	WriteJSON(w, status, map[string]errorJSON{"error": {Code: e.Code, Message: Message(e, Language(r)), Fields: e.Fields}})
}

// errorJSON is the body of an error answer.
type errorJSON struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}
