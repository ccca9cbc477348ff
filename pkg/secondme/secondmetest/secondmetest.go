// Package secondmetest is a fake SecondMe for tests, following docs/secondme-api.md to the letter: the
// authorize page at /oauth/, form-only token endpoints with every sign-in subCode, token expiry on a
// controllable clock, refresh with or without rotation, revocation, the envelope in its documented
// shapes, /api/auth/me, user info, shades (public and private fields), key memories, and
// POST /api/secondme/chat/stream with the SSE framing quirks selectable per test.
//
// Knob fields may be set between requests (not during one). Every request but the authorize page
// is recorded; Requests returns them so that tests can assert form bodies.
package secondmetest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// API paths of the fake.
const (
	PathAuthorize    = "/oauth/"
	PathTokenCode    = "/api/oauth/token/code"
	PathTokenRefresh = "/api/oauth/token/refresh"
	PathMe           = "/api/auth/me"
	PathUserInfo     = "/api/secondme/user/info"
	PathShades       = "/api/secondme/user/shades"
	PathKeyMemory    = "/api/secondme/memory/key/search"
	PathSoftMemory   = "/api/secondme/user/softmemory"
	PathChatStream   = "/api/secondme/chat/stream"
)

// Lifetimes of docs/secondme-api.md: code 5 minutes, access token 7 days, refresh token 365 days.
const (
	CodeTTL    = 5 * time.Minute
	AccessTTL  = 7 * 24 * time.Hour
	RefreshTTL = 365 * 24 * time.Hour
)

// TokenStyle is the shape of a token answer.
type TokenStyle int

// Token answer shapes docs/secondme-api.md says to accept.
const (
	TokenCamel     TokenStyle = iota // {"code":0,"data":{"accessToken":...}}
	TokenSnake                       // {"code":0,"data":{"access_token":...}}
	TokenBare                        // {"accessToken":...} without the envelope
	TokenBareSnake                   // {"access_token":...} without the envelope
)

// ErrorStyle is the shape of an error answer.
type ErrorStyle int

// Error answer shapes docs/secondme-api.md says to accept.
const (
	ErrorSubCode   ErrorStyle = iota // {"code":401,"message":"...","subCode":"..."}
	ErrorErrorCode                   // {"code":401,"message":"...","error_code":"..."} (older pages)
)

// Quirks select SSE framing quirks of POST /api/secondme/chat/stream (all of docs/secondme-api.md).
type Quirks struct {
	// CRLF ends lines with \r\n.
	CRLF bool
	// NoSpace writes "data:" without the space.
	NoSpace bool
	// SessionEvent sends the session event even when continuing a session (it is always sent when
	// the request creates one).
	SessionEvent bool
	// ToolEvents puts unknown tool_call and tool_result events between the deltas.
	ToolEvents bool
	// Comments puts ": keep-alive" comment lines between events.
	Comments bool
	// ErrorEvent ends the stream after ErrorAfter deltas with `event: error` {"code":500,...}.
	ErrorEvent bool
	// InStreamError ends the stream after ErrorAfter deltas with a data line {"code":500,...,"subCode":...}.
	InStreamError bool
	// ErrorAfter is how many deltas come before an error (default 1).
	ErrorAfter int
	// NoTrailingBlank ends the last event without its newline and blank line (the body ends on "[DONE]").
	NoTrailingBlank bool
	// SplitWrites writes the stream in 3-byte pieces, flushed one by one, so lines (and UTF-8
	// characters) arrive split across reads.
	SplitWrites bool
	// NoDone leaves out the final "data: [DONE]".
	NoDone bool
}

// User is a SecondMe account of the fake.
type User struct {
	UserID           string
	AppScopedUserID  string
	Name             string
	Email            string
	Avatar           string
	Bio              string
	SelfIntroduction string
	Shades           []Shade
	Memories         []Memory
}

// Shade is a shade as the API sends it (field names of docs/secondme-api.md).
type Shade struct {
	ID                              int64    `json:"id"`
	ShadeName                       string   `json:"shadeName"`
	ShadeIcon                       string   `json:"shadeIcon"`
	ConfidenceLevel                 string   `json:"confidenceLevel"`
	ShadeDescription                string   `json:"shadeDescription"`
	ShadeDescriptionThirdView       string   `json:"shadeDescriptionThirdView"`
	ShadeContent                    string   `json:"shadeContent"`
	ShadeContentThirdView           string   `json:"shadeContentThirdView"`
	SourceTopics                    []string `json:"sourceTopics"`
	ShadeNamePublic                 string   `json:"shadeNamePublic"`
	ShadeIconPublic                 string   `json:"shadeIconPublic"`
	ConfidenceLevelPublic           string   `json:"confidenceLevelPublic"`
	ShadeDescriptionPublic          string   `json:"shadeDescriptionPublic"`
	ShadeDescriptionThirdViewPublic string   `json:"shadeDescriptionThirdViewPublic"`
	ShadeContentPublic              string   `json:"shadeContentPublic"`
	ShadeContentThirdViewPublic     string   `json:"shadeContentThirdViewPublic"`
	SourceTopicsPublic              []string `json:"sourceTopicsPublic"`
	HasPublicContent                bool     `json:"hasPublicContent"`
}

// Memory is a key memory as the API sends it (times in epoch milliseconds).
type Memory struct {
	ID          int64  `json:"id"`
	FactActor   string `json:"factActor"`
	FactObject  string `json:"factObject"`
	FactContent string `json:"factContent"`
	CreateTime  int64  `json:"createTime"`
	UpdateTime  int64  `json:"updateTime"`
	Visibility  string `json:"visibility"`
}

// DefaultUser returns the account New registers: Ada, with public and private shade fields, one
// shade without public content (which the API never returns) and two key memories.
func DefaultUser() User {
	return User{
		UserID:           "2001",
		AppScopedUserID:  "asu_ada_7f3c",
		Name:             "Ada Example",
		Email:            "ada@example.com",
		Avatar:           "https://cdn.example.com/ada.png",
		Bio:              "Builds looms that compute.",
		SelfIntroduction: "I like engines, poetry and long walks.",
		Shades: []Shade{
			{
				ID: 11, ShadeName: "Engine tinkerer", ShadeIcon: "https://cdn.example.com/gear.png", ConfidenceLevel: "VERY_HIGH",
				ShadeDescription:          "I love taking machines apart.",
				ShadeDescriptionThirdView: "She loves taking machines apart.",
				ShadeContent:              "Private notes about my workshop at home.",
				ShadeContentThirdView:     "She keeps a workshop at home.",
				SourceTopics:              []string{"engineering", "mechanics", "workshop address"},
				ShadeNamePublic:           "Tinkerer", ShadeIconPublic: "https://cdn.example.com/gear.png", ConfidenceLevelPublic: "HIGH",
				ShadeDescriptionPublic:          "Enjoys machines.",
				ShadeDescriptionThirdViewPublic: "She enjoys machines.",
				ShadeContentPublic:              "Builds things.",
				ShadeContentThirdViewPublic:     "She builds things.",
				SourceTopicsPublic:              []string{"engineering", "mechanics"},
				HasPublicContent:                true,
			},
			{
				ID: 12, ShadeName: "Poet", ConfidenceLevel: "MEDIUM",
				ShadeDescription:       "I write verse at night.",
				SourceTopics:           []string{"poetry"},
				ShadeDescriptionPublic: "Writes poetry.",
				SourceTopicsPublic:     []string{"poetry"},
				HasPublicContent:       true,
			},
			{
				ID: 13, ShadeName: "Secret diary", ConfidenceLevel: "LOW",
				ShadeDescription: "Never shown: no public content.",
			},
		},
		Memories: []Memory{
			{ID: 501, FactActor: "user", FactObject: "Charles", FactContent: "Works with Charles on the engine.", CreateTime: 1767225600000, UpdateTime: 1767225600000, Visibility: "private"},
			{ID: 502, FactActor: "user", FactObject: "Verse", FactContent: "Writes a poem every Sunday.", CreateTime: 1767312000000, UpdateTime: 1767312000000, Visibility: "private"},
		},
	}
}

// Request is a recorded request.
type Request struct {
	Method      string
	Path        string
	Query       url.Values
	Header      http.Header
	ContentType string
	// Form is the parsed form of a form-encoded body.
	Form url.Values
	Body []byte
}

// Tokens are tokens the fake issued.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	ExpiresIn    time.Duration
}

type grant struct {
	userID    string
	expiresAt time.Time
	revoked   bool
}

type code struct {
	userID      string
	redirectURI string
	issuedAt    time.Time
	used        bool
}

type failure struct {
	status  int
	subCode string
}

// Server is the fake SecondMe, listening on 127.0.0.1.
type Server struct {
	// URL is the API base (and the host of the authorize page, URL + "/oauth/").
	URL string
	// ClientID and ClientSecret are the registered app's credentials; RedirectURL, when set, is the
	// only redirect_uri the authorize page accepts.
	ClientID     string
	ClientSecret string
	RedirectURL  string

	// AccessTTL and RefreshTTL are the lifetimes of new tokens (AccessTTL and RefreshTTL when zero).
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// RotateRefresh makes a refresh return a new refresh token and retire the old one (older docs);
	// by default the same one comes back (since March 2026).
	RotateRefresh bool
	// TokenStyle and ErrorStyle shape the answers.
	TokenStyle TokenStyle
	ErrorStyle ErrorStyle
	// DetailOnBadToken answers a refused bearer token with {"detail": "..."} and no code.
	DetailOnBadToken bool
	// ErrorsWithHTTP200 sends error envelopes with HTTP status 200 (the code field carries the status).
	ErrorsWithHTTP200 bool
	// OmitExpiresIn leaves expiresIn out of token answers.
	OmitExpiresIn bool
	// MeTopLevel puts appScopedUserId at the top level of /api/auth/me instead of in data.
	MeTopLevel bool
	// UserInfoIDKey names the id field of user info: "userId" (default), "id" or "user_id".
	UserInfoIDKey string
	// KeyMemoryMissing answers the newer key memory endpoint with 404 (the older one still works).
	KeyMemoryMissing bool
	// MemoryFail makes both memory endpoints fail with 500.
	MemoryFail bool
	// AutoApprove, when set, makes the authorize page approve at once as this user id, so that an
	// HTTP client following redirects completes a sign-in.
	AutoApprove string

	// ChatReply is what the chat stream answers ("Hello from your SecondMe." when empty).
	ChatReply string
	// ChatChunk is the number of characters per delta (4 when zero).
	ChatChunk int
	// ChatQuirks select framing quirks of the chat stream.
	ChatQuirks Quirks

	srv *httptest.Server

	mu       sync.Mutex
	now      time.Time
	users    map[string]User
	codes    map[string]*code
	access   map[string]*grant
	refresh  map[string]*grant
	sessions map[string]string // chat session id -> user id
	fail     map[string][]failure
	requests []Request
}

// New starts a fake SecondMe on 127.0.0.1 with DefaultUser registered, closed when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		ClientID:     "client_test",
		ClientSecret: "secret_test",
		now:          time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC),
		users:        map[string]User{},
		codes:        map[string]*code{},
		access:       map[string]*grant{},
		refresh:      map[string]*grant{},
		sessions:     map[string]string{},
		fail:         map[string][]failure{},
	}
	s.AddUser(DefaultUser())
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathAuthorize+"{$}", s.authorizePage)
	mux.HandleFunc("POST "+PathTokenCode, s.tokenCode)
	mux.HandleFunc("POST "+PathTokenRefresh, s.tokenRefresh)
	mux.HandleFunc("GET "+PathMe, s.me)
	mux.HandleFunc("GET "+PathUserInfo, s.userInfo)
	mux.HandleFunc("GET "+PathShades, s.shades)
	mux.HandleFunc("GET "+PathKeyMemory, s.memories)
	mux.HandleFunc("GET "+PathSoftMemory, s.memories)
	mux.HandleFunc("POST "+PathChatStream, s.chatStream)
	s.srv = httptest.NewServer(s.record(mux))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// AuthorizeURL is the authorize page of the fake.
func (s *Server) AuthorizeURL() string { return s.URL + PathAuthorize }

// AddUser registers (or replaces) an account.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.UserID] = u
}

// Now returns the fake's clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Advance moves the fake's clock forward (codes and tokens expire by it).
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

// FailNext makes the next request to path answer an error envelope with status and subCode,
// before any other check. Calls queue up.
func (s *Server) FailNext(path string, status int, subCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[path] = append(s.fail[path], failure{status: status, subCode: subCode})
}

// RevokeUser revokes the app for a user, as SecondMe does when they revoke it: their access tokens
// then answer oauth2.authorization.revoked and their refresh tokens oauth2.refresh_token.revoked.
func (s *Server) RevokeUser(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.access {
		if g.userID == userID {
			g.revoked = true
		}
	}
	for _, g := range s.refresh {
		if g.userID == userID {
			g.revoked = true
		}
	}
}

// RevokeRefreshToken revokes one refresh token.
func (s *Server) RevokeRefreshToken(rt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g, ok := s.refresh[rt]; ok {
		g.revoked = true
	}
}

// IssueTokens issues tokens for a user without the authorize page (for tests of API callers).
func (s *Server) IssueTokens(userID string) Tokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, rt := s.issueLocked(userID, "")
	return Tokens{AccessToken: at, RefreshToken: rt, ExpiresIn: s.accessTTL()}
}

// Requests returns the recorded requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsTo returns the recorded requests to one path.
func (s *Server) RequestsTo(path string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Approve acts as the person on the authorize page: it checks authURL as SecondMe would and
// approves as userID, returning the redirect_uri?code=lba_ac_...&state=... it sends the browser to.
func (s *Server) Approve(tb testing.TB, authURL, userID string) *url.URL {
	tb.Helper()
	u, err := s.Authorize(authURL, userID, true)
	if err != nil {
		tb.Fatalf("authorize page refused %s: %v", authURL, err)
	}
	return u
}

// Deny acts as the person refusing on the authorize page: it returns
// redirect_uri?error=access_denied&error_description=...&state=...
func (s *Server) Deny(tb testing.TB, authURL string) *url.URL {
	tb.Helper()
	u, err := s.Authorize(authURL, "", false)
	if err != nil {
		tb.Fatalf("authorize page refused %s: %v", authURL, err)
	}
	return u
}

// Authorize checks an authorize page URL (the query directly after /oauth/, all four parameters)
// and returns where the browser goes after the person approves (as userID) or denies.
func (s *Server) Authorize(authURL, userID string, approve bool) (*url.URL, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("parse authorize URL: %w", err)
	}
	if base := s.URL + PathAuthorize; u.Scheme+"://"+u.Host+u.Path != base {
		return nil, fmt.Errorf("authorize URL must be %s?..., got %s", base, u.Scheme+"://"+u.Host+u.Path)
	}
	return s.decide(u.Query(), userID, approve)
}

// decide validates the authorize parameters and builds the redirect.
func (s *Server) decide(q url.Values, userID string, approve bool) (*url.URL, error) {
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "state"} {
		if q.Get(k) == "" {
			return nil, fmt.Errorf("missing %s", k)
		}
	}
	if q.Get("client_id") != s.ClientID {
		return nil, fmt.Errorf("unknown client_id %q", q.Get("client_id"))
	}
	if q.Get("response_type") != "code" {
		return nil, fmt.Errorf("response_type must be code")
	}
	if s.RedirectURL != "" && q.Get("redirect_uri") != s.RedirectURL {
		return nil, fmt.Errorf("redirect_uri %q is not registered", q.Get("redirect_uri"))
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() {
		return nil, fmt.Errorf("redirect_uri is not an absolute URL")
	}
	out := redirect.Query()
	if approve {
		s.mu.Lock()
		_, known := s.users[userID]
		c := "lba_ac_" + randomHex(16)
		if known {
			s.codes[c] = &code{userID: userID, redirectURI: q.Get("redirect_uri"), issuedAt: s.now}
		}
		s.mu.Unlock()
		if !known {
			return nil, fmt.Errorf("no user %q", userID)
		}
		out.Set("code", c)
	} else {
		out.Set("error", "access_denied")
		out.Set("error_description", "The user denied the authorization request")
	}
	out.Set("state", q.Get("state"))
	redirect.RawQuery = out.Encode()
	return redirect, nil
}

// authorizePage serves GET /oauth/?...: an error page for a bad request, a redirect when a decision
// (decision=approve&user=ID or decision=deny) or AutoApprove is given, else a page with both choices.
func (s *Server) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	decision, user := q.Get("decision"), q.Get("user")
	if decision == "" && s.AutoApprove != "" {
		decision, user = "approve", s.AutoApprove
	}
	if decision == "" {
		if _, err := s.decide(q, "", false); err != nil {
			http.Error(w, "invalid authorization request: "+err.Error(), http.StatusBadRequest)
			return
		}
		approve, deny := url.Values{}, url.Values{}
		for k, v := range q {
			approve[k], deny[k] = v, v
		}
		approve.Set("decision", "approve")
		approve.Set("user", DefaultUser().UserID)
		deny.Set("decision", "deny")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Authorize</title><a href="?%s">Allow</a> <a href="?%s">Deny</a>`,
			approve.Encode(), deny.Encode())
		return
	}
	target, err := s.decide(q, user, decision == "approve")
	if err != nil {
		http.Error(w, "invalid authorization request: "+err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// record keeps every request but the authorize page, then serves it (failures queued by FailNext first).
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathAuthorize {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(),
			ContentType: r.Header.Get("Content-Type"), Body: body}
		if mt, _, _ := mime.ParseMediaType(rec.ContentType); mt == "application/x-www-form-urlencoded" {
			rec.Form, _ = url.ParseQuery(string(body))
		}
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		var f *failure
		if q := s.fail[r.URL.Path]; len(q) > 0 {
			f, s.fail[r.URL.Path] = &q[0], q[1:]
		}
		s.mu.Unlock()
		if f != nil {
			s.writeError(w, f.status, f.subCode, "forced failure")
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		next.ServeHTTP(w, r)
	})
}

// form checks that a token request is form-encoded (JSON is rejected) and has the fields.
func (s *Server) form(w http.ResponseWriter, r *http.Request, fields ...string) (url.Values, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		s.writeError(w, http.StatusBadRequest, "invalid.param", "the body must be application/x-www-form-urlencoded")
		return nil, false
	}
	if err := r.ParseForm(); err != nil {
		s.writeError(w, http.StatusBadRequest, "invalid.param", "malformed form body")
		return nil, false
	}
	for _, f := range fields {
		if r.PostForm.Get(f) == "" {
			s.writeError(w, http.StatusBadRequest, "invalid.param", f+" is required")
			return nil, false
		}
	}
	if r.PostForm.Get("client_id") != s.ClientID {
		s.writeError(w, http.StatusBadRequest, "invalid.param", "unknown client_id")
		return nil, false
	}
	if r.PostForm.Get("client_secret") != s.ClientSecret {
		s.writeError(w, http.StatusUnauthorized, "oauth2.client.secret_mismatch", "client secret mismatch")
		return nil, false
	}
	return r.PostForm, true
}

func (s *Server) tokenCode(w http.ResponseWriter, r *http.Request) {
	f, ok := s.form(w, r, "grant_type", "code", "redirect_uri", "client_id", "client_secret")
	if !ok {
		return
	}
	if f.Get("grant_type") != "authorization_code" {
		s.writeError(w, http.StatusBadRequest, "invalid.param", "grant_type must be authorization_code")
		return
	}
	s.mu.Lock()
	c, known := s.codes[f.Get("code")]
	var sub, msg string
	switch {
	case !known:
		sub, msg = "oauth2.code.invalid", "invalid authorization code"
	case c.used:
		sub, msg = "oauth2.code.used", "authorization code already used"
	case s.now.Sub(c.issuedAt) > CodeTTL:
		sub, msg = "oauth2.code.expired", "authorization code expired"
	case c.redirectURI != f.Get("redirect_uri"):
		sub, msg = "oauth2.redirect_uri.mismatch", "redirect_uri does not match the authorization request"
	}
	if sub != "" {
		s.mu.Unlock()
		s.writeError(w, http.StatusBadRequest, sub, msg)
		return
	}
	c.used = true
	at, rt := s.issueLocked(c.userID, "")
	s.mu.Unlock()
	s.writeToken(w, at, rt)
}

func (s *Server) tokenRefresh(w http.ResponseWriter, r *http.Request) {
	f, ok := s.form(w, r, "grant_type", "refresh_token", "client_id", "client_secret")
	if !ok {
		return
	}
	if f.Get("grant_type") != "refresh_token" {
		s.writeError(w, http.StatusBadRequest, "invalid.param", "grant_type must be refresh_token")
		return
	}
	old := f.Get("refresh_token")
	s.mu.Lock()
	g, known := s.refresh[old]
	var sub, msg string
	switch {
	case !known:
		sub, msg = "oauth2.refresh_token.invalid", "invalid refresh token"
	case g.revoked:
		sub, msg = "oauth2.refresh_token.revoked", "refresh token revoked"
	case !s.now.Before(g.expiresAt):
		sub, msg = "oauth2.refresh_token.expired", "refresh token expired"
	}
	if sub != "" {
		s.mu.Unlock()
		s.writeError(w, http.StatusUnauthorized, sub, msg)
		return
	}
	keep := old
	if s.RotateRefresh {
		delete(s.refresh, old)
		keep = ""
	}
	at, rt := s.issueLocked(g.userID, keep)
	s.mu.Unlock()
	s.writeToken(w, at, rt)
}

// issueLocked issues an access token and, unless keepRefresh is given, a refresh token.
func (s *Server) issueLocked(userID, keepRefresh string) (string, string) {
	at := "lba_at_" + randomHex(24)
	s.access[at] = &grant{userID: userID, expiresAt: s.now.Add(s.accessTTL())}
	rt := keepRefresh
	if rt == "" {
		rt = "lba_rt_" + randomHex(24)
		ttl := s.RefreshTTL
		if ttl == 0 {
			ttl = RefreshTTL
		}
		s.refresh[rt] = &grant{userID: userID, expiresAt: s.now.Add(ttl)}
	}
	return at, rt
}

func (s *Server) accessTTL() time.Duration {
	if s.AccessTTL > 0 {
		return s.AccessTTL
	}
	return AccessTTL
}

func (s *Server) writeToken(w http.ResponseWriter, at, rt string) {
	expires := int64(s.accessTTL() / time.Second)
	scope := []string{"userinfo", "memory.read", "chat.read", "chat.write"}
	var body map[string]any
	switch s.TokenStyle {
	case TokenSnake, TokenBareSnake:
		body = map[string]any{"access_token": at, "refresh_token": rt, "token_type": "Bearer", "expires_in": expires, "scope": scope}
		if s.OmitExpiresIn {
			delete(body, "expires_in")
		}
	default:
		body = map[string]any{"accessToken": at, "refreshToken": rt, "tokenType": "Bearer", "expiresIn": expires, "scope": scope}
		if s.OmitExpiresIn {
			delete(body, "expiresIn")
		}
	}
	if s.TokenStyle == TokenBare || s.TokenStyle == TokenBareSnake {
		writeJSON(w, http.StatusOK, body)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "message": "success", "data": body})
}

// bearer checks the access token of an API request and returns its user.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request) (User, bool) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g, known := s.access[tok]
	var sub, msg string
	switch {
	case tok == "" || !known:
		sub, msg = "oauth2.token.invalid", "invalid access token"
	case g.revoked:
		sub, msg = "oauth2.authorization.revoked", "the user revoked the authorization"
	case !s.now.Before(g.expiresAt):
		sub, msg = "oauth2.token.expired", "access token expired"
	}
	var u User
	if sub == "" {
		u = s.users[g.userID]
	}
	s.mu.Unlock()
	if sub != "" {
		if s.DetailOnBadToken {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": msg})
			return User{}, false
		}
		s.writeError(w, http.StatusUnauthorized, sub, msg)
		return User{}, false
	}
	return u, true
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u, ok := s.bearer(w, r)
	if !ok {
		return
	}
	data := map[string]any{"userId": u.UserID}
	if s.MeTopLevel {
		writeJSON(w, http.StatusOK, map[string]any{"code": 0, "data": data, "appScopedUserId": u.AppScopedUserID})
		return
	}
	if u.AppScopedUserID != "" {
		data["appScopedUserId"] = u.AppScopedUserID
	}
	writeData(w, data)
}

func (s *Server) userInfo(w http.ResponseWriter, r *http.Request) {
	u, ok := s.bearer(w, r)
	if !ok {
		return
	}
	key := s.UserInfoIDKey
	if key == "" {
		key = "userId"
	}
	writeData(w, map[string]any{
		key: u.UserID, "name": u.Name, "email": u.Email, "avatar": u.Avatar, "bio": u.Bio,
		"selfIntroduction": u.SelfIntroduction, "profileCompleteness": 7, "route": "ada",
		"cover": "", "hasVoice": false, "accountStatus": "normal",
	})
}

func (s *Server) shades(w http.ResponseWriter, r *http.Request) {
	u, ok := s.bearer(w, r)
	if !ok {
		return
	}
	out := []Shade{}
	for _, sh := range u.Shades {
		if sh.HasPublicContent { // only shades with public content are returned
			out = append(out, sh)
		}
	}
	writeData(w, map[string]any{"shades": out})
}

func (s *Server) memories(w http.ResponseWriter, r *http.Request) {
	u, ok := s.bearer(w, r)
	if !ok {
		return
	}
	if s.MemoryFail {
		s.writeError(w, http.StatusInternalServerError, "internal.error", "memory service failed")
		return
	}
	if s.KeyMemoryMissing && r.URL.Path == PathKeyMemory {
		s.writeError(w, http.StatusNotFound, "", "not found")
		return
	}
	size, err := strconv.Atoi(r.URL.Query().Get("pageSize"))
	if err != nil || size < 1 || size > 100 {
		s.writeError(w, http.StatusBadRequest, "invalid.param", "pageSize must be 1-100")
		return
	}
	list := u.Memories
	if len(list) > size {
		list = list[:size]
	}
	if list == nil {
		list = []Memory{}
	}
	writeData(w, map[string]any{"list": list, "total": len(u.Memories)})
}

// chatRequest is the body of POST /api/secondme/chat/stream.
type chatRequest struct {
	Message         string `json:"message"`
	SessionID       string `json:"sessionId"`
	AppID           string `json:"appId"`
	SystemPrompt    string `json:"systemPrompt"`
	Model           string `json:"model"`
	MaxTokens       *int   `json:"maxTokens"`
	EnableWebSearch bool   `json:"enableWebSearch"`
}

func (s *Server) chatStream(w http.ResponseWriter, r *http.Request) {
	u, ok := s.bearer(w, r)
	if !ok {
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.writeError(w, http.StatusBadRequest, "invalid.param", "the body must be JSON")
		return
	}
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.writeError(w, http.StatusBadRequest, "invalid.param", "malformed JSON")
		return
	}
	switch {
	case strings.TrimSpace(req.Message) == "":
		s.writeError(w, http.StatusBadRequest, "invalid.param", "message is required")
		return
	case req.Model != "" && req.Model != "secondme/nano" && req.Model != "secondme/pro":
		s.writeError(w, http.StatusUnprocessableEntity, "invalid.param", "unknown model "+req.Model)
		return
	case req.MaxTokens != nil && (*req.MaxTokens < 1 || *req.MaxTokens > 16000):
		s.writeError(w, http.StatusBadRequest, "invalid.param", "maxTokens must be 1-16000")
		return
	}
	s.mu.Lock()
	created := req.SessionID == ""
	var sub string
	if created {
		req.SessionID = "labs_sess_" + randomHex(12)
		s.sessions[req.SessionID] = u.UserID
	} else if owner, ok := s.sessions[req.SessionID]; !ok {
		sub = "secondme.session.not_found"
	} else if owner != u.UserID {
		sub = "secondme.session.unauthorized"
	}
	s.mu.Unlock()
	switch sub {
	case "secondme.session.not_found":
		s.writeError(w, http.StatusNotFound, sub, "session not found")
		return
	case "secondme.session.unauthorized":
		s.writeError(w, http.StatusForbidden, sub, "not your session")
		return
	}
	s.writeStream(w, req.SessionID, created)
}

// writeStream writes the reply as Server-Sent Events with the selected quirks.
func (s *Server) writeStream(w http.ResponseWriter, sessionID string, created bool) {
	q := s.ChatQuirks
	eol := "\n"
	if q.CRLF {
		eol = "\r\n"
	}
	data := "data: "
	if q.NoSpace {
		data = "data:"
	}
	var events []string
	event := func(lines ...string) { events = append(events, strings.Join(lines, eol)) }
	if created || q.SessionEvent {
		event("event: session", data+mustJSON(map[string]string{"sessionId": sessionID}))
	}
	reply := s.ChatReply
	if reply == "" {
		reply = "Hello from your SecondMe."
	}
	chunk := s.ChatChunk
	if chunk <= 0 {
		chunk = 4
	}
	errAfter := q.ErrorAfter
	if errAfter <= 0 {
		errAfter = 1
	}
	runes := []rune(reply)
	deltas := 0
	failed := false
	for i := 0; i < len(runes); i += chunk {
		if (q.ErrorEvent || q.InStreamError) && deltas == errAfter {
			failed = true
			break
		}
		piece := string(runes[i:min(i+chunk, len(runes))])
		event(data + mustJSON(map[string]any{"choices": []any{map[string]any{"delta": map[string]string{"content": piece}}}}))
		deltas++
		if q.Comments {
			event(": keep-alive")
		}
		if q.ToolEvents && deltas == 1 {
			event("event: tool_call", data+`{"id":"call_1","name":"web_search","arguments":"{\"q\":\"weather\"}"}`)
			event("event: tool_result", data+`{"id":"call_1","content":"sunny"}`)
		}
	}
	if (q.ErrorEvent || q.InStreamError) && !failed && deltas == errAfter {
		failed = true
	}
	switch {
	case failed && q.ErrorEvent:
		event("event: error", data+`{"code":500,"message":"stream interrupted"}`)
	case failed && q.InStreamError:
		event(data + `{"code":500,"message":"stream interrupted","subCode":"secondme.stream.error"}`)
	case !q.NoDone:
		event(data + "[DONE]")
	}
	var b strings.Builder
	for i, e := range events {
		b.WriteString(e)
		if i < len(events)-1 || !q.NoTrailingBlank {
			b.WriteString(eol + eol)
		}
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	out := b.String()
	step := len(out)
	if q.SplitWrites {
		step = 3
	}
	for i := 0; i < len(out); i += step {
		_, _ = io.WriteString(w, out[i:min(i+step, len(out))])
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// writeError writes an error envelope in the selected style.
func (s *Server) writeError(w http.ResponseWriter, status int, subCode, message string) {
	body := map[string]any{"code": status, "message": message}
	if subCode != "" {
		if s.ErrorStyle == ErrorErrorCode {
			body["error_code"] = subCode
		} else {
			body["subCode"] = subCode
		}
	}
	httpStatus := status
	if s.ErrorsWithHTTP200 {
		httpStatus = http.StatusOK
	}
	writeJSON(w, httpStatus, body)
}

func writeData(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, map[string]any{"code": 0, "data": data})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
