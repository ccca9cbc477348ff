package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The Lambda Runtime API, as aws-lambda-go's runtime client speaks it (lambda/runtime_api_client.go).
const (
	runtimeAPIPrefix     = "/2018-06-01/runtime"
	headerRequestID      = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline       = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN    = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID        = "Lambda-Runtime-Trace-Id"
	headerResponseMode   = "Lambda-Runtime-Function-Response-Mode"
	headerErrorType      = "Lambda-Runtime-Function-Error-Type"
	trailerErrorType     = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody     = "Lambda-Runtime-Function-Error-Body"
	defaultMaxInstances  = 4
	initTimeout          = 10 * time.Second
	memoryCheckInterval  = 100 * time.Millisecond
	stopGrace            = 500 * time.Millisecond
	maxInvokePayload     = 6 << 20 // a synchronous invocation's request payload
	maxResponseErrorBody = 1 << 20
)

// FunctionError is a failed invocation, as Lambda reports it: the function's own error (from
// /error, or an error trailer of a streamed response), a crash, a timeout or too much memory.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Error types the gateway itself reports, as Lambda names them.
const (
	errTypeTimeout = "Sandbox.Timedout"
	errTypeExit    = "Runtime.ExitError"
	errTypeMemory  = "Runtime.OutOfMemory"
	errTypeStopped = "Runtime.Stopped"
)

// runtimeEnv is what every function's process sees besides the template's variables.
type runtimeEnv struct {
	DynamoEndpoint  string
	SQSEndpoint     string
	SecretsEndpoint string
	// Local are settings of this machine for every function, NAME=value, that the template does not
	// set (OFFLINE_PACE).
	Local []string
	// Logs receives the functions' output, each line prefixed with the function's name.
	Logs io.Writer
}

// pool runs one function's instances: a process each, started on first use (a cold start) and
// kept warm, at most max at once (its reserved concurrency); an invocation beyond waits for one.
type pool struct {
	fn        *Function
	bootstrap string
	env       runtimeEnv
	logs      *lineLogger
	slots     chan struct{} // one per instance busy or starting

	mu     sync.Mutex
	idle   []*instance
	live   map[*instance]bool
	cold   []time.Duration // each instance's cold start: process start to its first answer
	inits  []time.Duration // each instance's init: process start to its first call of /next
	closed bool
	seq    int
}

// newPool returns the pool of fn, whose bootstrap is the built binary.
func newPool(fn *Function, bootstrap string, env runtimeEnv) *pool {
	n := defaultMaxInstances
	if fn.Concurrency > 0 {
		n = fn.Concurrency
	}
	return &pool{
		fn: fn, bootstrap: bootstrap, env: env, slots: make(chan struct{}, n),
		logs: newLineLogger(env.Logs, fn.Name), live: map[*instance]bool{},
	}
}

// ColdStarts returns the cold start of every instance started so far, process start to first
// answer, in the order they happened.
func (p *pool) ColdStarts() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.cold)
}

// InitDurations returns the init of every instance started so far, process start to its first
// request for an event (what Lambda reports as Init Duration), in the order they happened.
func (p *pool) InitDurations() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.inits)
}

// Response is a function's answer being received: Body streams it as the function posts it. Close
// must be called; closing before the end lets the invocation run on, as Lambda does, with what is
// left discarded.
type Response struct {
	ContentType string
	// Streaming says whether the function declared Lambda-Runtime-Function-Response-Mode: streaming.
	Streaming bool
	Body      io.ReadCloser
}

// Invoke runs one invocation with the payload (the event's JSON) and returns the function's answer
// as it starts to arrive, or a *FunctionError. ctx bounds only the wait for a free instance: once
// the function has the event, it runs to its end or its timeout, as on Lambda.
func (p *pool) Invoke(ctx context.Context, payload []byte) (*Response, error) {
	if len(payload) > maxInvokePayload {
		return nil, &FunctionError{Type: "RequestTooLargeException", Message: fmt.Sprintf("request payload of %d bytes is over %d", len(payload), maxInvokePayload)}
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	for {
		in, err := p.instance()
		if err != nil {
			<-p.slots
			return nil, err
		}
		inv := &invocation{
			id: newRequestID(), payload: payload,
			delivered: make(chan struct{}), answer: make(chan *answer, 1),
		}
		resp, err := in.run(inv)
		if resp != nil {
			return resp, nil
		}
		if err != errNotDelivered {
			p.release(in)
			return nil, err
		}
		// A warm instance that went away between two invocations (a panic ends the process after
		// its answer): the event goes to a new instance, as Lambda would start one.
	}
}

// errNotDelivered says a warm instance exited before it took the event.
var errNotDelivered = errors.New("the instance exited before it took the event")

// instance returns an idle live instance, or starts one.
func (p *pool) instance() (*instance, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, &FunctionError{Type: errTypeStopped, Message: "the gateway is shutting down"}
	}
	for len(p.idle) > 0 {
		in := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if in.alive() {
			p.mu.Unlock()
			return in, nil
		}
	}
	p.seq++
	n := p.seq
	p.mu.Unlock()
	in, err := p.start(n)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		in.kill("")
		return nil, &FunctionError{Type: errTypeStopped, Message: "the gateway is shutting down"}
	}
	p.live[in] = true
	return in, nil
}

// release gives a slot back and keeps the instance warm if it still runs.
func (p *pool) release(in *instance) {
	p.mu.Lock()
	if in.alive() && !p.closed {
		p.idle = append(p.idle, in)
	}
	p.mu.Unlock()
	<-p.slots
}

// Close stops every instance: SIGTERM, then SIGKILL after a short grace. Invocations still running
// fail.
func (p *pool) Close() {
	p.mu.Lock()
	p.closed = true
	var all []*instance
	for in := range p.live {
		all = append(all, in)
	}
	p.idle = nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in.stop()
		}()
	}
	wg.Wait()
}

// instance is one execution environment: a process and the Runtime API it polls.
type instance struct {
	p       *pool
	name    string // function name and instance number, for logs
	cmd     *exec.Cmd
	ln      net.Listener
	srv     *http.Server
	started time.Time
	next    chan *invocation // the invocation /next hands out
	exited  chan struct{}    // closed when the process has exited

	mu       sync.Mutex
	current  *invocation
	answered bool // the instance has answered once (its cold start is recorded)
	polled   bool // the instance has asked for an event once (its init is recorded)
	reason   *FunctionError
	initErr  *FunctionError
}

// invocation is one event on its way through an instance.
type invocation struct {
	id        string
	payload   []byte
	deadline  time.Time
	delivered chan struct{} // closed when /next has handed the event to the function
	answer    chan *answer  // the function's /response or /error
}

// answer is what the function posted for an invocation.
type answer struct {
	err         *FunctionError
	body        io.Reader   // a response's body, read while the function posts it
	trailer     http.Header // the response's trailers, complete once body is at EOF
	contentType string
	streaming   bool
	done        chan struct{} // closed by the reader when it is finished with body
}

// start launches a new instance's process with its own Runtime API.
func (p *pool) start(n int) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API for %s: %w", p.fn.Name, err)
	}
	in := &instance{
		p: p, name: fmt.Sprintf("%s#%d", p.fn.Name, n), ln: ln,
		next: make(chan *invocation), exited: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"/invocation/next", in.handleNext)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/response", in.handleResponse)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/error", in.handleError)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/init/error", in.handleInitError)
	in.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	in.started = time.Now() // before Serve: handleNext reads it
	go func() { _ = in.srv.Serve(ln) }()

	in.cmd = exec.Command(p.bootstrap)
	in.cmd.Dir = filepath.Dir(p.bootstrap)
	in.cmd.Env = p.environ(ln.Addr().String())
	in.cmd.Stdout = p.logs
	in.cmd.Stderr = p.logs
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := in.cmd.Start(); err != nil {
		in.srv.Close()
		return nil, fmt.Errorf("start %s: %w", p.bootstrap, err)
	}
	go func() {
		err := in.cmd.Wait()
		in.mu.Lock()
		if in.reason == nil && err != nil {
			in.reason = &FunctionError{Type: errTypeExit, Message: "Runtime exited with error: " + err.Error()}
		} else if in.reason == nil {
			in.reason = &FunctionError{Type: errTypeExit, Message: "Runtime exited without providing a reason"}
		}
		in.mu.Unlock()
		close(in.exited)
		in.srv.Close()
		p.mu.Lock()
		delete(p.live, in)
		p.mu.Unlock()
	}()
	go in.watchMemory()
	return in, nil
}

// environ is an instance's environment: Lambda's variables, the local endpoints and the template's.
func (p *pool) environ(api string) []string {
	f := p.fn
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"TZ=:UTC",
		"LANG=en_US.UTF-8",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=" + filepath.Dir(p.bootstrap),
		"LAMBDA_RUNTIME_DIR=" + filepath.Dir(p.bootstrap),
		"AWS_LAMBDA_RUNTIME_API=" + api,
		"AWS_LAMBDA_FUNCTION_NAME=" + f.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(f.MemoryMB),
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + f.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=" + time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16),
		"AWS_LAMBDA_LOG_FORMAT=" + f.LogFormat,
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		"AWS_ACCESS_KEY_ID=gateway",
		"AWS_SECRET_ACCESS_KEY=gateway",
		"AWS_SESSION_TOKEN=gateway",
		"AWS_EC2_METADATA_DISABLED=true",
		"DYNAMO_ENDPOINT=" + p.env.DynamoEndpoint,
		"SQS_ENDPOINT=" + p.env.SQSEndpoint,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + p.env.SecretsEndpoint,
	}
	if f.LogLevel != "" {
		env = append(env, "AWS_LAMBDA_LOG_LEVEL="+f.LogLevel)
	}
	for _, kv := range p.env.Local {
		if k, _, _ := strings.Cut(kv, "="); f.Env[k] == "" {
			env = append(env, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(f.Env)) {
		env = append(env, k+"="+f.Env[k])
	}
	return env
}

// run hands inv to the instance and waits for the function's answer. A nil Response means the
// invocation is over (err says how) and the caller releases the instance; otherwise the Response's
// Close releases it.
func (in *instance) run(inv *invocation) (*Response, error) {
	initTimer := time.NewTimer(initTimeout)
	defer initTimer.Stop()
	select {
	case in.next <- inv:
	case <-in.exited:
		in.mu.Lock()
		warm := in.answered
		in.mu.Unlock()
		if warm {
			return nil, errNotDelivered
		}
		return nil, in.exitError()
	case <-initTimer.C:
		in.kill(errTypeTimeout)
		return nil, &FunctionError{Type: errTypeTimeout, Message: fmt.Sprintf("%s did not finish its init within %s", in.name, initTimeout)}
	}
	<-inv.delivered
	deadline := time.AfterFunc(time.Until(inv.deadline), func() { in.kill(errTypeTimeout) })
	select {
	case a := <-inv.answer:
		in.recordAnswer()
		if a.err != nil {
			deadline.Stop()
			in.finish(inv)
			return nil, a.err
		}
		return &Response{ContentType: a.contentType, Streaming: a.streaming, Body: &responseBody{in: in, inv: inv, a: a, deadline: deadline}}, nil
	case <-in.exited:
		deadline.Stop()
		select {
		case a := <-inv.answer: // a panic posts its error, then the process exits
			if a.err != nil {
				in.recordAnswer()
				return nil, a.err
			}
		default:
		}
		return nil, in.exitError()
	}
}

// finish marks the invocation over.
func (in *instance) finish(inv *invocation) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.current == inv {
		in.current = nil
	}
}

// recordAnswer records the instance's cold start at its first answer.
func (in *instance) recordAnswer() {
	in.mu.Lock()
	first := !in.answered
	in.answered = true
	in.mu.Unlock()
	if first {
		d := time.Since(in.started)
		in.p.mu.Lock()
		in.p.cold = append(in.p.cold, d)
		in.p.mu.Unlock()
		slog.Info("cold start", "instance", in.name, "ms", d.Milliseconds())
	}
}

// exitError is the error of an invocation whose process went away.
func (in *instance) exitError() *FunctionError {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.initErr != nil {
		return in.initErr
	}
	if in.reason != nil {
		return in.reason
	}
	return &FunctionError{Type: errTypeExit, Message: "Runtime exited"}
}

func (in *instance) alive() bool {
	select {
	case <-in.exited:
		return false
	default:
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.reason == nil
}

// kill ends the process group at once; reason (an error type) is what the invocation in flight
// reports.
func (in *instance) kill(reason string) {
	in.mu.Lock()
	if in.reason == nil {
		switch reason {
		case errTypeTimeout:
			in.reason = in.timeoutErrorLocked()
		case errTypeMemory:
			in.reason = &FunctionError{Type: errTypeMemory, Message: fmt.Sprintf("Runtime exited: the function used more than its %d MB", in.p.fn.MemoryMB)}
		default:
			in.reason = &FunctionError{Type: errTypeStopped, Message: "the instance was stopped"}
		}
	}
	in.mu.Unlock()
	if in.cmd.Process != nil {
		_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
	}
}

func (in *instance) timeoutErrorLocked() *FunctionError {
	return &FunctionError{Type: errTypeTimeout, Message: fmt.Sprintf("Task timed out after %.2f seconds", in.p.fn.Timeout.Seconds())}
}

// stop asks the process to end (SIGTERM), then kills it after stopGrace.
func (in *instance) stop() {
	if in.cmd.Process != nil {
		_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGTERM)
	}
	select {
	case <-in.exited:
	case <-time.After(stopGrace):
		in.kill("")
		<-in.exited
	}
}

// watchMemory kills the instance when its resident memory exceeds the function's MemorySize.
func (in *instance) watchMemory() {
	limit := int64(in.p.fn.MemoryMB) << 20
	t := time.NewTicker(memoryCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-in.exited:
			return
		case <-t.C:
			rss, err := residentBytes(in.cmd.Process.Pid)
			if err != nil {
				continue
			}
			if rss > limit {
				slog.Warn("function instance over its memory size: killed", "instance", in.name,
					"rss_mb", rss>>20, "memory_size_mb", in.p.fn.MemoryMB)
				in.kill(errTypeMemory)
				return
			}
		}
	}
}

// residentBytes reads a process's resident set size (VmRSS) from /proc.
func residentBytes(pid int) (int64, error) { return procStatusBytes(pid, "VmRSS") }

// procStatusBytes reads a size field of a process's /proc status: VmRSS, or VmHWM (its peak).
func procStatusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(v)
			if len(f) == 2 && f[1] == "kB" {
				n, err := strconv.ParseInt(f[0], 10, 64)
				return n << 10, err
			}
		}
	}
	return 0, errors.New("no " + field)
}

// PeakResident returns the largest peak resident set size (VmHWM) of the pool's live instances, as
// Lambda's REPORT line gives it (Max Memory Used); 0 where /proc cannot tell.
func (p *pool) PeakResident() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var peak int64
	for in := range p.live {
		if in.cmd.Process != nil {
			if n, err := procStatusBytes(in.cmd.Process.Pid, "VmHWM"); err == nil {
				peak = max(peak, n)
			}
		}
	}
	return peak
}

// handleNext hands the function its next event, waiting for one as long as it takes.
func (in *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	in.mu.Lock()
	first := !in.polled
	in.polled = true
	in.mu.Unlock()
	if first {
		d := time.Since(in.started)
		in.p.mu.Lock()
		in.p.inits = append(in.p.inits, d)
		in.p.mu.Unlock()
	}
	var inv *invocation
	select {
	case inv = <-in.next:
	case <-r.Context().Done():
		return
	case <-in.exited:
		return
	}
	in.mu.Lock()
	in.current = inv
	in.mu.Unlock()
	inv.deadline = time.Now().Add(in.p.fn.Timeout)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(headerRequestID, inv.id)
	h.Set(headerDeadline, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(headerFunctionARN, "arn:aws:lambda:"+region+":"+accountID+":function:"+in.p.fn.Name)
	h.Set(headerTraceID, traceID())
	close(inv.delivered)
	_, _ = w.Write(inv.payload)
}

// invocationOf returns the invocation in flight with the id, or nil after writing the error.
func (in *instance) invocationOf(w http.ResponseWriter, r *http.Request) *invocation {
	in.mu.Lock()
	inv := in.current
	in.mu.Unlock()
	if inv == nil || inv.id != r.PathValue("id") {
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight has the id "+r.PathValue("id"))
		return nil
	}
	return inv
}

// handleResponse passes the function's response to the invoker while the function posts it (a
// streamed response arrives in chunks, its errors in trailers), and acknowledges it once read.
func (in *instance) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv := in.invocationOf(w, r)
	if inv == nil {
		return
	}
	a := &answer{
		body: r.Body, trailer: r.Trailer, contentType: r.Header.Get("Content-Type"),
		streaming: strings.EqualFold(r.Header.Get(headerResponseMode), "streaming"), done: make(chan struct{}),
	}
	select {
	case inv.answer <- a:
	default:
		writeRuntimeError(w, http.StatusBadRequest, "InvalidStateTransition", "the invocation has an answer already")
		return
	}
	select {
	case <-a.done:
	case <-in.exited:
		return
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// handleError reports the invocation failed with the function's error.
func (in *instance) handleError(w http.ResponseWriter, r *http.Request) {
	inv := in.invocationOf(w, r)
	if inv == nil {
		return
	}
	fe := readFunctionError(r)
	select {
	case inv.answer <- &answer{err: fe}:
	default:
		writeRuntimeError(w, http.StatusBadRequest, "InvalidStateTransition", "the invocation has an answer already")
		return
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// handleInitError records that the function failed to initialize; the invocation waiting for it
// fails with that error once the process exits.
func (in *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	fe := readFunctionError(r)
	in.mu.Lock()
	in.initErr = fe
	in.mu.Unlock()
	slog.Warn("function init failed", "instance", in.name, "err", fe)
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
	// Lambda ends the environment after an init error.
	go func() {
		select {
		case <-in.exited:
		case <-time.After(stopGrace):
			in.kill("")
		}
	}()
}

// readFunctionError reads an error the function posted: {"errorMessage", "errorType"}.
func readFunctionError(r *http.Request) *FunctionError {
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxResponseErrorBody))
	fe := &FunctionError{}
	if err := json.Unmarshal(b, fe); err != nil || (fe.Type == "" && fe.Message == "") {
		fe = &FunctionError{Type: "Unhandled", Message: strings.TrimSpace(string(b))}
	}
	if t := r.Header.Get(headerErrorType); t != "" && fe.Type == "" {
		fe.Type = t
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	return fe
}

func writeRuntimeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(FunctionError{Type: typ, Message: msg})
}

// responseBody reads a function's response while it arrives. At the end it reports an error the
// function put in the trailers; past the deadline the instance is killed and Read fails.
type responseBody struct {
	in       *instance
	inv      *invocation
	a        *answer
	deadline *time.Timer // kills the instance at the invocation's deadline
	once     sync.Once
	err      error // the error or io.EOF that ended the body
}

func (b *responseBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.a.body.Read(p)
	switch {
	case err == io.EOF:
		b.err = io.EOF
		if t := b.a.trailer.Get(trailerErrorType); t != "" {
			b.err = trailerError(t, b.a.trailer.Get(trailerErrorBody))
			return n, b.err
		}
	case err != nil:
		// The process went away mid-response: killed at its deadline or its memory limit, or crashed.
		select {
		case <-b.in.exited:
		case <-time.After(time.Second):
		}
		b.err = b.in.exitError()
		return n, b.err
	}
	return n, err
}

// trailerError decodes the error trailers aws-lambda-go sends when a streamed response fails.
func trailerError(typ, body string) *FunctionError {
	fe := &FunctionError{Type: typ}
	if b, err := base64.StdEncoding.DecodeString(body); err == nil {
		var e FunctionError
		if json.Unmarshal(b, &e) == nil && e.Message != "" {
			fe.Message = e.Message
		}
	}
	if fe.Message == "" {
		fe.Message = "the function failed while streaming its response"
	}
	return fe
}

// Close ends the invocation: what the function still sends is read and discarded in the background
// (the function runs to its end or its deadline, as on Lambda), then the instance goes back to the
// pool.
func (b *responseBody) Close() error {
	b.once.Do(func() {
		end := func() {
			b.deadline.Stop()
			close(b.a.done)
			b.in.finish(b.inv)
			b.in.p.release(b.in)
		}
		if b.err != nil {
			end()
			return
		}
		go func() {
			_, _ = io.Copy(io.Discard, readerFunc(b.Read))
			end()
		}()
	})
	return nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// lineLogger writes a function's output to the gateway's log, line by line, each prefixed with the
// function's name.
type lineLogger struct {
	mu     sync.Mutex
	out    io.Writer
	prefix []byte
	buf    bytes.Buffer
}

// logMu keeps lines of different functions from interleaving.
var logMu sync.Mutex

func newLineLogger(out io.Writer, name string) *lineLogger {
	return &lineLogger{out: out, prefix: []byte(name + " | ")}
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	var out bytes.Buffer
	for {
		line, err := l.buf.ReadBytes('\n')
		if err != nil {
			l.buf.Write(line) // an unfinished line waits for its end
			break
		}
		out.Write(l.prefix)
		out.Write(line)
	}
	if out.Len() > 0 {
		logMu.Lock()
		_, _ = l.out.Write(out.Bytes())
		logMu.Unlock()
	}
	return len(p), nil
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func traceID() string {
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), randomHex(12), randomHex(8))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
