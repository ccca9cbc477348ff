// Command fn is the gateway's test function. TEST_MODE picks what it is:
//   - "" (default): a buffered function whose event says what to do (see command);
//   - "stream": a Function URL handler in RESPONSE_STREAM mode (lambdaurl) that streams SSE events;
//   - "initerror": it reports an init error to the Runtime API and exits, as a runtime may.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-lambda-go/lambdaurl"
)

// command is the buffered function's event.
type command struct {
	SleepMs     int      `json:"sleepMs"`     // sleep before answering
	Fail        string   `json:"fail"`        // return this error
	Panic       bool     `json:"panic"`       // panic (the runtime reports it, then exits)
	Crash       bool     `json:"crash"`       // exit at once, without an answer
	AllocMB     int      `json:"allocMB"`     // hold this much memory, then sleep SleepMs
	Env         []string `json:"env"`         // report these variables
	StreamError bool     `json:"streamError"` // stream a part of the answer, then fail
}

func main() {
	fmt.Println("fn: init, pid", os.Getpid())
	switch os.Getenv("TEST_MODE") {
	case "stream":
		lambdaurl.Start(http.HandlerFunc(stream))
	case "initerror":
		api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
		body := `{"errorMessage":"TABLE_NAME is not set","errorType":"ConfigError"}`
		resp, err := http.Post("http://"+api+"/2018-06-01/runtime/init/error", "application/json", bytes.NewBufferString(body))
		if err == nil {
			resp.Body.Close()
		}
		os.Exit(1)
	default:
		lambda.Start(handle)
	}
}

func handle(ctx context.Context, c command) (io.Reader, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	fmt.Println("fn: invocation", lc.AwsRequestID)
	var hold []byte
	if c.AllocMB > 0 {
		hold = make([]byte, c.AllocMB<<20)
		for i := 0; i < len(hold); i += 4096 {
			hold[i] = 1
		}
	}
	if c.SleepMs > 0 {
		time.Sleep(time.Duration(c.SleepMs) * time.Millisecond)
	}
	switch {
	case c.Crash:
		os.Exit(3)
	case c.Panic:
		panic("fn: panic as asked")
	case c.Fail != "":
		return nil, errors.New(c.Fail)
	case c.StreamError:
		return io.MultiReader(bytes.NewBufferString("partial"), errReader{}), nil
	}
	env := map[string]string{}
	for _, k := range c.Env {
		env[k] = os.Getenv(k)
	}
	b, err := json.Marshal(map[string]any{
		"requestId": lc.AwsRequestID, "functionArn": lc.InvokedFunctionArn,
		"deadlineInMs": time.Until(deadline).Milliseconds(), "env": env, "held": len(hold),
		"pid": os.Getpid(),
	})
	return bytes.NewReader(b), err
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("the stream broke") }

// stream answers with n Server-Sent Events (the query's n, default 3), 150 ms apart, echoing the
// request's method, path, cookies and the header named by the query's header.
func stream(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n == 0 {
		n = 3
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Echo", r.Method+" "+r.URL.Path+" "+r.Header.Get(r.URL.Query().Get("header")))
	http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
	http.SetCookie(w, &http.Cookie{Name: "b", Value: "2"})
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "event: start\ndata: %s %d\n\n", body, len(r.Cookies()))
	for i := 1; i <= n; i++ {
		time.Sleep(150 * time.Millisecond)
		fmt.Fprintf(w, "data: %d\n\n", i)
	}
}
