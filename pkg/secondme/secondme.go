// Package secondme is a client for the SecondMe API as docs/secondme-api.md describes it: the OAuth2
// authorization code flow (form-encoded token requests), the tolerant envelope, the app-scoped
// identity, the user's profile, shades and key memories. Answers of every documented shape are
// accepted; failures come back as *Error with the subCode, and predicates tell them apart.
package secondme

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Default hosts (docs/secondme-api.md, Hosts).
const (
	DefaultBaseURL      = "https://api.mindverse.com/gate/lab"
	DefaultAuthorizeURL = "https://go.second.me/oauth/"
)

// maxResponse bounds what is read of one answer.
const maxResponse = 1 << 20

// Config configures a Client.
type Config struct {
	// BaseURL is the API base (DefaultBaseURL when empty).
	BaseURL string
	// AuthorizeURL is the authorize page; the query follows it directly (DefaultAuthorizeURL when empty).
	AuthorizeURL string
	// ClientID, ClientSecret and RedirectURL are the app's OAuth2 credentials and callback.
	ClientID     string
	ClientSecret string
	RedirectURL  string
	// HTTPClient makes the calls (a client with a 15 s timeout when nil).
	HTTPClient *http.Client
	// MaxAttempts bounds the tries of one call on 429 and 5xx (3 when zero; 1 disables retries).
	MaxAttempts int
	// BaseDelay and MaxDelay shape the exponential backoff with full jitter (250 ms and 2 s when zero).
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// Client calls the SecondMe API. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a client for cfg, filling in the defaults.
func New(cfg Config) *Client {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.AuthorizeURL == "" {
		cfg.AuthorizeURL = DefaultAuthorizeURL
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = 250 * time.Millisecond
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 2 * time.Second
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{cfg: cfg, http: hc}
}

// BaseURL returns the API base the client calls.
func (c *Client) BaseURL() string { return c.cfg.BaseURL }

// Token is the answer of the token endpoints. Its String and LogValue never show the tokens.
type Token struct {
	AccessToken  string
	RefreshToken string
	TokenType    string
	// ExpiresIn is the access token's lifetime (zero when SecondMe did not say).
	ExpiresIn time.Duration
	Scope     []string
}

// String describes the token without its secrets.
func (t Token) String() string {
	return fmt.Sprintf("secondme.Token{type=%s expiresIn=%s scope=%v, tokens redacted}", t.TokenType, t.ExpiresIn, t.Scope)
}

// GoString is String, so that %#v does not print the secrets either.
func (t Token) GoString() string { return t.String() }

// LogValue keeps the secrets out of slog.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", t.TokenType), slog.Duration("expires_in", t.ExpiresIn),
		slog.Any("scope", t.Scope), slog.String("tokens", "redacted"))
}

// Me is the app-scoped identity of GET /api/auth/me.
type Me struct {
	AppScopedUserID string
	UserID          string
}

// Subject is the identity subject: the appScopedUserId when present, else the userId.
func (m Me) Subject() string {
	if m.AppScopedUserID != "" {
		return m.AppScopedUserID
	}
	return m.UserID
}

// UserInfo is the profile of GET /api/secondme/user/info.
type UserInfo struct {
	UserID           string
	Name             string
	Email            string
	Avatar           string
	Bio              string
	SelfIntroduction string
	// ProfileCompleteness is 0-100 in older answers, a 0-10 level in newer ones.
	ProfileCompleteness float64
	Route               string
	Cover               string
	HasVoice            bool
	AccountStatus       string
}

// Shade is one shade of GET /api/secondme/user/shades with its private and public fields.
type Shade struct {
	ID                         string
	Name                       string
	Icon                       string
	ConfidenceLevel            string
	Description                string
	DescriptionThirdView       string
	Content                    string
	ContentThirdView           string
	SourceTopics               []string
	NamePublic                 string
	IconPublic                 string
	ConfidenceLevelPublic      string
	DescriptionPublic          string
	DescriptionThirdViewPublic string
	ContentPublic              string
	ContentThirdViewPublic     string
	SourceTopicsPublic         []string
	HasPublicContent           bool
}

// Memory is one key memory (or older soft memory).
type Memory struct {
	ID         string
	Actor      string
	Object     string
	Content    string
	Visibility string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AuthCodeURL returns the authorize page URL for state: `{authorize}?client_id=&redirect_uri=&response_type=code&state=`.
func (c *Client) AuthCodeURL(state string) string {
	q := url.Values{
		"client_id":     {c.cfg.ClientID},
		"redirect_uri":  {c.cfg.RedirectURL},
		"response_type": {"code"},
		"state":         {state},
	}
	sep := "?"
	if strings.Contains(c.cfg.AuthorizeURL, "?") {
		sep = "&"
	}
	return c.cfg.AuthorizeURL + sep + q.Encode()
}

// ExchangeCode trades an authorization code for tokens (POST /api/oauth/token/code, form body).
// Refusals come back as *Error (IsCodeInvalid, IsMisconfigured).
func (c *Client) ExchangeCode(ctx context.Context, code string) (Token, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {c.cfg.RedirectURL},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
	}
	status, body, err := c.do(ctx, http.MethodPost, "/api/oauth/token/code", form, "")
	if err != nil {
		return Token{}, fmt.Errorf("exchange code: %w", err)
	}
	t, err := DecodeToken(status, body)
	if err != nil {
		return Token{}, fmt.Errorf("exchange code: %w", err)
	}
	return t, nil
}

// Refresh trades a refresh token for new tokens (POST /api/oauth/token/refresh, form body). The
// answer may carry the same refresh token, a new one, or none. Refusals come back as *Error
// (IsRefreshInvalid).
func (c *Client) Refresh(ctx context.Context, refreshToken string) (Token, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
	}
	status, body, err := c.do(ctx, http.MethodPost, "/api/oauth/token/refresh", form, "")
	if err != nil {
		return Token{}, fmt.Errorf("refresh token: %w", err)
	}
	t, err := DecodeToken(status, body)
	if err != nil {
		return Token{}, fmt.Errorf("refresh token: %w", err)
	}
	return t, nil
}

// Me returns the app-scoped identity of the token's owner (GET /api/auth/me).
func (c *Client) Me(ctx context.Context, accessToken string) (Me, error) {
	status, body, err := c.do(ctx, http.MethodGet, "/api/auth/me", nil, accessToken)
	if err != nil {
		return Me{}, fmt.Errorf("get identity: %w", err)
	}
	m, err := decodeMe(status, body)
	if err != nil {
		return Me{}, fmt.Errorf("get identity: %w", err)
	}
	return m, nil
}

// UserInfo returns the token owner's profile (GET /api/secondme/user/info).
func (c *Client) UserInfo(ctx context.Context, accessToken string) (UserInfo, error) {
	status, body, err := c.do(ctx, http.MethodGet, "/api/secondme/user/info", nil, accessToken)
	if err != nil {
		return UserInfo{}, fmt.Errorf("get user info: %w", err)
	}
	u, err := decodeUserInfo(status, body)
	if err != nil {
		return UserInfo{}, fmt.Errorf("get user info: %w", err)
	}
	return u, nil
}

// Shades returns the token owner's shades (GET /api/secondme/user/shades, data.shades).
func (c *Client) Shades(ctx context.Context, accessToken string) ([]Shade, error) {
	status, body, err := c.do(ctx, http.MethodGet, "/api/secondme/user/shades", nil, accessToken)
	if err != nil {
		return nil, fmt.Errorf("get shades: %w", err)
	}
	s, err := DecodeShades(status, body)
	if err != nil {
		return nil, fmt.Errorf("get shades: %w", err)
	}
	return s, nil
}

// KeyMemories returns up to limit (1-100) of the token owner's key memories: the newer
// GET /api/secondme/memory/key/search first, and the older /api/secondme/user/softmemory when the
// newer one is missing or refused. Callers treat a failure as "no memories".
func (c *Client) KeyMemories(ctx context.Context, accessToken string, limit int) ([]Memory, error) {
	limit = max(1, min(limit, 100))
	q := url.Values{"keyword": {""}, "pageNo": {"1"}, "pageSize": {strconv.Itoa(limit)}}.Encode()
	status, body, err := c.do(ctx, http.MethodGet, "/api/secondme/memory/key/search?"+q, nil, accessToken)
	var ms []Memory
	if err == nil {
		ms, err = decodeMemories(status, body)
	}
	if err == nil {
		return ms, nil
	}
	if ctx.Err() != nil || IsTokenInvalid(err) || IsAuthRevoked(err) {
		return nil, fmt.Errorf("get key memories: %w", err)
	}
	status, body, err2 := c.do(ctx, http.MethodGet, "/api/secondme/user/softmemory?"+q, nil, accessToken)
	if err2 == nil {
		ms, err2 = decodeMemories(status, body)
	}
	if err2 != nil {
		return nil, fmt.Errorf("get key memories: %w (older soft memory: %w)", err, err2)
	}
	return ms, nil
}

// do makes one call with bounded retries on 429 and 5xx (a POST only on 429 and 503, which say the
// request was not processed, since an authorization code is single-use). It returns the status and
// body of the last answer; transport failures come back as errors.
func (c *Client) do(ctx context.Context, method, path string, form url.Values, bearer string) (int, []byte, error) {
	var lastErr error
	for attempt := 0; attempt < c.cfg.MaxAttempts; attempt++ {
		if attempt > 0 {
			if err := c.sleep(ctx, attempt, lastErr); err != nil {
				return 0, nil, err
			}
		}
		status, body, retryAfter, err := c.once(ctx, method, path, form, bearer)
		if err != nil {
			if ctx.Err() != nil || method != http.MethodGet {
				return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
			}
			lastErr = &retryHint{err: fmt.Errorf("%s %s: %w", method, path, err)}
			continue
		}
		if !retryable(method, status) || attempt == c.cfg.MaxAttempts-1 {
			return status, body, nil
		}
		lastErr = &retryHint{err: &Error{Status: status}, after: retryAfter}
	}
	var h *retryHint
	if errors.As(lastErr, &h) {
		return 0, nil, h.err
	}
	return 0, nil, lastErr
}

// retryable says whether an answer with status may be tried again.
func retryable(method string, status int) bool {
	if method == http.MethodGet {
		return status == http.StatusTooManyRequests || status >= 500
	}
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// retryHint carries the failure of a try and the Retry-After it asked for.
type retryHint struct {
	err   error
	after time.Duration
}

func (h *retryHint) Error() string { return h.err.Error() }
func (h *retryHint) Unwrap() error { return h.err }

// sleep waits before try number attempt: exponential backoff with full jitter, at least the
// answer's Retry-After, never more than MaxDelay.
func (c *Client) sleep(ctx context.Context, attempt int, last error) error {
	d := c.cfg.BaseDelay << (attempt - 1)
	if d > c.cfg.MaxDelay || d <= 0 {
		d = c.cfg.MaxDelay
	}
	d = time.Duration(rand.Int64N(int64(d)) + 1)
	var h *retryHint
	if errors.As(last, &h) && h.after > d {
		d = min(h.after, c.cfg.MaxDelay)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// once makes one HTTP request and reads the answer.
func (c *Client) once(ctx context.Context, method, path string, form url.Values, bearer string) (int, []byte, time.Duration, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.BaseURL+path, body)
	if err != nil {
		return 0, nil, 0, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return 0, nil, 0, fmt.Errorf("read answer: %w", err)
	}
	if len(b) > maxResponse {
		return 0, nil, 0, fmt.Errorf("answer larger than %d bytes", maxResponse)
	}
	var after time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
		after = time.Duration(s) * time.Second
	}
	return resp.StatusCode, bytes.TrimSpace(b), after, nil
}
