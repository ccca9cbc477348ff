package demo

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/id"
)

// mockSignIn runs the real pkg/auth OIDC flow (discovery, PKCE, go-oidc verification) against the
// mock provider with a login_hint and returns the verified profile.
func mockSignIn(t *testing.T, o *auth.OIDC, hint string) auth.OIDCProfile {
	t.Helper()
	ctx := context.Background()
	state, nonce, verifier := "st-"+id.New(), "n-"+id.New(), oauth2.GenerateVerifier()
	authURL, err := o.AuthCodeURL(ctx, state, nonce, verifier, hint)
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || back.Query().Get("state") != state {
		t.Fatalf("authorize: %d to %s", resp.StatusCode, back)
	}
	p, err := o.Exchange(ctx, back.Query().Get("code"), verifier, nonce)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return p
}

func TestProviderLoginHints(t *testing.T) {
	personas, err := Personas()
	if err != nil {
		t.Fatal(err)
	}
	p, err := StartProvider(personas)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	o := auth.NewOIDC(auth.OIDCConfig{Issuer: p.Issuer(), ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: "http://127.0.0.1:1/api/auth/callback"})

	got := mockSignIn(t, o, personas[0].ID)
	if got.Subject != personas[0].ID || got.Name != personas[0].Nickname {
		t.Errorf("persona sign-in = %+v, want subject %s named %s", got, personas[0].ID, personas[0].Nickname)
	}
	a, b := mockSignIn(t, o, "new:Zoë"), mockSignIn(t, o, "new:Zoë")
	if a.Name != "Zoë" || a.Subject == b.Subject || !id.Valid(a.Subject) {
		t.Errorf("new sign-ups = %+v and %+v, want Zoë with two fresh subjects", a, b)
	}
	if again := mockSignIn(t, o, a.Subject); again.Subject != a.Subject {
		t.Errorf("returning sign-in = %+v, want subject %s", again, a.Subject)
	}
	if g := mockSignIn(t, o, ""); g.Name != "Guest" {
		t.Errorf("no hint = %+v, want a new Guest", g)
	}

	// A hint it cannot honour is refused at the authorize endpoint, before any sign-in.
	authURL, err := o.AuthCodeURL(context.Background(), "st", "n", oauth2.GenerateVerifier(), "new:"+strings.Repeat("x", 65))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a 65-character nickname: %d, want 400", resp.StatusCode)
	}
}

func TestUserForHint(t *testing.T) {
	names := map[string]string{"01M8A4R3N6B800PQTM8RN81YH9": "Maya"}
	tests := []struct {
		hint        string
		wantName    string
		wantSubject string // "fresh" for a new id
		wantErr     bool
	}{
		{hint: "01M8A4R3N6B800PQTM8RN81YH9", wantName: "Maya", wantSubject: "01M8A4R3N6B800PQTM8RN81YH9"},
		{hint: " 01M8A4R3N6B800PQTM8RN81YH9 ", wantName: "Maya", wantSubject: "01M8A4R3N6B800PQTM8RN81YH9"},
		{hint: "someone-before", wantName: "Returning person", wantSubject: "someone-before"},
		{hint: "new:Quinn", wantName: "Quinn", wantSubject: "fresh"},
		{hint: "new:  ", wantName: "Guest", wantSubject: "fresh"},
		{hint: "", wantName: "Guest", wantSubject: "fresh"},
		{hint: "new:" + strings.Repeat("é", 64), wantName: strings.Repeat("é", 64), wantSubject: "fresh"},
		{hint: "new:" + strings.Repeat("é", 65), wantErr: true},
		{hint: "new:a\x00b", wantErr: true},
		{hint: "\xff", wantErr: true},
		{hint: strings.Repeat("x", 201), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.hint, func(t *testing.T) {
			u, err := userForHint(tt.hint, names)
			if tt.wantErr {
				if err == nil {
					t.Errorf("userForHint(%q) = %+v, want an error", tt.hint, u)
				}
				return
			}
			if err != nil || u.name != tt.wantName {
				t.Fatalf("userForHint(%q) = %+v, %v; want %s", tt.hint, u, err, tt.wantName)
			}
			if tt.wantSubject == "fresh" && !id.Valid(u.subject) || tt.wantSubject != "fresh" && u.subject != tt.wantSubject {
				t.Errorf("subject %q, want %s", u.subject, tt.wantSubject)
			}
		})
	}
}
