package secondme_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/secondme"
	"github.com/secondme/twin/pkg/secondme/secondmetest"
)

const redirect = "https://twin.example/api/auth/callback"

func newClient(tb testing.TB, srv *secondmetest.Server) *secondme.Client {
	tb.Helper()
	return secondme.New(secondme.Config{
		BaseURL: srv.URL, AuthorizeURL: srv.AuthorizeURL(),
		ClientID: srv.ClientID, ClientSecret: srv.ClientSecret, RedirectURL: redirect,
		BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond,
	})
}

// signIn runs the authorize page and the code exchange for the default user.
func signIn(tb testing.TB, srv *secondmetest.Server, c *secondme.Client) secondme.Token {
	tb.Helper()
	back := srv.Approve(tb, c.AuthCodeURL("st"), secondmetest.DefaultUser().UserID)
	tok, err := c.ExchangeCode(context.Background(), back.Query().Get("code"))
	if err != nil {
		tb.Fatalf("exchange code: %v", err)
	}
	return tok
}

func TestAuthCodeURL(t *testing.T) {
	t.Parallel()
	c := secondme.New(secondme.Config{ClientID: "cid", RedirectURL: redirect})
	got := c.AuthCodeURL("s t")
	want := "https://go.second.me/oauth/?client_id=cid&redirect_uri=" + url.QueryEscape(redirect) + "&response_type=code&state=s+t"
	if got != want {
		t.Errorf("AuthCodeURL = %s, want %s", got, want)
	}
	c = secondme.New(secondme.Config{AuthorizeURL: "https://go.second-me.cn/oauth/", ClientID: "cid", RedirectURL: redirect})
	if got := c.AuthCodeURL("x"); !strings.HasPrefix(got, "https://go.second-me.cn/oauth/?client_id=cid&") {
		t.Errorf("AuthCodeURL = %s, want the configured page with the query right after /oauth/", got)
	}
}

func TestExchangeCodeShapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		style secondmetest.TokenStyle
	}{
		{"camelCase in envelope", secondmetest.TokenCamel},
		{"snake_case in envelope", secondmetest.TokenSnake},
		{"camelCase bare", secondmetest.TokenBare},
		{"snake_case bare", secondmetest.TokenBareSnake},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := secondmetest.New(t)
			srv.TokenStyle = tc.style
			c := newClient(t, srv)
			tok := signIn(t, srv, c)
			if !strings.HasPrefix(tok.AccessToken, "lba_at_") || !strings.HasPrefix(tok.RefreshToken, "lba_rt_") {
				t.Errorf("tokens = %q %q, want lba_at_ and lba_rt_ prefixes", tok.AccessToken, tok.RefreshToken)
			}
			if tok.ExpiresIn != secondmetest.AccessTTL || tok.TokenType != "Bearer" || len(tok.Scope) == 0 {
				t.Errorf("token = %v, want Bearer, expiresIn %s and a scope", tok, secondmetest.AccessTTL)
			}
			reqs := srv.RequestsTo(secondmetest.PathTokenCode)
			if len(reqs) != 1 {
				t.Fatalf("%d code exchanges, want 1", len(reqs))
			}
			r := reqs[0]
			if r.ContentType != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type = %q, want a form", r.ContentType)
			}
			want := url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {redirect},
				"client_id": {srv.ClientID}, "client_secret": {srv.ClientSecret}}
			for k, v := range want {
				if got := r.Form.Get(k); got != v[0] {
					t.Errorf("form %s = %q, want %q", k, got, v[0])
				}
			}
			if !strings.HasPrefix(r.Form.Get("code"), "lba_ac_") {
				t.Errorf("form code = %q, want the authorization code", r.Form.Get("code"))
			}
		})
	}
}

func TestFakeRejectsJSONTokenRequest(t *testing.T) {
	t.Parallel()
	srv := secondmetest.New(t)
	resp, err := http.Post(srv.URL+secondmetest.PathTokenCode, "application/json",
		strings.NewReader(`{"grant_type":"authorization_code","code":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	_, err = secondme.DecodeToken(resp.StatusCode, b.Bytes())
	if got := secondme.SubCodeOf(err); got != secondme.SubInvalidParam {
		t.Errorf("JSON body: subCode %q (%v), want %s", got, err, secondme.SubInvalidParam)
	}
}

func TestExchangeCodeRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		setup   func(tb testing.TB, srv *secondmetest.Server, cfg *secondme.Config) (code string)
		subCode string
		is      func(error) bool
	}{
		{"unknown code", func(tb testing.TB, srv *secondmetest.Server, cfg *secondme.Config) string { return "lba_ac_nope" },
			secondme.SubCodeInvalid, secondme.IsCodeInvalid},
		{"expired code", func(tb testing.TB, srv *secondmetest.Server, cfg *secondme.Config) string {
			c := approve(tb, srv, *cfg)
			srv.Advance(secondmetest.CodeTTL + time.Second)
			return c
		}, secondme.SubCodeExpired, secondme.IsCodeInvalid},
		{"used code", func(tb testing.TB, srv *secondmetest.Server, cfg *secondme.Config) string {
			c := approve(tb, srv, *cfg)
			if _, err := secondme.New(*cfg).ExchangeCode(context.Background(), c); err != nil {
				tb.Fatal(err)
			}
			return c
		}, secondme.SubCodeUsed, secondme.IsCodeInvalid},
		{"redirect mismatch", func(tb testing.TB, srv *secondmetest.Server, cfg *secondme.Config) string {
			c := approve(tb, srv, *cfg)
			cfg.RedirectURL = "https://other.example/cb"
			return c
		}, secondme.SubRedirectURIMismatch, secondme.IsMisconfigured},
		{"secret mismatch", func(tb testing.TB, srv *secondmetest.Server, cfg *secondme.Config) string {
			c := approve(tb, srv, *cfg)
			cfg.ClientSecret = "wrong"
			return c
		}, secondme.SubClientSecretMismatch, secondme.IsMisconfigured},
		{"forced subCode", func(tb testing.TB, srv *secondmetest.Server, cfg *secondme.Config) string {
			srv.FailNext(secondmetest.PathTokenCode, 400, secondme.SubCodeExpired)
			return approve(tb, srv, *cfg)
		}, secondme.SubCodeExpired, secondme.IsCodeInvalid},
	} {
		for _, style := range []secondmetest.ErrorStyle{secondmetest.ErrorSubCode, secondmetest.ErrorErrorCode} {
			t.Run(fmt.Sprintf("%s/style%d", tc.name, style), func(t *testing.T) {
				srv := secondmetest.New(t)
				srv.ErrorStyle = style
				srv.ErrorsWithHTTP200 = style == secondmetest.ErrorErrorCode
				cfg := secondme.Config{BaseURL: srv.URL, AuthorizeURL: srv.AuthorizeURL(), ClientID: srv.ClientID,
					ClientSecret: srv.ClientSecret, RedirectURL: redirect}
				code := tc.setup(t, srv, &cfg)
				_, err := secondme.New(cfg).ExchangeCode(context.Background(), code)
				if got := secondme.SubCodeOf(err); got != tc.subCode {
					t.Fatalf("subCode = %q (%v), want %q", got, err, tc.subCode)
				}
				if !tc.is(err) {
					t.Errorf("predicate false for %v", err)
				}
				if secondme.IsTemporary(err) {
					t.Errorf("IsTemporary(%v) = true, want false", err)
				}
			})
		}
	}
}

func approve(tb testing.TB, srv *secondmetest.Server, cfg secondme.Config) string {
	tb.Helper()
	return srv.Approve(tb, secondme.New(cfg).AuthCodeURL("s"), secondmetest.DefaultUser().UserID).Query().Get("code")
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("not rotated", func(t *testing.T) {
		srv := secondmetest.New(t)
		c := newClient(t, srv)
		tok := signIn(t, srv, c)
		got, err := c.Refresh(ctx, tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if got.RefreshToken != tok.RefreshToken || got.AccessToken == tok.AccessToken {
			t.Errorf("refresh gave rt changed=%v at changed=%v, want the same rt and a new at",
				got.RefreshToken != tok.RefreshToken, got.AccessToken != tok.AccessToken)
		}
		f := srv.RequestsTo(secondmetest.PathTokenRefresh)[0]
		if f.ContentType != "application/x-www-form-urlencoded" || f.Form.Get("grant_type") != "refresh_token" ||
			f.Form.Get("refresh_token") != tok.RefreshToken || f.Form.Get("client_secret") != srv.ClientSecret {
			t.Errorf("refresh request %q %v is not the documented form", f.ContentType, f.Form)
		}
	})
	t.Run("rotated", func(t *testing.T) {
		srv := secondmetest.New(t)
		srv.RotateRefresh = true
		c := newClient(t, srv)
		tok := signIn(t, srv, c)
		got, err := c.Refresh(ctx, tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if got.RefreshToken == tok.RefreshToken {
			t.Error("rotation kept the refresh token")
		}
		if _, err := c.Refresh(ctx, tok.RefreshToken); !secondme.IsRefreshInvalid(err) {
			t.Errorf("old refresh token after rotation: %v, want refresh invalid", err)
		}
	})
	for _, tc := range []struct {
		name    string
		act     func(srv *secondmetest.Server, tok secondme.Token)
		subCode string
	}{
		{"revoked", func(srv *secondmetest.Server, tok secondme.Token) { srv.RevokeRefreshToken(tok.RefreshToken) }, secondme.SubRefreshTokenRevoked},
		{"expired", func(srv *secondmetest.Server, tok secondme.Token) { srv.Advance(secondmetest.RefreshTTL) }, secondme.SubRefreshTokenExpired},
		{"app revoked", func(srv *secondmetest.Server, tok secondme.Token) { srv.RevokeUser(secondmetest.DefaultUser().UserID) }, secondme.SubRefreshTokenRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := secondmetest.New(t)
			c := newClient(t, srv)
			tok := signIn(t, srv, c)
			tc.act(srv, tok)
			_, err := c.Refresh(ctx, tok.RefreshToken)
			if got := secondme.SubCodeOf(err); got != tc.subCode || !secondme.IsRefreshInvalid(err) || !secondme.NeedsSignIn(err) {
				t.Errorf("refresh: %v, want %s", err, tc.subCode)
			}
		})
	}
}

func TestProfileCalls(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func(*secondmetest.Server)
	}{
		{"documented shapes", func(*secondmetest.Server) {}},
		{"appScopedUserId at the top level, id key", func(s *secondmetest.Server) { s.MeTopLevel = true; s.UserInfoIDKey = "id" }},
		{"user_id key", func(s *secondmetest.Server) { s.UserInfoIDKey = "user_id" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := secondmetest.New(t)
			tc.setup(srv)
			c := newClient(t, srv)
			tok := signIn(t, srv, c)
			want := secondmetest.DefaultUser()
			me, err := c.Me(ctx, tok.AccessToken)
			if err != nil || me.Subject() != want.AppScopedUserID {
				t.Errorf("Me = %+v, %v; want subject %s", me, err, want.AppScopedUserID)
			}
			info, err := c.UserInfo(ctx, tok.AccessToken)
			if err != nil || info.UserID != want.UserID || info.Name != want.Name || info.Avatar != want.Avatar ||
				info.SelfIntroduction != want.SelfIntroduction || info.AccountStatus != "normal" {
				t.Errorf("UserInfo = %+v, %v", info, err)
			}
			for _, r := range srv.RequestsTo(secondmetest.PathMe) {
				if got := r.Header.Get("Authorization"); got != "Bearer "+tok.AccessToken {
					t.Errorf("Authorization = %q, want the bearer token", got)
				}
			}
		})
	}
	t.Run("shades: data.shades with public and private fields", func(t *testing.T) {
		srv := secondmetest.New(t)
		c := newClient(t, srv)
		tok := signIn(t, srv, c)
		shades, err := c.Shades(ctx, tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		if len(shades) != 2 {
			t.Fatalf("%d shades, want the 2 with public content", len(shades))
		}
		s := shades[0]
		if s.ID != "11" || s.Name != "Engine tinkerer" || s.NamePublic != "Tinkerer" || s.ConfidenceLevel != "VERY_HIGH" ||
			s.DescriptionThirdViewPublic != "She enjoys machines." || s.Content == "" || !s.HasPublicContent ||
			len(s.SourceTopics) != 3 || len(s.SourceTopicsPublic) != 2 {
			t.Errorf("shade = %+v", s)
		}
	})
	t.Run("memories: newer endpoint, older fallback, failure", func(t *testing.T) {
		srv := secondmetest.New(t)
		c := newClient(t, srv)
		tok := signIn(t, srv, c)
		ms, err := c.KeyMemories(ctx, tok.AccessToken, 50)
		if err != nil || len(ms) != 2 || ms[0].Content == "" || ms[0].CreatedAt.IsZero() {
			t.Fatalf("KeyMemories = %+v, %v", ms, err)
		}
		srv.KeyMemoryMissing = true
		ms, err = c.KeyMemories(ctx, tok.AccessToken, 50)
		if err != nil || len(ms) != 2 {
			t.Errorf("fallback KeyMemories = %+v, %v", ms, err)
		}
		if n := len(srv.RequestsTo(secondmetest.PathSoftMemory)); n != 1 {
			t.Errorf("%d soft memory calls, want 1", n)
		}
		srv.MemoryFail = true
		if _, err := c.KeyMemories(ctx, tok.AccessToken, 50); err == nil {
			t.Error("KeyMemories with both endpoints failing: nil error")
		}
	})
}

func TestAccessTokenRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		detail bool
		act    func(*secondmetest.Server)
		is     func(error) bool
	}{
		{"expired", false, func(s *secondmetest.Server) { s.Advance(secondmetest.AccessTTL) }, secondme.IsTokenInvalid},
		{"expired, detail answer", true, func(s *secondmetest.Server) { s.Advance(secondmetest.AccessTTL) }, secondme.IsTokenInvalid},
		{"revoked app", false, func(s *secondmetest.Server) { s.RevokeUser(secondmetest.DefaultUser().UserID) }, secondme.IsAuthRevoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := secondmetest.New(t)
			srv.DetailOnBadToken = tc.detail
			c := newClient(t, srv)
			tok := signIn(t, srv, c)
			tc.act(srv)
			_, err := c.Shades(ctx, tok.AccessToken)
			if !tc.is(err) || !secondme.NeedsSignIn(err) {
				t.Errorf("Shades: %v, want the predicate true", err)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := secondmetest.New(t)
	c := newClient(t, srv)
	tok := signIn(t, srv, c)

	srv.FailNext(secondmetest.PathShades, 429, "")
	srv.FailNext(secondmetest.PathShades, 503, "connection.error")
	if _, err := c.Shades(ctx, tok.AccessToken); err != nil {
		t.Errorf("Shades after 429 and 503: %v, want success on the third try", err)
	}
	for range 3 {
		srv.FailNext(secondmetest.PathUserInfo, 500, "internal.error")
	}
	_, err := c.UserInfo(ctx, tok.AccessToken)
	if !secondme.IsTemporary(err) || secondme.SubCodeOf(err) != secondme.SubInternalError {
		t.Errorf("UserInfo after three 500s: %v, want a temporary internal.error", err)
	}
	if n := len(srv.RequestsTo(secondmetest.PathUserInfo)); n != 3 {
		t.Errorf("%d tries, want 3 (bounded)", n)
	}
	srv.FailNext(secondmetest.PathTokenCode, 500, "internal.error")
	code := approve(t, srv, secondme.Config{BaseURL: srv.URL, AuthorizeURL: srv.AuthorizeURL(), ClientID: srv.ClientID, RedirectURL: redirect})
	before := len(srv.RequestsTo(secondmetest.PathTokenCode))
	if _, err := c.ExchangeCode(ctx, code); !secondme.IsTemporary(err) {
		t.Errorf("exchange after 500: %v, want a temporary error", err)
	}
	if n := len(srv.RequestsTo(secondmetest.PathTokenCode)) - before; n != 1 {
		t.Errorf("code exchange tried %d times after a 500, want 1 (a code is single-use)", n)
	}
}

func TestBackoffStopsWithContext(t *testing.T) {
	t.Parallel()
	srv := secondmetest.New(t)
	c := secondme.New(secondme.Config{BaseURL: srv.URL, BaseDelay: time.Hour, MaxDelay: time.Hour})
	srv.FailNext(secondmetest.PathShades, 429, "")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Shades(ctx, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shades = %v, want the deadline", err)
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	tok := secondme.Token{AccessToken: "lba_at_secret", RefreshToken: "lba_rt_secret", TokenType: "Bearer"}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("token", "tok", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), logs.String()} {
		if strings.Contains(s, "lba_") {
			t.Errorf("token printed: %s", s)
		}
	}
}
