// Package apitest holds test helpers for route groups: a fake authenticator and request builders.
package apitest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/fault"
)

// UserHeader is the header HeaderAuth reads the signed-in user id from.
const UserHeader = "X-Test-User"

// HeaderAuth is a fake api.Authenticator for handler tests: the signed-in user is the X-Test-User header.
type HeaderAuth struct{}

var _ api.Authenticator = HeaderAuth{}

// Authenticate returns the X-Test-User header, or unauthenticated when it is missing.
func (HeaderAuth) Authenticate(w http.ResponseWriter, r *http.Request) (string, error) {
	if u := r.Header.Get(UserHeader); u != "" {
		return u, nil
	}
	return "", fault.Errorf(fault.CodeUnauthenticated, "sign in first")
}

// Origin is the public origin of the requests Request builds (httptest's host, example.com): wrap
// handlers under test with api.Edge{PublicURL: Origin}.
const Origin = "http://example.com"

// Request builds a same-origin JSON request as user (none when user is "").
func Request(method, target, user, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Origin", Origin)
	if user != "" {
		r.Header.Set(UserHeader, user)
	}
	return r
}
