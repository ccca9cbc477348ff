package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// short are timeouts scaled down for the tests: the same server, seconds instead of minutes.
var short = serverTimeouts{readHeader: 500 * time.Millisecond, read: time.Second, write: time.Second, idle: time.Second}

// serve runs newServer(h, t) on a free loopback port and returns its address.
func serve(tb testing.TB, h http.Handler, t serverTimeouts) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := newServer(h, t)
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// closedWithin reports whether the server closes conn within d: a read returns EOF or a reset (what
// the server wrote before, such as a 408, is read past).
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestSlowBodyIsCutOff trickles a request body one byte a second: the server closes the connection
// once the read timeout has passed, and the handler sees a failed read, not a body.
func TestSlowBodyIsCutOff(t *testing.T) {
	got := make(chan error, 1)
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		got <- err
	}), short)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/chat HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", addr)
	trickle := make(chan struct{})
	go func() {
		defer close(trickle)
		for range 100 {
			if _, err := conn.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(time.Second)
		}
	}()
	select {
	case err := <-got:
		if err == nil {
			t.Fatal("the handler read the whole trickled body")
		}
	case <-time.After(short.read + 5*time.Second):
		t.Fatalf("the body was still being read %v after the read timeout", 5*time.Second)
	}
	if !closedWithin(conn, 5*time.Second) {
		t.Error("the connection stayed open after the body was cut off")
	}
}

// TestIdleConnectionIsClosed leaves a keep-alive connection idle after one request: the server closes
// it once the idle timeout has passed.
func TestIdleConnectionIsClosed(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), short)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/health HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	began := time.Now()
	if !closedWithin(conn, short.idle+5*time.Second) {
		t.Fatalf("an idle keep-alive connection was still open after %v", short.idle+5*time.Second)
	}
	if d := time.Since(began); d < short.idle/2 {
		t.Errorf("the idle connection was closed after %v, before the idle timeout %v", d, short.idle)
	}
}

// TestSlowHandlerKeepsItsRequest runs a handler for several read timeouts after it read its body (a
// chat turn waiting for its model): the request's context is not cancelled and the answer arrives.
// (net/http keeps reading the connection while a handler runs; a read deadline left in place would end
// that read, and with it the request's context.)
func TestSlowHandlerKeepsItsRequest(t *testing.T) {
	addr := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-r.Context().Done():
			http.Error(w, "cancelled", http.StatusServiceUnavailable)
		case <-time.After(2 * short.read):
			io.WriteString(w, "done")
		}
	}), serverTimeouts{readHeader: short.readHeader, read: short.read, write: 10 * short.read, idle: short.idle})
	res, err := http.Post("http://"+addr+"/api/chat", "application/json", strings.NewReader(`{"message":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || string(body) != "done" {
		t.Errorf("got %d %q, want 200 done", res.StatusCode, body)
	}
}

func TestLocalTimeouts(t *testing.T) {
	lt := localTimeouts
	if lt.readHeader <= 0 || lt.read <= 0 || lt.write <= 0 || lt.idle <= 0 {
		t.Fatalf("a timeout is not set: %+v", lt)
	}
	// A trickled body or an idle connection must not hold a connection for long, and a chat turn
	// answered without streaming (up to CHAT_MODEL_TIMEOUT, 60 s by default) must be written.
	if lt.read > 30*time.Second || lt.idle > 30*time.Second || lt.write < 90*time.Second {
		t.Errorf("timeouts %+v: want read and idle at most 30s, write at least 90s", lt)
	}
}
