package offline

import (
	"fmt"
	"time"

	"github.com/secondme/twin/pkg/llm"
)

// Provider declares the offline model: chosen when no other provider is, so it comes last in a list
// of providers. OFFLINE_PACE is the pause between its streamed words (zero streams at once).
var Provider = llm.Provider{
	Name:     "offline",
	Settings: map[string]string{"OFFLINE_PACE": ""},
	Chosen:   func(llm.Values) bool { return true },
	New: func(v llm.Values, _ llm.Options) (llm.Model, error) {
		m := New()
		if s := v["OFFLINE_PACE"]; s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return nil, fmt.Errorf("OFFLINE_PACE=%q: want a duration such as 25ms", s)
			}
			m.Pace = d
		}
		return m, nil
	},
}
