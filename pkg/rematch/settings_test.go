package rematch_test

import (
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/rematch"
)

func TestSettingsFrom(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	s, err := rematch.SettingsFrom(env(nil))
	if err != nil || s.Nightly.K != 0 || s.Messages != 0 {
		t.Errorf("defaults = %+v, %v; want zero values (each package's defaults apply)", s, err)
	}
	s, err = rematch.SettingsFrom(env(map[string]string{"MATCH_K": "5", "REMATCH_SLICE": "300", "COMPAT_MESSAGES": "4", "COMPAT_MODEL_WEIGHT": "0.5"}))
	if err != nil || s.Nightly.K != 5 || s.Nightly.Slice != 300 || s.Messages != 4 || s.ModelWeight != 0.5 {
		t.Errorf("settings = %+v, %v", s, err)
	}
	for name, m := range map[string]map[string]string{
		"MATCH_K":             {"MATCH_K": "0"},
		"REMATCH_SLICE":       {"REMATCH_SLICE": "many"},
		"COMPAT_MESSAGES":     {"COMPAT_MESSAGES": "100"},
		"COMPAT_MODEL_WEIGHT": {"COMPAT_MODEL_WEIGHT": "2"},
	} {
		if _, err := rematch.SettingsFrom(env(m)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: err = %v, want one naming %s", m, err, name)
		}
	}
}
