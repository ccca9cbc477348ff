package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fixtureRequest rebuilds the HTTP request an event fixture of functions/*/testdata describes.
func fixtureRequest(t *testing.T, path string) (*http.Request, map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		RawPath, RawQueryString, Body string
		Cookies                       []string
		Headers                       map[string]string
		RequestContext                struct {
			HTTP struct{ Method, SourceIP string }
		}
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	target := ev.RawPath
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	r := httptest.NewRequest(ev.RequestContext.HTTP.Method, target, strings.NewReader(ev.Body))
	r.Header = http.Header{}
	for k, v := range ev.Headers {
		switch k {
		case "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id":
			continue // added by API Gateway
		case "host":
			r.Host = v
		}
		r.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	r.RemoteAddr = ev.RequestContext.HTTP.SourceIP + ":54321"
	var want map[string]any
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	return r, want
}

// comparable removes the fields that differ by request (ids, times, the trace id).
func comparable(ev map[string]any) map[string]any {
	rc := ev["requestContext"].(map[string]any)
	for _, k := range []string{"requestId", "time", "timeEpoch"} {
		delete(rc, k)
	}
	delete(ev["headers"].(map[string]any), "x-amzn-trace-id")
	return ev
}

func TestEventsMatchFixtures(t *testing.T) {
	for _, tc := range []struct {
		fixture, routeKey, account string
		params                     map[string]string
		url                        bool
	}{
		{"../../functions/users/testdata/apigw_info_signed_in.json", "GET /api/user/info", "123456789012", nil, false},
		{"../../functions/users/testdata/apigw_public_profile.json", "GET /api/users/{id}", "123456789012", nil, false},
		{"../../functions/chat/testdata/apigw_chat.json", "POST /api/chat", "123456789012", nil, false},
		{"../../functions/chatstream/testdata/stream.json", "$default", "anonymous", nil, true},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			r, want := fixtureRequest(t, tc.fixture)
			body, _ := io.ReadAll(r.Body)
			ev := newHTTPEvent(r, body, tc.routeKey, "id", time.Now())
			if p, ok := want["pathParameters"].(map[string]any); ok {
				ev.PathParameters = map[string]string{}
				for k, v := range p {
					ev.PathParameters[k] = v.(string)
				}
			}
			addForwardedHeaders(ev, r, time.Now())
			ev.RequestContext.AccountID = tc.account
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			got, want = comparable(got), comparable(want)
			if !reflect.DeepEqual(got, want) {
				gb, _ := json.MarshalIndent(got, "", "  ")
				wb, _ := json.MarshalIndent(want, "", "  ")
				t.Errorf("event:\n%s\nwant (the fixture):\n%s", gb, wb)
			}
		})
	}
}

func TestEventDetails(t *testing.T) {
	r := httptest.NewRequest("POST", "/api/x?a=1&a=2&b=%20c", bytes.NewReader([]byte{0xff, 0x00}))
	r.Host = "api.execute-api.us-east-1.amazonaws.com"
	r.Header.Add("X-Multi", "one")
	r.Header.Add("X-Multi", "two")
	r.Header.Set("Content-Type", "application/octet-stream")
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("Cookie", "c=3")
	ev := newHTTPEvent(r, []byte{0xff, 0x00}, "POST /api/x", "id", time.Date(2026, 3, 12, 18, 20, 50, 123e6, time.UTC))
	if ev.Headers["x-multi"] != "one,two" || ev.Headers["cookie"] != "" {
		t.Errorf("headers = %v, want repeats comma-joined and no cookie header", ev.Headers)
	}
	if !reflect.DeepEqual(ev.Cookies, []string{"a=1", "b=2", "c=3"}) {
		t.Errorf("cookies = %q", ev.Cookies)
	}
	if want := map[string]string{"a": "1,2", "b": " c"}; !reflect.DeepEqual(ev.QueryStringParameters, want) {
		t.Errorf("query = %v, want %v", ev.QueryStringParameters, want)
	}
	if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString([]byte{0xff, 0x00}) {
		t.Errorf("binary body = %q (base64 %v)", ev.Body, ev.IsBase64Encoded)
	}
	rc := ev.RequestContext
	if rc.Time != "12/Mar/2026:18:20:50 +0000" || rc.TimeEpoch != 1773339650123 || rc.APIID != "api" || rc.Stage != "$default" {
		t.Errorf("request context = %+v", rc)
	}
}

func TestRouteMatching(t *testing.T) {
	api := &httpAPI{}
	for _, r := range []Route{
		{Method: "GET", Path: "/"},
		{Method: "GET", Path: "/assets/{proxy+}"},
		{Method: "GET", Path: "/api/users/{id}"},
		{Method: "GET", Path: "/api/users/me"},
		{Method: "POST", Path: "/api/users/{id}/block"},
		{Method: "ANY", Path: "/api/any"},
		{Method: "DELETE", Path: "/api/any"},
	} {
		api.routes = append(api.routes, &apiRoute{Route: r, segments: splitPath(r.Path)})
	}
	for _, tc := range []struct {
		method, path, want string
		params             map[string]string
	}{
		{"GET", "/", "GET /", nil},
		{"GET", "/assets/app.123.js", "GET /assets/{proxy+}", map[string]string{"proxy": "app.123.js"}},
		{"GET", "/assets/a/b.css", "GET /assets/{proxy+}", map[string]string{"proxy": "a/b.css"}},
		{"GET", "/assets/", "", nil},
		{"GET", "/api/users/42", "GET /api/users/{id}", map[string]string{"id": "42"}},
		{"GET", "/api/users/me", "GET /api/users/me", nil},
		{"POST", "/api/users/42/block", "POST /api/users/{id}/block", map[string]string{"id": "42"}},
		{"DELETE", "/api/users/42/block", "", nil},
		{"GET", "/api/users/42/", "", nil},
		{"GET", "/api/users", "", nil},
		{"PATCH", "/api/any", "ANY /api/any", nil},
		{"DELETE", "/api/any", "DELETE /api/any", nil},
		{"HEAD", "/", "", nil},
	} {
		r, params := api.match(tc.method, tc.path)
		got := ""
		if r != nil {
			got = r.Method + " " + r.Path
		}
		if got != tc.want || !reflect.DeepEqual(params, tc.params) {
			t.Errorf("%s %s -> %q %v, want %q %v", tc.method, tc.path, got, params, tc.want, tc.params)
		}
	}
}

func TestWriteProxyAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		status       int
		header       http.Header
		body         string
		wantErr      bool
	}{
		{"full", `{"statusCode":201,"headers":{"Content-Type":"text/plain","X-A":"1,2"},"multiValueHeaders":{"X-B":["3","4"]},"cookies":["s=1; Path=/","t=2"],"body":"made"}`,
			201, http.Header{"Content-Type": {"text/plain"}, "X-A": {"1,2"}, "X-B": {"3", "4"}, "Set-Cookie": {"s=1; Path=/", "t=2"}}, "made", false},
		{"base64", `{"statusCode":200,"headers":{"Content-Type":"image/png"},"body":"AAEC","isBase64Encoded":true}`,
			200, http.Header{"Content-Type": {"image/png"}}, "\x00\x01\x02", false},
		{"no content type", `{"statusCode":204}`, 204, http.Header{"Content-Type": nil}, "", false},
		{"plain JSON", `{"ok":true}`, 200, http.Header{"Content-Type": {"application/json"}}, `{"ok":true}`, false},
		{"not JSON", `hello`, 0, nil, "", true},
		{"bad status", `{"statusCode":42}`, 0, nil, "", true},
		{"bad base64", `{"statusCode":200,"body":"!!","isBase64Encoded":true}`, 0, nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			err := writeProxyAnswer(rec, []byte(tc.answer))
			if tc.wantErr {
				if err == nil {
					t.Error("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h := rec.Result().Header
			h.Del("Content-Length")
			if rec.Code != tc.status || rec.Body.String() != tc.body || !reflect.DeepEqual(h, tc.header) {
				t.Errorf("got %d %v %q, want %d %v %q", rec.Code, h, rec.Body.String(), tc.status, tc.header, tc.body)
			}
		})
	}
}

// fakeFunction answers every invocation with do(event).
type fakeFunction struct {
	do    func(ev *httpEvent) (string, error)
	calls atomic.Int32
}

func (f *fakeFunction) Invoke(ctx context.Context, payload []byte) (*Response, error) {
	f.calls.Add(1)
	var ev httpEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	out, err := f.do(&ev)
	if err != nil {
		return nil, err
	}
	return &Response{Body: io.NopCloser(strings.NewReader(out))}, nil
}

func TestHTTPAPI(t *testing.T) {
	fn := &fakeFunction{do: func(ev *httpEvent) (string, error) {
		switch ev.RawPath {
		case "/fail":
			return "", &FunctionError{Type: "errorString", Message: "boom"}
		case "/timeout":
			return "", &FunctionError{Type: errTypeTimeout, Message: "Task timed out after 1.00 seconds"}
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		case "/bad":
			return "not json", nil
		}
		b, _ := json.Marshal(map[string]any{"statusCode": 200, "body": ev.RouteKey + " " + ev.PathParameters["id"] + " " + ev.Body})
		return string(b), nil
	}}
	fns := []*Function{{Name: "F", Routes: []Route{
		{API: "api", Method: "POST", Path: "/items/{id}", Timeout: time.Second},
		{API: "api", Method: "GET", Path: "/fail", Timeout: time.Second},
		{API: "api", Method: "GET", Path: "/timeout", Timeout: time.Second},
		{API: "api", Method: "GET", Path: "/slow", Timeout: 100 * time.Millisecond},
		{API: "api", Method: "GET", Path: "/bad", Timeout: time.Second},
		{API: "other", Method: "GET", Path: "/elsewhere", Timeout: time.Second},
	}}}
	api := newHTTPAPI(&HTTPAPI{ID: "api"}, fns, map[string]invoker{"F": fn})
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/items/7", "hi", 200, "POST /items/{id} 7 hi"},
		{"GET", "/items/7", "", 404, `{"message":"Not Found"}`},
		{"GET", "/elsewhere", "", 404, `{"message":"Not Found"}`},
		{"GET", "/fail", "", 500, `{"message":"Internal Server Error"}`},
		{"GET", "/timeout", "", 500, `{"message":"Internal Server Error"}`},
		{"GET", "/slow", "", 503, `{"message":"Service Unavailable"}`},
		{"GET", "/bad", "", 500, `{"message":"Internal Server Error"}`},
		{"POST", "/items/7", strings.Repeat("x", maxAPIRequestBody+1), 413, `{"message":"Request Entity Too Large"}`},
	} {
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		if rec.Code != tc.status || rec.Body.String() != tc.want || rec.Header().Get("Apigw-Requestid") == "" {
			t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, rec.Code, rec.Body.String(), tc.status, tc.want)
		}
	}
}

func TestHTTPAPIThrottle(t *testing.T) {
	fn := &fakeFunction{do: func(*httpEvent) (string, error) { return `{"statusCode":200}`, nil }}
	api := newHTTPAPI(&HTTPAPI{ID: "api", Burst: 2, Rate: 1}, []*Function{{Name: "F", Routes: []Route{{API: "api", Method: "GET", Path: "/", Timeout: time.Second}}}},
		map[string]invoker{"F": fn})
	now := time.Unix(1000, 0)
	api.now = func() time.Time { return now }
	var codes []int
	for i := 0; i < 4; i++ {
		if i == 3 {
			now = now.Add(time.Second) // one token back
		}
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		codes = append(codes, rec.Code)
	}
	if want := []int{200, 200, 429, 200}; !reflect.DeepEqual(codes, want) {
		t.Errorf("codes = %v, want %v (burst 2, 1 a second)", codes, want)
	}
}

func TestFunctionURLStreaming(t *testing.T) {
	p, _ := testPool(t, &Function{Env: map[string]string{"TEST_MODE": "stream"}})
	u := &functionURL{fn: "F", url: &FunctionURL{Streaming: true}, invoke: p, now: time.Now}
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("POST", srv.URL+"/s?n=3&header=X-Test", strings.NewReader("hello"))
	req.Header.Set("X-Test", "seen")
	req.AddCookie(&http.Cookie{Name: "k", Value: "v"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("X-Echo") != "POST /s seen" || len(resp.Cookies()) != 2 {
		t.Fatalf("response %d %v", resp.StatusCode, resp.Header)
	}
	r := bufio.NewReader(resp.Body)
	var lines []string
	var times []time.Time
	for {
		line, err := r.ReadString('\n')
		if strings.HasPrefix(line, "data:") {
			lines = append(lines, strings.TrimSpace(line))
			times = append(times, time.Now())
		}
		if err != nil {
			break
		}
	}
	// lambdaurl puts only the event's headers in the request: the cookies travel in the event's
	// cookies array (the function restores them), so the test function counts none.
	if want := []string{"data: hello 0", "data: 1", "data: 2", "data: 3"}; !reflect.DeepEqual(lines, want) {
		t.Errorf("events = %q, want %q", lines, want)
	}
	if len(times) == 4 && times[3].Sub(times[1]) < 250*time.Millisecond {
		t.Errorf("events were not streamed: %v", times)
	}
}

func TestFunctionURLErrors(t *testing.T) {
	p, _ := testPool(t, &Function{})
	fail := &fakeFunction{do: func(*httpEvent) (string, error) { return "", &FunctionError{Type: "x", Message: "y"} }}
	rec := httptest.NewRecorder()
	(&functionURL{fn: "F", url: &FunctionURL{Streaming: true}, invoke: fail, now: time.Now}).ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	if rec.Code != http.StatusBadGateway {
		t.Errorf("a failed function: %d %q, want 502", rec.Code, rec.Body.String())
	}
	broken := invokerFunc(func(ctx context.Context, _ []byte) (*Response, error) {
		return p.Invoke(ctx, []byte(`{"streamError":true}`))
	})
	srv2 := httptest.NewServer(&functionURL{fn: "F", url: &FunctionURL{Streaming: true}, invoke: broken, now: time.Now})
	t.Cleanup(srv2.Close)
	resp, err := http.Post(srv2.URL+"/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "partial" || err == nil {
		t.Errorf("a stream broken midway: %d %q %v; want 200, the part sent, then a read error", resp.StatusCode, b, err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Logf("read error: %v", err)
	}
}

type invokerFunc func(ctx context.Context, payload []byte) (*Response, error)

func (f invokerFunc) Invoke(ctx context.Context, payload []byte) (*Response, error) {
	return f(ctx, payload)
}
