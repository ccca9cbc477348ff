package awstest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxRequest bounds a request body; SQS's largest request (a batch of 256 KiB with its JSON framing)
// stays well below it.
const maxRequest = 2 << 20

// apiError is an error answer of an AWS JSON-protocol service.
type apiError struct {
	status int
	// typ is the JSON protocol's __type, such as com.amazonaws.sqs#QueueDoesNotExist.
	typ string
	// query is the code of the older query protocol (x-amzn-query-error), "" if the service has none;
	// the SDK reports it as the error code.
	query   string
	message string
}

func (e *apiError) Error() string { return e.typ + ": " + e.message }

// call is one decoded JSON-protocol request.
type call struct {
	// op is the operation, the part of X-Amz-Target after the dot.
	op string
	// accessKey is the access key id of the request's SigV4 credential scope.
	accessKey string
	body      []byte
}

// readCall checks a request's framing as an AWS JSON-protocol endpoint does: POST /, the content type
// of the protocol version, an X-Amz-Target of the service, and a SigV4 Authorization header (whose
// signature is not verified).
func readCall(w http.ResponseWriter, r *http.Request, service, contentType string) (call, *apiError) {
	serialization := func(msg string) *apiError {
		return &apiError{status: http.StatusBadRequest, typ: "com.amazon.coral.service#SerializationException", message: msg}
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return call{}, &apiError{status: http.StatusNotFound, typ: "com.amazon.coral.service#UnknownOperationException",
			message: "want POST /, got " + r.Method + " " + r.URL.Path}
	}
	if ct := r.Header.Get("Content-Type"); ct != contentType {
		return call{}, serialization(fmt.Sprintf("Content-Type %q, want %s", ct, contentType))
	}
	svc, op, ok := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	if !ok || svc != service || op == "" {
		return call{}, &apiError{status: http.StatusBadRequest, typ: "com.amazon.coral.service#UnknownOperationException",
			message: "X-Amz-Target " + r.Header.Get("X-Amz-Target") + " is not an operation of " + service}
	}
	auth := r.Header.Get("Authorization")
	cred, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 Credential=")
	key, _, _ := strings.Cut(cred, "/")
	if !ok || key == "" {
		return call{}, &apiError{status: http.StatusForbidden, typ: "com.amazon.coral.service#MissingAuthenticationTokenException",
			query: "MissingAuthenticationToken;Sender", message: "Request is missing Authentication Token (a SigV4 Authorization header)"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		return call{}, serialization("read the request body: " + err.Error())
	}
	return call{op: op, accessKey: key, body: body}, nil
}

// decode decodes a request body into in.
func decode(body []byte, in any) *apiError {
	if err := json.Unmarshal(body, in); err != nil {
		return &apiError{status: http.StatusBadRequest, typ: "com.amazon.coral.service#SerializationException", message: err.Error()}
	}
	return nil
}

// writeJSON answers a JSON-protocol call with out.
func writeJSON(w http.ResponseWriter, contentType string, out any) {
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, contentType, &apiError{status: http.StatusInternalServerError, typ: "InternalFailure", message: err.Error()})
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", newID())
	_, _ = w.Write(b)
}

// writeError answers a JSON-protocol call with an error.
func writeError(w http.ResponseWriter, contentType string, e *apiError) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-RequestId", newID())
	if e.query != "" {
		w.Header().Set("X-Amzn-Query-Error", e.query)
	}
	w.WriteHeader(e.status)
	b, _ := json.Marshal(map[string]string{"__type": e.typ, "message": e.message})
	_, _ = w.Write(b)
}

// newID returns a random id in the form of a UUID, as AWS gives message and request ids.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
