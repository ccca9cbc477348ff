package formula

import "testing"

// TestChineseTraitsNameEveryTrait keeps the Chinese trait names in step with complements.
func TestChineseTraitsNameEveryTrait(t *testing.T) {
	t.Parallel()
	if len(chineseTraits) != 2*len(complements) {
		t.Fatalf("%d Chinese trait names for %d traits", len(chineseTraits), 2*len(complements))
	}
	for bit, name := range chineseTraits {
		if name == "" {
			t.Errorf("trait %q has no Chinese name", traitWord(bit))
		}
	}
}
