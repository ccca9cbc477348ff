package auth

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// Cookie names.
const (
	// SessionCookie holds the login session token.
	SessionCookie = "sm_session"
	// StateCookie holds the sealed login state while a sign-in is in progress.
	StateCookie = "sm_login"
	// statePath scopes the login-state cookie to the sign-in routes.
	statePath = "/api/auth"
)

// secureRequest reports whether cookies set on r get the Secure flag: always, except on plain http to
// a loopback host (the local stack). Behind API Gateway X-Forwarded-Proto says https.
func secureRequest(r *http.Request) bool {
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	return !loopbackHost(r.Host)
}

// loopbackHost reports whether host (with or without a port) is localhost or a loopback address.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// setCookie sets an HttpOnly, SameSite=Lax cookie, Secure unless the request is plain-http loopback.
func setCookie(w http.ResponseWriter, r *http.Request, name, value, path string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     path,
		MaxAge:   int(maxAge / time.Second),
		HttpOnly: true,
		Secure:   secureRequest(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie removes a cookie set by setCookie.
func clearCookie(w http.ResponseWriter, r *http.Request, name, path string) {
	http.SetCookie(w, &http.Cookie{
		Name:     name,
		Value:    "",
		Path:     path,
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   secureRequest(r),
		SameSite: http.SameSiteLaxMode,
	})
}
