package demo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// rematches records the people Seed schedules for matching; fail makes every call fail.
type rematches struct {
	ids  []string
	fail bool
}

func (r *rematches) Rematch(_ context.Context, userID string) error {
	r.ids = append(r.ids, userID)
	if r.fail {
		return errors.New("queue down")
	}
	return nil
}

func TestSeed(t *testing.T) {
	ctx := context.Background()
	personas, err := Personas()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "seed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// A failing rematch does not stop the seeding (it logs a warning per persona).
	first := &rematches{fail: true}
	if n, err := Seed(ctx, st, first, personas); err != nil || n != len(personas) || len(first.ids) != len(personas) {
		t.Fatalf("first Seed = %d, %v with %d rematches; want all %d personas", n, err, len(first.ids), len(personas))
	}
	u, err := st.GetUser(ctx, personas[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	u.Nickname = "Edited"
	if _, err := st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	second := &rematches{}
	if n, err := Seed(ctx, st, second, personas); err != nil || n != 0 || len(second.ids) != 0 {
		t.Errorf("second Seed = %d, %v with %d rematches; want nothing new", n, err, len(second.ids))
	}
	if u, err := st.GetUser(ctx, personas[0].ID); err != nil || u.Nickname != "Edited" {
		t.Errorf("after a second Seed: %q, %v; want the edit kept", u.Nickname, err)
	}
	for _, p := range personas {
		ids, err := st.ListIdentities(ctx, p.ID)
		if err != nil || len(ids) != 1 || ids[0].Provider != "oidc" || ids[0].Subject != p.ID {
			t.Errorf("identities of %s = %+v, %v; want one oidc identity with its id as subject", p.Nickname, ids, err)
		}
	}
}

func TestPersonaList(t *testing.T) {
	personas, err := Personas()
	if err != nil {
		t.Fatal(err)
	}
	h := PersonaList(personas)
	tests := []struct {
		method     string
		wantStatus int
	}{
		{http.MethodGet, http.StatusOK},
		{http.MethodHead, http.StatusOK},
		{http.MethodPost, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, "/local/personas", nil))
			if w.Code != tt.wantStatus || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("%s: %d %s %s", tt.method, w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			if tt.method != http.MethodGet {
				return
			}
			var refs []PersonaRef
			if err := json.Unmarshal(w.Body.Bytes(), &refs); err != nil || len(refs) != len(personas) {
				t.Fatalf("list = %s (%v), want %d personas", w.Body, err, len(personas))
			}
			for i, r := range refs {
				if r.ID != personas[i].ID || r.Nickname != personas[i].Nickname {
					t.Errorf("entry %d = %+v, want %s %s", i, r, personas[i].ID, personas[i].Nickname)
				}
			}
		})
	}
}
