// Package lambdatest runs a function's real bootstrap binary under the AWS Lambda Runtime Interface
// Emulator (the Go tool github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie) and
// invokes it with events, as Lambda would.
//
//	boot := lambdatest.Build(t, "./functions/users")
//	emu := lambdatest.Start(t, boot, []string{"TABLE_NAME=" + table})
//	resp := emu.InvokeHTTP(t, readFile(t, "testdata/health.json"))
//
// The emulator binary comes from RIE_BIN when set, else from `go tool -n aws-lambda-rie`, which
// builds it once into the Go build cache. Missing Go or a failing emulator build stops the test
// through testenv.Need.
package lambdatest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/secondme/twin/infra/testenv"
)

// invokePath is the emulator's endpoint for synchronous invocations.
const invokePath = "/2015-03-31/functions/function/invocations"

var (
	emulatorOnce sync.Once
	emulatorPath string
	emulatorErr  error

	moduleOnce sync.Once
	moduleDir  string
	moduleErr  error

	buildsMu sync.Mutex
	builds   = map[string]*build{}
)

// build is one bootstrap built in this test process.
type build struct {
	once sync.Once
	path string
	err  error
}

// Build compiles the main package pkg (a path relative to the module root such as
// "./functions/users", or a full import path) into an executable named bootstrap, for the machine
// running the test, with the flags of the Lambda build (CGO_ENABLED=0, -tags lambda.norpc,grpcnotrace, -trimpath,
// -ldflags "-s -w"). Each package is built once per test process; the binary lives in a temporary
// directory of that process. Build returns the binary's path.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	buildsMu.Lock()
	b, ok := builds[pkg]
	if !ok {
		b = &build{}
		builds[pkg] = b
	}
	buildsMu.Unlock()
	b.once.Do(func() { b.path, b.err = compile(pkg) })
	if b.err != nil {
		tb.Fatalf("lambdatest: build %s: %v", pkg, b.err)
	}
	return b.path
}

func compile(pkg string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := processDir()
	if err != nil {
		return "", err
	}
	// <dir>/<whole path>/<last element>/bootstrap: the last element names the function.
	out := filepath.Join(dir, strings.NewReplacer("/", "_", ".", "_").Replace(pkg), path.Base(pkg), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc,grpcnotrace", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w\n%s", err, msg)
	}
	return out, nil
}

// moduleRoot returns the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	moduleOnce.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			moduleErr = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			moduleErr = errors.New("not inside a Go module")
			return
		}
		moduleDir = filepath.Dir(gomod)
	})
	return moduleDir, moduleErr
}

// emulator returns the path of the aws-lambda-rie binary.
func emulator(tb testing.TB) string {
	tb.Helper()
	emulatorOnce.Do(func() {
		if p := os.Getenv("RIE_BIN"); p != "" {
			emulatorPath = p
			return
		}
		root, err := moduleRoot()
		if err != nil {
			emulatorErr = err
			return
		}
		cmd := exec.Command("go", "tool", "-n", "aws-lambda-rie")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			emulatorErr = fmt.Errorf("go tool -n aws-lambda-rie: %w\n%s", err, stderr.Bytes())
			return
		}
		emulatorPath = strings.TrimSpace(string(out))
	})
	if emulatorErr != nil {
		testenv.Need(tb, false, "the Lambda Runtime Interface Emulator (RIE_BIN or `go tool aws-lambda-rie`): "+emulatorErr.Error())
	}
	if _, err := os.Stat(emulatorPath); err != nil {
		testenv.Need(tb, false, "the Lambda Runtime Interface Emulator at "+emulatorPath+": "+err.Error())
	}
	return emulatorPath
}

// Emulator is a running Runtime Interface Emulator serving one function. Its methods must be called
// from the test's goroutine, one invocation at a time, as Lambda runs one event at a time per
// execution environment.
type Emulator struct {
	// URL is the emulator's base URL, http://127.0.0.1:<port>.
	URL string

	cmd    *exec.Cmd
	exited chan struct{}
	logs   *syncBuffer
	client *http.Client
}

// Start runs the emulator for bootstrap, on free 127.0.0.1 ports, and waits (at most 10 s) until it
// accepts invocations. The function sees only env plus defaults it may override:
// AWS_LAMBDA_FUNCTION_NAME (the bootstrap's directory name, for a Build the package's last element), AWS_LAMBDA_FUNCTION_TIMEOUT=30,
// AWS_REGION=us-east-1 and dummy AWS credentials; PATH, HOME and TMPDIR come from the test process.
// The function starts on the first invocation, as a cold start does. The emulator stops when the test
// ends; if the test failed, its output (the function's logs included) goes to the test log.
func Start(tb testing.TB, bootstrap string, env []string) *Emulator {
	tb.Helper()
	rie := emulator(tb)
	if _, err := os.Stat(bootstrap); err != nil {
		tb.Fatalf("lambdatest: bootstrap: %v", err)
	}
	addr, runtimeAddr := freeAddr(tb), freeAddr(tb)
	e := &Emulator{
		URL:    "http://" + addr,
		exited: make(chan struct{}),
		logs:   &syncBuffer{},
		client: &http.Client{Timeout: 2 * time.Minute},
	}
	e.cmd = exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", runtimeAddr, bootstrap)
	e.cmd.Dir = filepath.Dir(bootstrap)
	e.cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"TMPDIR=" + os.TempDir(),
		"AWS_LAMBDA_FUNCTION_NAME=" + filepath.Base(filepath.Dir(bootstrap)),
		"AWS_LAMBDA_FUNCTION_TIMEOUT=30",
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
	}, env...)
	e.cmd.Stdout = e.logs
	e.cmd.Stderr = e.logs
	if err := e.cmd.Start(); err != nil {
		tb.Fatalf("lambdatest: start %s: %v", rie, err)
	}
	go func() {
		_ = e.cmd.Wait()
		close(e.exited)
	}()
	tb.Cleanup(func() {
		e.stop()
		if tb.Failed() {
			tb.Logf("lambdatest: emulator output for %s:\n%s", bootstrap, e.logs.String())
		}
	})
	e.waitReady(tb, addr)
	return e
}

// waitReady polls the emulator's port until it accepts connections.
func (e *Emulator) waitReady(tb testing.TB, addr string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-e.exited:
			tb.Fatalf("lambdatest: the emulator exited before it was ready:\n%s", e.logs.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("lambdatest: the emulator did not listen on %s within 10s:\n%s", addr, e.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop asks the emulator to shut down (it stops the function first) and kills it after 5 s.
func (e *Emulator) stop() {
	select {
	case <-e.exited:
		return
	default:
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
}

// Logs returns everything the emulator and the function wrote so far.
func (e *Emulator) Logs() string { return e.logs.String() }

// Invoke sends event to the function and returns its response payload. A function error comes back
// as the payload Lambda returns for it ({"errorMessage": ..., "errorType": ...}); the test fails only
// when the emulator itself does not answer 200.
func (e *Emulator) Invoke(tb testing.TB, event []byte) []byte {
	tb.Helper()
	resp, err := e.client.Post(e.URL+invokePath, "application/json", bytes.NewReader(event))
	if err != nil {
		tb.Fatalf("lambdatest: invoke: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("lambdatest: read the invocation's response: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("lambdatest: invoke: emulator answered %s: %s", resp.Status, body)
	}
	return body
}

// InvokeHTTP sends an API Gateway v2 (HTTP API) event and decodes the function's response. A
// function error fails the test.
func (e *Emulator) InvokeHTTP(tb testing.TB, event []byte) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	payload := e.Invoke(tb, event)
	var fnErr struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if json.Unmarshal(payload, &fnErr) == nil && fnErr.ErrorType != "" {
		tb.Fatalf("lambdatest: the function failed: %s: %s", fnErr.ErrorType, fnErr.ErrorMessage)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		tb.Fatalf("lambdatest: the response is not an API Gateway v2 response: %v: %s", err, payload)
	}
	return resp
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("lambdatest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// processDir returns this process's directory for built binaries, removing those left by test
// processes that have ended.
func processDir() (string, error) {
	base := filepath.Join(os.TempDir(), "lambdatest")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	entries, _ := os.ReadDir(base)
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(filepath.Join(base, ent.Name()))
		}
	}
	dir := filepath.Join(base, strconv.Itoa(os.Getpid()))
	return dir, os.MkdirAll(dir, 0o755)
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
