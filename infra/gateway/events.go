package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits of API Gateway and Lambda.
const (
	maxAPIRequestBody = 10 << 20 // an HTTP API request
	maxBufferedAnswer = 6 << 20  // a function's buffered response
	streamingAnswer   = "application/vnd.awslambda.http-integration-response"
)

// invoker runs a function: a pool.
type invoker interface {
	Invoke(ctx context.Context, payload []byte) (*Response, error)
}

// httpEvent is the payload format 2.0 event of HTTP APIs and function URLs, with the fields and
// omissions API Gateway uses.
type httpEvent struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	RequestContext        eventContext      `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type eventContext struct {
	AccountID    string    `json:"accountId"`
	APIID        string    `json:"apiId"`
	DomainName   string    `json:"domainName"`
	DomainPrefix string    `json:"domainPrefix"`
	HTTP         eventHTTP `json:"http"`
	RequestID    string    `json:"requestId"`
	RouteKey     string    `json:"routeKey"`
	Stage        string    `json:"stage"`
	Time         string    `json:"time"`
	TimeEpoch    int64     `json:"timeEpoch"`
}

type eventHTTP struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// newHTTPEvent maps a request to the payload 2.0 event; body is the request's body, already read.
// The request's Host is the API's or the function URL's domain (the edge set it).
func newHTTPEvent(r *http.Request, body []byte, routeKey, requestID string, now time.Time) *httpEvent {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	ev := &httpEvent{
		Version: "2.0", RouteKey: routeKey, RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Headers: map[string]string{},
		RequestContext: eventContext{
			AccountID: accountID, APIID: strings.Split(host, ".")[0], DomainName: host,
			DomainPrefix: strings.Split(host, ".")[0], RequestID: requestID, RouteKey: routeKey, Stage: "$default",
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: eventHTTP{Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: sourceIP(r), UserAgent: r.UserAgent()},
		},
	}
	for name, values := range r.Header {
		if strings.EqualFold(name, "Cookie") {
			for _, v := range values {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[strings.ToLower(name)] = strings.Join(values, ",")
	}
	ev.Headers["host"] = r.Host
	if r.URL.RawQuery != "" {
		ev.QueryStringParameters = map[string]string{}
		q, _ := url.ParseQuery(r.URL.RawQuery)
		for k, vs := range q {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type"), body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev
}

// sourceIP is the address of the client that opened the connection.
func sourceIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// isText reports whether a body of the content type travels as text in an event (else base64).
func isText(contentType string, body []byte) bool {
	if contentType == "" {
		return utf8.Valid(body)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"), mt == "application/javascript",
		mt == "application/x-www-form-urlencoded", mt == "application/graphql":
		return utf8.Valid(body)
	}
	return false
}

// apiRequestID is an id in the form HTTP APIs give requests (apigw-requestid).
func apiRequestID() string {
	b := make([]byte, 11)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// writeMessage answers as API Gateway does for its own errors: {"message": "..."}.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "{\"message\":%q}", msg)
}

// apiRoute is a route of an HTTP API with the function behind it.
type apiRoute struct {
	Route
	fn       string
	invoke   invoker
	segments []string
}

// httpAPI plays one HTTP API: it routes a request by method and path to a function's route, sends
// the payload 2.0 event and maps the answer back.
type httpAPI struct {
	api    *HTTPAPI
	routes []*apiRoute
	limit  *tokenBucket
	now    func() time.Time
}

// newHTTPAPI returns the HTTP API with the routes of fns that name it; pools gives each
// function's invoker.
func newHTTPAPI(api *HTTPAPI, fns []*Function, pools map[string]invoker) *httpAPI {
	a := &httpAPI{api: api, now: time.Now}
	if api.Rate > 0 || api.Burst > 0 {
		a.limit = newTokenBucket(api.Rate, api.Burst)
	}
	for _, f := range fns {
		for _, r := range f.Routes {
			if r.API == api.ID {
				a.routes = append(a.routes, &apiRoute{Route: r, fn: f.Name, invoke: pools[f.Name], segments: splitPath(r.Path)})
			}
		}
	}
	return a
}

func splitPath(p string) []string { return strings.Split(strings.TrimPrefix(p, "/"), "/") }

// match returns the route for a method and path and its path parameters: the most specific path
// first (a literal segment over {param} over {proxy+}), then a method over ANY.
func (a *httpAPI) match(method, path string) (*apiRoute, map[string]string) {
	segs := splitPath(path)
	var (
		best       *apiRoute
		bestParams map[string]string
		bestScore  []int
	)
	for _, r := range a.routes {
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		params, score, ok := matchSegments(r.segments, segs)
		if !ok {
			continue
		}
		if r.Method == method {
			score = append(score, 1)
		} else {
			score = append(score, 0)
		}
		if best == nil || slices.Compare(score, bestScore) > 0 {
			best, bestParams, bestScore = r, params, score
		}
	}
	return best, bestParams
}

// matchSegments matches a route's path segments against a request's, scoring each segment.
func matchSegments(route, req []string) (map[string]string, []int, bool) {
	var params map[string]string
	var score []int
	for i, s := range route {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "+}") {
			rest := strings.Join(req[i:], "/")
			if i >= len(req) || rest == "" {
				return nil, nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s[1:len(s)-2]] = rest
			return params, append(score, 0), true
		}
		if i >= len(req) {
			return nil, nil, false
		}
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if req[i] == "" {
				return nil, nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[s[1:len(s)-1]] = req[i]
			score = append(score, 1)
			continue
		}
		if s != req[i] {
			return nil, nil, false
		}
		score = append(score, 2)
	}
	if len(req) != len(route) {
		return nil, nil, false
	}
	return params, score, true
}

func (a *httpAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := a.now()
	requestID := apiRequestID()
	w.Header().Set("Apigw-Requestid", requestID)
	if a.limit != nil && !a.limit.take(start) {
		writeMessage(w, http.StatusTooManyRequests, "Too Many Requests")
		return
	}
	route, params := a.match(r.Method, r.URL.Path)
	if route == nil {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIRequestBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	routeKey := route.Method + " " + route.Path
	ev := newHTTPEvent(r, body, routeKey, requestID, start)
	ev.PathParameters = params
	addForwardedHeaders(ev, r, start)
	payload, err := json.Marshal(ev)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), route.Timeout)
	defer cancel()
	answer, err := invokeBuffered(ctx, route.invoke, payload)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		slog.Warn("HTTP API integration timeout", "route", routeKey, "function", route.fn, "timeout", route.Timeout)
		writeMessage(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	case isTooLarge(err):
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	case err != nil:
		slog.Warn("function failed", "route", routeKey, "function", route.fn, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	if err := writeProxyAnswer(w, answer); err != nil {
		slog.Warn("function answer not valid for the HTTP API", "route", routeKey, "function", route.fn, "err", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
	}
}

// addForwardedHeaders adds what API Gateway and function URLs add to every request's headers: the
// client's address to X-Forwarded-For, the scheme and port of their HTTPS endpoint, a trace id.
func addForwardedHeaders(ev *httpEvent, r *http.Request, now time.Time) {
	xff := sourceIP(r)
	if prev := r.Header.Get("X-Forwarded-For"); prev != "" {
		xff = prev + ", " + xff
	}
	ev.Headers["x-forwarded-for"] = xff
	ev.Headers["x-forwarded-proto"] = "https"
	ev.Headers["x-forwarded-port"] = "443"
	ev.Headers["x-amzn-trace-id"] = "Root=1-" + fmt.Sprintf("%08x", now.Unix()) + "-" + randomHex(12)
	if _, ok := ev.Headers["content-length"]; !ok {
		ev.Headers["content-length"] = fmt.Sprint(len(ev.Body))
	}
}

func isTooLarge(err error) bool {
	var fe *FunctionError
	return errors.As(err, &fe) && fe.Type == "RequestTooLargeException"
}

// invokeBuffered invokes and reads the whole answer, within ctx (the integration timeout): past it
// the function runs on, its answer discarded.
func invokeBuffered(ctx context.Context, fn invoker, payload []byte) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := fn.Invoke(ctx, payload)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxBufferedAnswer+1))
		if err == nil && len(b) > maxBufferedAnswer {
			err = &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "the response is over 6 MB"}
		}
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// proxyAnswer is a function's answer in payload format 2.0.
type proxyAnswer struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Cookies           []string            `json:"cookies"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
}

// writeProxyAnswer maps a payload 2.0 answer to the HTTP response. An answer that is JSON without a
// statusCode is the body of a 200 application/json response, as HTTP APIs take it.
func writeProxyAnswer(w http.ResponseWriter, b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw["statusCode"] == nil {
		if !json.Valid(b) {
			return fmt.Errorf("the answer is not JSON")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		return nil
	}
	var a proxyAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("the answer: %w", err)
	}
	if a.StatusCode < 100 || a.StatusCode > 599 {
		return fmt.Errorf("statusCode %d", a.StatusCode)
	}
	body := []byte(a.Body)
	if a.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(a.Body); err != nil {
			return fmt.Errorf("the body is not base64: %w", err)
		}
	}
	h := w.Header()
	for k, v := range a.Headers {
		h.Set(k, v)
	}
	for k, vs := range a.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range a.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		h["Content-Type"] = nil // no sniffing: API Gateway sends none
	}
	h.Del("Content-Length")
	w.WriteHeader(a.StatusCode)
	_, _ = w.Write(body)
	return nil
}

// functionURL plays a function URL: the payload 2.0 event with routeKey $default, the answer
// buffered or, in RESPONSE_STREAM mode, streamed to the client as it arrives.
type functionURL struct {
	fn     string
	url    *FunctionURL
	invoke invoker
	now    func() time.Time
}

func (u *functionURL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := u.now()
	requestID := newRequestID()
	w.Header().Set("X-Amzn-Requestid", requestID)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInvokePayload))
	if err != nil {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = io.WriteString(w, `{"Message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}`)
		return
	}
	ev := newHTTPEvent(r, body, "$default", requestID, start)
	ev.RequestContext.AccountID = "anonymous"
	addForwardedHeaders(ev, r, start)
	payload, err := json.Marshal(ev)
	if err != nil {
		writeURLError(w)
		return
	}
	if !u.url.Streaming {
		answer, err := invokeBuffered(context.WithoutCancel(r.Context()), u.invoke, payload)
		if err == nil {
			err = writeProxyAnswer(w, answer)
		}
		if err != nil {
			slog.Warn("function failed", "function", u.fn, "err", err)
			writeURLError(w)
		}
		return
	}
	resp, err := u.invoke.Invoke(context.WithoutCancel(r.Context()), payload)
	if err != nil {
		slog.Warn("function failed", "function", u.fn, "err", err)
		writeURLError(w)
		return
	}
	defer resp.Body.Close()
	if err := streamAnswer(w, resp); err != nil {
		slog.Warn("streamed response failed", "function", u.fn, "err", err)
		if errors.Is(err, errNotStarted) {
			writeURLError(w)
			return
		}
		panic(http.ErrAbortHandler) // the client sees the stream cut, as from Lambda
	}
}

// errNotStarted says the response failed before anything was sent to the client.
var errNotStarted = errors.New("the response failed before it started")

// writeURLError answers a function URL request whose function failed.
func writeURLError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = io.WriteString(w, `{"Message":"Internal Server Error"}`)
}

// streamAnswer copies a streamed answer to the client, flushing as it arrives. An HTTP integration
// response (lambdaurl) starts with a JSON prelude (statusCode, headers, cookies) and 8 NUL bytes;
// any other answer is the body of a 200 response.
func streamAnswer(w http.ResponseWriter, resp *Response) error {
	body := bufio.NewReader(resp.Body)
	if resp.ContentType == streamingAnswer {
		prelude, err := readPrelude(body)
		if err != nil {
			return fmt.Errorf("%w: %w", errNotStarted, err)
		}
		h := w.Header()
		for k, v := range prelude.Headers {
			h.Set(k, v)
		}
		for _, c := range prelude.Cookies {
			h.Add("Set-Cookie", c)
		}
		if prelude.StatusCode == 0 {
			prelude.StatusCode = http.StatusOK
		}
		h.Del("Content-Length")
		w.WriteHeader(prelude.StatusCode)
	} else {
		if resp.ContentType != "" {
			w.Header().Set("Content-Type", resp.ContentType)
		}
		w.WriteHeader(http.StatusOK)
	}
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			_ = rc.Flush()
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// prelude is the head of an HTTP integration response.
type prelude struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Cookies    []string          `json:"cookies"`
}

// readPrelude reads the JSON prelude up to its 8 NUL bytes.
func readPrelude(r *bufio.Reader) (prelude, error) {
	var buf bytes.Buffer
	zeros := 0
	for zeros < 8 {
		c, err := r.ReadByte()
		if err != nil {
			return prelude{}, fmt.Errorf("the prelude ended early: %w", err)
		}
		if c == 0 {
			zeros++
			continue
		}
		if zeros > 0 {
			return prelude{}, errors.New("the prelude is not followed by 8 NUL bytes")
		}
		if buf.Len() > 1<<20 {
			return prelude{}, errors.New("the prelude is over 1 MB")
		}
		buf.WriteByte(c)
	}
	var p prelude
	if err := json.Unmarshal(buf.Bytes(), &p); err != nil {
		return prelude{}, fmt.Errorf("the prelude: %w", err)
	}
	return p, nil
}

// tokenBucket is an HTTP API's throttle: rate requests a second, bursts of burst.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int) *tokenBucket {
	b := float64(burst)
	if b == 0 {
		b = rate
	}
	return &tokenBucket{rate: rate, burst: b, tokens: b}
}

// take reports whether a request at now may pass.
func (b *tokenBucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && b.rate > 0 {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
