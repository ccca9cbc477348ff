package main

import (
	"net/http"
	"time"
)

// serverTimeouts are the timeouts of the local HTTP server (http.Server's fields of the same names).
type serverTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// localTimeouts are the timeouts the local stack serves with. A request must arrive, headers and body,
// within read (a body trickled byte by byte is cut off); an answer must be written within write of the
// request's arrival, which covers a chat turn answered whole (its model deadline, CHAT_MODEL_TIMEOUT, is
// 60 s by default) while the chat stream moves its own write deadline on with each event (chatapi);
// a keep-alive connection is closed after idle without a request.
var localTimeouts = serverTimeouts{readHeader: 10 * time.Second, read: 20 * time.Second, write: 2 * time.Minute, idle: 30 * time.Second}

// newServer returns the local HTTP server of h with the timeouts t.
func newServer(h http.Handler, t serverTimeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.readHeader, ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle}
}
