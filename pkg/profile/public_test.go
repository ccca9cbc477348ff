package profile

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/store"
)

func TestPublicView(t *testing.T) {
	t.Parallel()
	u := store.User{
		ID: "01J0000000000000000000000A", Nickname: "Ana", Bio: "Climbs.", AllowTwinChat: true,
		Memories: []store.Memory{{ID: "m", Content: "SECRET-MEMORY"}},
		Shades: []store.Shade{
			{ID: "s1", Name: "SECRET-NAME-1", Icon: "https://secret.example/icon", Confidence: "VERY_HIGH",
				Description: "SECRET-DESC", Content: "SECRET-CONTENT", Topics: []string{"SECRET-TOPIC"},
				Public: &store.PublicShade{Name: "Outdoors", Description: "Likes hills.", Content: "Hikes.", Topics: []string{"hiking"}}},
			{ID: "s2", Name: "SECRET-PRIVATE-SHADE", Content: "SECRET-PRIVATE"},
			{ID: "s3", Name: "Chess", Public: &store.PublicShade{Description: "Plays chess."}},
		},
	}
	got := PublicView(u)
	if len(got.Shades) != 2 {
		t.Fatalf("got %d shades, want 2 (the private one left out): %+v", len(got.Shades), got.Shades)
	}
	if got, want := got.Shades[0].Name, "Outdoors"; got != want {
		t.Errorf("Shades[0].Name = %q, want %q", got, want)
	}
	if got, want := got.Shades[1].Name, "Chess"; got != want {
		t.Errorf("Shades[1].Name = %q, want the shade's own name %q", got, want)
	}
	if got.Shades[1].Topics == nil {
		t.Errorf("Shades[1].Topics is nil, want []")
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "SECRET") {
		t.Errorf("public view shows private data: %s", b)
	}
	for _, key := range []string{`"confidence"`, `"icon"`, `"memories"`, `"discoverable"`, `"provider"`} {
		if strings.Contains(string(b), key) {
			t.Errorf("public view has %s: %s", key, b)
		}
	}
}
