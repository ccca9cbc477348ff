package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testRoot is the module's root, seen from this package.
const testRoot = "../.."

var (
	fnOnce sync.Once
	fnPath string
	fnErr  error
	fnDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fnDir != "" {
		os.RemoveAll(fnDir)
	}
	os.Exit(code)
}

// testFunction builds testdata/fn once per test process, as the gateway builds a function.
func testFunction(t *testing.T) string {
	t.Helper()
	fnOnce.Do(func() {
		if fnDir, fnErr = os.MkdirTemp("", "gateway-fn-"); fnErr != nil {
			return
		}
		f := &Function{Name: "TestFunction", Code: "infra/gateway/testdata/fn"}
		var paths map[string]string
		paths, fnErr = buildFunctions(context.Background(), testRoot, fnDir, []*Function{f}, io.Discard)
		fnPath = paths[f.Name]
	})
	if fnErr != nil {
		t.Fatal(fnErr)
	}
	return fnPath
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testPool runs testdata/fn as the function fn (defaults: 3 s, 128 MB).
func testPool(t *testing.T, fn *Function) (*pool, *syncBuffer) {
	t.Helper()
	if fn.Name == "" {
		fn.Name = "TestFunction"
	}
	if fn.Timeout == 0 {
		fn.Timeout = 3 * time.Second
	}
	if fn.MemoryMB == 0 {
		fn.MemoryMB = 128
	}
	if fn.LogFormat == "" {
		fn.LogFormat = "JSON"
	}
	logs := &syncBuffer{}
	p := newPool(fn, testFunction(t), runtimeEnv{DynamoEndpoint: "http://127.0.0.1:1", SQSEndpoint: "http://127.0.0.1:2",
		SecretsEndpoint: "http://127.0.0.1:3", Logs: logs})
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			t.Logf("function output:\n%s", logs.String())
		}
	})
	return p, logs
}

// echo is the buffered test function's answer.
type echo struct {
	RequestID    string            `json:"requestId"`
	FunctionArn  string            `json:"functionArn"`
	DeadlineInMs int64             `json:"deadlineInMs"`
	Env          map[string]string `json:"env"`
	PID          int               `json:"pid"`
}

// invoke runs one buffered invocation and decodes the answer.
func invoke(t *testing.T, p *pool, cmd string) (echo, error) {
	t.Helper()
	resp, err := p.Invoke(context.Background(), []byte(cmd))
	if err != nil {
		return echo{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return echo{}, err
	}
	var e echo
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return e, nil
}

func TestRuntimeEnvironmentAndWarmth(t *testing.T) {
	p, logs := testPool(t, &Function{Env: map[string]string{"X": "from the template"}, LogLevel: "INFO"})
	p.env.Local = []string{"OFFLINE_PACE=25ms", "X=local"}
	e, err := invoke(t, p, `{"env":["AWS_LAMBDA_FUNCTION_NAME","AWS_LAMBDA_FUNCTION_MEMORY_SIZE","AWS_LAMBDA_FUNCTION_VERSION",
		"AWS_LAMBDA_LOG_FORMAT","AWS_LAMBDA_LOG_LEVEL","AWS_REGION","AWS_DEFAULT_REGION","TZ","_HANDLER","DYNAMO_ENDPOINT",
		"SQS_ENDPOINT","AWS_ENDPOINT_URL_SECRETS_MANAGER","AWS_EC2_METADATA_DISABLED","AWS_ACCESS_KEY_ID","X","HOME","OFFLINE_PACE"]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME": "TestFunction", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
		"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
		"TZ": ":UTC", "_HANDLER": "bootstrap", "DYNAMO_ENDPOINT": "http://127.0.0.1:1", "SQS_ENDPOINT": "http://127.0.0.1:2",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:3", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "gateway",
		"X": "from the template", "HOME": "", "OFFLINE_PACE": "25ms",
	}
	for k, v := range want {
		if e.Env[k] != v {
			t.Errorf("%s = %q, want %q", k, e.Env[k], v)
		}
	}
	if e.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:TestFunction" || len(e.RequestID) != 36 {
		t.Errorf("context: arn %q, request id %q", e.FunctionArn, e.RequestID)
	}
	if e.DeadlineInMs <= 2000 || e.DeadlineInMs > 3000 {
		t.Errorf("time left at start = %d ms, want just under the 3 s timeout", e.DeadlineInMs)
	}
	again, err := invoke(t, p, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if again.PID != e.PID || again.RequestID == e.RequestID {
		t.Errorf("second invocation: pid %d (first %d), request id %s (first %s); want the warm instance and a new id", again.PID, e.PID, again.RequestID, e.RequestID)
	}
	if cs, inits := p.ColdStarts(), p.InitDurations(); len(cs) != 1 || len(inits) != 1 || inits[0] <= 0 || inits[0] > cs[0] {
		t.Errorf("cold starts = %v, inits = %v; want one each, the init within the cold start", cs, inits)
	}
	if !strings.Contains(logs.String(), "TestFunction | fn: init") {
		t.Errorf("logs are not prefixed with the function name:\n%s", logs.String())
	}
}

func TestRuntimeConcurrency(t *testing.T) {
	p, _ := testPool(t, &Function{Concurrency: 2})
	start := time.Now()
	var wg sync.WaitGroup
	pids := make([]int, 3)
	for i := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := invoke(t, p, `{"sleepMs":400}`)
			if err != nil {
				t.Error(err)
			}
			pids[i] = e.PID
		}()
	}
	wg.Wait()
	distinct := map[int]bool{}
	for _, pid := range pids {
		distinct[pid] = true
	}
	if len(distinct) != 2 {
		t.Errorf("pids = %v, want two instances (reserved concurrency 2)", pids)
	}
	if d := time.Since(start); d < 800*time.Millisecond {
		t.Errorf("three 400 ms invocations on two instances took %v, want the third to wait", d)
	}
	if cs := p.ColdStarts(); len(cs) != 2 {
		t.Errorf("cold starts = %v, want two", cs)
	}
}

func TestRuntimeFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fn       Function
		cmd      string
		wantType string
		wantMsg  string
		sameProc bool // the instance stays warm
	}{
		{"function error", Function{}, `{"fail":"boom"}`, "errorString", "boom", true},
		{"panic", Function{}, `{"panic":true}`, "string", "fn: panic as asked", false},
		{"crash", Function{}, `{"crash":true}`, errTypeExit, "exit status 3", false},
		{"timeout", Function{Timeout: time.Second}, `{"sleepMs":5000}`, errTypeTimeout, "Task timed out after 1.00 seconds", false},
		{"memory", Function{MemoryMB: 128}, `{"allocMB":200,"sleepMs":5000}`, errTypeMemory, "128 MB", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fn := tc.fn
			p, _ := testPool(t, &fn)
			first, err := invoke(t, p, `{}`)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = invoke(t, p, tc.cmd)
			var fe *FunctionError
			if !errors.As(err, &fe) || fe.Type != tc.wantType || !strings.Contains(fe.Message, tc.wantMsg) {
				t.Fatalf("err = %v, want %s: ...%s...", err, tc.wantType, tc.wantMsg)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("the failure took %v", d)
			}
			after, err := invoke(t, p, `{}`)
			if err != nil {
				t.Fatalf("the invocation after the failure: %v", err)
			}
			if (after.PID == first.PID) != tc.sameProc {
				t.Errorf("pid after = %d, before = %d; want same instance: %v", after.PID, first.PID, tc.sameProc)
			}
		})
	}
}

func TestRuntimeStreamError(t *testing.T) {
	p, _ := testPool(t, &Function{})
	resp, err := p.Invoke(context.Background(), []byte(`{"streamError":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	var fe *FunctionError
	if string(b) != "partial" || !errors.As(err, &fe) || fe.Message != "the stream broke" {
		t.Errorf("read %q, %v; want the part sent, then the function's error from the trailers", b, err)
	}
}

func TestRuntimeInitError(t *testing.T) {
	p, _ := testPool(t, &Function{Env: map[string]string{"TEST_MODE": "initerror"}})
	_, err := p.Invoke(context.Background(), []byte(`{}`))
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "ConfigError" || fe.Message != "TABLE_NAME is not set" {
		t.Errorf("err = %v, want the init error the function posted", err)
	}
}

func TestRuntimeStreaming(t *testing.T) {
	p, _ := testPool(t, &Function{Env: map[string]string{"TEST_MODE": "stream"}})
	ev := `{"version":"2.0","rawPath":"/s","rawQueryString":"n=3","requestContext":{"domainName":"x.lambda-url.us-east-1.on.aws","http":{"method":"POST","path":"/s"}},"body":"hi","isBase64Encoded":false}`
	resp, err := p.Invoke(context.Background(), []byte(ev))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentType != "application/vnd.awslambda.http-integration-response" {
		t.Errorf("content type %q", resp.ContentType)
	}
	r := bufio.NewReader(resp.Body)
	prelude, err := r.ReadString(0)
	if err != nil {
		t.Fatal(err)
	}
	var p0 struct {
		StatusCode int
		Headers    map[string]string
		Cookies    []string
	}
	if err := json.Unmarshal([]byte(strings.TrimSuffix(prelude, "\x00")), &p0); err != nil || p0.StatusCode != 201 || len(p0.Cookies) != 2 {
		t.Fatalf("prelude %q: %v", prelude, err)
	}
	if zeros, _ := r.Peek(7); !bytes.Equal(zeros, make([]byte, 7)) {
		t.Fatalf("the prelude is not followed by 8 NUL bytes: %q", zeros)
	}
	r.Discard(7)
	var times []time.Duration
	start := time.Now()
	for {
		line, err := r.ReadString('\n')
		if strings.HasPrefix(line, "data: ") {
			times = append(times, time.Since(start))
		}
		if err != nil {
			break
		}
	}
	if len(times) != 4 {
		t.Fatalf("events = %d, want 4", len(times))
	}
	if times[3]-times[1] < 250*time.Millisecond {
		t.Errorf("events arrived at %v: not as they were sent (150 ms apart)", times)
	}
}

// TestLineLogger checks that a function's output is written line by line with its prefix.
func TestLineLogger(t *testing.T) {
	var out bytes.Buffer
	l := newLineLogger(&out, "F")
	l.Write([]byte("one\ntw"))
	l.Write([]byte("o\nthree"))
	if got, want := out.String(), "F | one\nF | two\n"; got != want {
		t.Errorf("logged %q, want %q (the unfinished line waits)", got, want)
	}
}

var _ = filepath.Join
