// Package devserver is what the two stacks that run on this machine, make run (infra/local) and make
// gateway (infra/gateway), read alike: where they listen, where they keep their data, and the URL a
// browser uses to reach them.
package devserver

import (
	"fmt"
	"net"
	"strconv"
)

// Addr is where a stack listens: ADDR, else 127.0.0.1:PORT (PORT defaults to 8080; 0 picks a free port).
func Addr(getenv func(string) string) (string, error) {
	if a := getenv("ADDR"); a != "" {
		return a, nil
	}
	port := getenv("PORT")
	if port == "" {
		port = "8080"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("PORT %q is not a port number", port)
	}
	return net.JoinHostPort("127.0.0.1", port), nil
}

// DataDir is where a stack keeps its data: DATA_DIR, default ./.data.
func DataDir(getenv func(string) string) string {
	if d := getenv("DATA_DIR"); d != "" {
		return d
	}
	return ".data"
}

// BrowserURL is the http URL a browser on this machine uses for a listener: the loopback address
// when the listener is on every interface.
func BrowserURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}
