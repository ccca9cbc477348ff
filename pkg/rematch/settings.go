package rematch

import (
	"fmt"
	"strconv"
)

// Settings are the matching settings a function or the local stack reads from its environment. Zero
// fields take the defaults of the packages they are given to.
type Settings struct {
	Nightly NightlyConfig
	// Messages and ModelWeight are for compat.Config.
	Messages    int
	ModelWeight float64
}

// SettingsFrom reads the matching settings (docs/matching.md): MATCH_K (candidates per person,
// default 20), REMATCH_SLICE (people of the nightly rolling slice, default 1000), COMPAT_MESSAGES
// (length of the twin conversation, default 6) and COMPAT_MODEL_WEIGHT (share of the judge in the
// blended score, default 0.6). An unset variable takes its default; a malformed one is an error.
func SettingsFrom(getenv func(string) string) (Settings, error) {
	var s Settings
	ints := []struct {
		name     string
		dst      *int
		min, max int
	}{
		{"MATCH_K", &s.Nightly.K, 1, 100},
		{"REMATCH_SLICE", &s.Nightly.Slice, 1, 10_000_000},
		{"COMPAT_MESSAGES", &s.Messages, 2, 20},
	}
	for _, v := range ints {
		raw := getenv(v.name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < v.min || n > v.max {
			return Settings{}, fmt.Errorf("%s=%q: want a whole number from %d to %d", v.name, raw, v.min, v.max)
		}
		*v.dst = n
	}
	if raw := getenv("COMPAT_MODEL_WEIGHT"); raw != "" {
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || f <= 0 || f > 1 {
			return Settings{}, fmt.Errorf("COMPAT_MODEL_WEIGHT=%q: want a number above 0 and at most 1", raw)
		}
		s.ModelWeight = f
	}
	return s, nil
}
