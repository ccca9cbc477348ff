package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/secondme/twin/pkg/fault"
)

// StateTTL is how long a sign-in may take from the redirect to the callback.
const StateTTL = 10 * time.Minute

const statePurpose = "login-state/v1"

// loginState is what travels, sealed, in the login-state cookie between the redirect and the callback.
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v,omitempty"`
	Provider string `json:"p"`
	ReturnTo string `json:"r"`
	Expires  int64  `json:"e"`
}

// randomToken returns 32 bytes from crypto/rand, base64url without padding.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("auth: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// writeState seals st into the login-state cookie (10 minutes, path /api/auth).
func writeState(w http.ResponseWriter, r *http.Request, s *Sealer, st loginState) {
	b, _ := json.Marshal(st)
	setCookie(w, r, StateCookie, base64.RawURLEncoding.EncodeToString(s.Seal(statePurpose, b)), statePath, StateTTL)
}

// errNoState is the answer to a callback without a usable login state.
var errNoState = fault.Invalid("state", "no sign-in is in progress in this browser, or it took longer than 10 minutes; start again")

// readState clears the login-state cookie and returns the state it held, checked against the
// callback's state parameter: missing, unreadable, expired or different is a 400.
func readState(w http.ResponseWriter, r *http.Request, s *Sealer, now time.Time) (loginState, error) {
	c, err := r.Cookie(StateCookie)
	clearCookie(w, r, StateCookie, statePath)
	if err != nil || c.Value == "" {
		return loginState{}, errNoState
	}
	sealed, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return loginState{}, errNoState
	}
	plain, err := s.Open(statePurpose, sealed)
	if err != nil {
		return loginState{}, errNoState
	}
	var st loginState
	if err := json.Unmarshal(plain, &st); err != nil || st.State == "" {
		return loginState{}, errNoState
	}
	if now.Unix() > st.Expires {
		return loginState{}, errNoState
	}
	got := r.URL.Query().Get("state")
	if got == "" {
		return loginState{}, fault.Invalid("state", "required")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(st.State)) != 1 {
		return loginState{}, fault.Invalid("state", "does not match the sign-in in progress")
	}
	return st, nil
}

// stateEventID is the id under which a used state is claimed, so that a replay is refused even with
// a copied cookie.
func stateEventID(state string) string {
	h := sha256.Sum256([]byte(state))
	return "login-state:" + hex.EncodeToString(h[:])
}

// errStateUsed is the answer to a replayed callback.
var errStateUsed = fault.Invalid("state", "this sign-in was already completed; start again")
