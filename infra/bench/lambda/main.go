// Command lambda prints the Lambda section of docs/benchmarks.md: the size of every function's
// bootstrap as deployed (linux/arm64, stripped), and the cold start of one function under the Lambda
// Runtime Interface Emulator: the time from starting the emulator process to the first successful
// answer to a GET /api/health event, median of several runs, on this machine's own architecture.
//
// Run it from the repository root: go run ./infra/bench/lambda [-cold ./functions/users] [-runs 5].
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/secondme/twin/pkg/awstest"
)

// maxSize is the target size of a bootstrap, 15 MB.
const maxSize = 15_000_000

// healthEvent is an API Gateway v2 event for GET /api/health, as the edge forwards it (with the edge
// secret of the application secret).
const healthEvent = `{"version":"2.0","routeKey":"GET /api/health","rawPath":"/api/health","rawQueryString":"",
"headers":{"accept":"application/json","host":"bench.execute-api.us-east-1.amazonaws.com","x-origin-verify":"bench-edge-secret"},
"requestContext":{"accountId":"123456789012","apiId":"bench","domainName":"bench.execute-api.us-east-1.amazonaws.com",
"http":{"method":"GET","path":"/api/health","protocol":"HTTP/1.1","sourceIp":"203.0.113.10","userAgent":"bench"},
"requestId":"bench","routeKey":"GET /api/health","stage":"$default","time":"12/Mar/2024:18:20:50 +0000","timeEpoch":1710267650123},
"isBase64Encoded":false}`

// functionEnv is what the cold-start function is given: resources a health check never reaches
// (127.0.0.1:9 refuses connections), and the application secret, which functions read at init from
// secretsManager.
func functionEnv(secretsManager string) []string {
	return []string{
		"TABLE_NAME=bench",
		"DYNAMO_ENDPOINT=http://127.0.0.1:9",
		"COMPAT_QUEUE_URL=http://127.0.0.1:9/000000000000/compat",
		"SQS_ENDPOINT=http://127.0.0.1:9",
		"SECRETS_ARN=" + benchSecretARN,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + secretsManager,
		"PUBLIC_URL=https://bench.example",
	}
}

// benchSecretARN is the application secret the function reads at init.
const benchSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bench"

// fakeSecretsManager serves the application secret, holding a sealing key and the edge secret, from a
// Secrets Manager fake on 127.0.0.1.
func fakeSecretsManager() *httptest.Server {
	secret, _ := json.Marshal(map[string]string{"sealingKey": strings.Repeat("ab", 32), "originVerify": "bench-edge-secret"})
	return httptest.NewServer(awstest.NewSecrets(map[string]string{benchSecretARN: string(secret)}))
}

func main() {
	cold := flag.String("cold", "./functions/users", "the function whose cold start is measured")
	runs := flag.Int("runs", 5, "cold starts to take the median of")
	flag.Parse()
	if err := run(*cold, *runs, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench lambda:", err)
		os.Exit(1)
	}
}

func run(cold string, runs int, w io.Writer) error {
	tmp, err := os.MkdirTemp("", "bench-lambda-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintln(w, "## Lambda functions")
	fmt.Fprintln(w)
	if err := sizes(tmp, w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return coldStarts(tmp, cold, runs, w)
}

// sizes builds every functions/<name> as deployed and prints a table of their sizes.
func sizes(tmp string, w io.Writer) error {
	mains, err := filepath.Glob("functions/*/main.go")
	if err != nil || len(mains) == 0 {
		return fmt.Errorf("no functions/*/main.go here (run from the repository root): %v", err)
	}
	fmt.Fprintln(w, "Bootstrap size per function, built as deployed: linux/arm64, CGO_ENABLED=0, -tags lambda.norpc,grpcnotrace, -trimpath, -ldflags \"-s -w\". Target: 15 MB or less.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| function | bootstrap | target ≤ 15 MB |")
	fmt.Fprintln(w, "|---|---:|:---:|")
	for _, m := range mains {
		dir := filepath.Dir(m)
		out := filepath.Join(tmp, "arm64", filepath.Base(dir), "bootstrap")
		if err := build("./"+dir, out, "linux", "arm64"); err != nil {
			return err
		}
		fi, err := os.Stat(out)
		if err != nil {
			return err
		}
		verdict := "yes"
		if fi.Size() > maxSize {
			verdict = "**no**"
		}
		fmt.Fprintf(w, "| %s | %.1f MB (%d bytes) | %s |\n", filepath.Base(dir), float64(fi.Size())/1e6, fi.Size(), verdict)
	}
	return nil
}

// build compiles pkg like the Makefile's Lambda build, for goos/goarch.
func build(pkg, out, goos, goarch string) error {
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc,grpcnotrace", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s for %s/%s: %v\n%s", pkg, goos, goarch, err, msg)
	}
	return nil
}

// coldStarts measures the cold start of pkg under the emulator runs times and prints the median.
func coldStarts(tmp, pkg string, runs int, w io.Writer) error {
	boot := filepath.Join(tmp, "native", filepath.Base(pkg), "bootstrap")
	if err := build(pkg, boot, runtime.GOOS, runtime.GOARCH); err != nil {
		return err
	}
	rie, err := emulator()
	if err != nil {
		return err
	}
	sm := fakeSecretsManager()
	defer sm.Close()
	env := functionEnv(sm.URL)
	var total []time.Duration
	for i := range runs {
		d, err := coldStart(rie, boot, env)
		if err != nil {
			return fmt.Errorf("cold start %d of %s: %w", i+1, pkg, err)
		}
		total = append(total, d)
	}
	warm, err := warmInvokes(rie, boot, env, 200)
	if err != nil {
		return fmt.Errorf("warm invokes of %s: %w", pkg, err)
	}
	fmt.Fprintf(w, "Cold start of `%s` under the Lambda Runtime Interface Emulator on this machine (%s/%s): from starting the emulator process to the first successful response to a GET /api/health event; median of %d runs. The emulator starts the function at the first invocation, as Lambda does; its init reads the application secret from a Secrets Manager fake on 127.0.0.1.\n",
		strings.TrimPrefix(pkg, "./"), runtime.GOOS, runtime.GOARCH, runs)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| measure | median | min | max |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	row := func(name string, ds []time.Duration) {
		slices.Sort(ds)
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, ms(ds[len(ds)/2]), ms(ds[0]), ms(ds[len(ds)-1]))
	}
	row("process start → first 200 (cold start)", total)
	row(fmt.Sprintf("warm invocation, %d in a row (round trip through the emulator)", len(warm)), warm)
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// emulator returns the aws-lambda-rie binary: RIE_BIN, else the Go tool built into the build cache.
func emulator() (string, error) {
	if p := os.Getenv("RIE_BIN"); p != "" {
		return p, nil
	}
	out, err := exec.Command("go", "tool", "-n", "aws-lambda-rie").Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n aws-lambda-rie: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// emu is a running emulator.
type emu struct {
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan struct{}
}

// syncBuffer is a bytes.Buffer safe for the emulator's output copier and the reader.
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

// start runs the emulator for boot on free ports.
func start(rie, boot string, env []string) (*emu, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runtimeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	e := &emu{url: "http://" + addr + "/2015-03-31/functions/function/invocations", logs: &syncBuffer{}, done: make(chan struct{})}
	e.cmd = exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", runtimeAddr, boot)
	e.cmd.Dir = filepath.Dir(boot)
	e.cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"AWS_LAMBDA_FUNCTION_NAME=" + filepath.Base(filepath.Dir(boot)),
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench", "AWS_EC2_METADATA_DISABLED=true",
	}, env...)
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := e.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = e.cmd.Wait(); close(e.done) }()
	return e, nil
}

func (e *emu) stop() {
	_ = e.cmd.Process.Signal(os.Interrupt)
	select {
	case <-e.done:
	case <-time.After(5 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
	}
}

// invoke posts the health event once; nil means the function answered 200.
func (e *emu) invoke(client *http.Client) error {
	resp, err := client.Post(e.url, "application/json", strings.NewReader(healthEvent))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var out struct {
		StatusCode int `json:"statusCode"`
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.StatusCode != http.StatusOK {
		return fmt.Errorf("emulator %s, function answered: %s", resp.Status, body)
	}
	return nil
}

// coldStart starts a fresh emulator and polls it with the health event until the first success.
func coldStart(rie, boot string, env []string) (time.Duration, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	t0 := time.Now()
	e, err := start(rie, boot, env)
	if err != nil {
		return 0, err
	}
	defer e.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		err := e.invoke(client)
		if err == nil {
			return time.Since(t0), nil
		}
		var opErr *net.OpError
		if !errors.As(err, &opErr) { // anything but "not listening yet" is a failure
			return 0, fmt.Errorf("%w\n%s", err, e.logs)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no answer within 30s\n%s", e.logs)
		case <-e.done:
			return 0, fmt.Errorf("the emulator exited\n%s", e.logs)
		case <-time.After(time.Millisecond):
		}
	}
}

// warmInvokes times n invocations of an already initialised function.
func warmInvokes(rie, boot string, env []string, n int) ([]time.Duration, error) {
	e, err := start(rie, boot, env)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	client := &http.Client{Timeout: 30 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if e.invoke(client) == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no answer within 30s\n%s", e.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ds := make([]time.Duration, n)
	for i := range ds {
		t := time.Now()
		if err := e.invoke(client); err != nil {
			return nil, err
		}
		ds[i] = time.Since(t)
	}
	return ds, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
