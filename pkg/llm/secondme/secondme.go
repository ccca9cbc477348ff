// Package secondme declares the SecondMe model provider: the twins of people who linked SecondMe speak
// through their own SecondMe (llm.NewSecondMe), and the general model (the judge, everyone else's
// twins) is the offline model.
package secondme

import (
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/offline"
)

// Provider is chosen only by name (LLM_PROVIDER=secondme).
var Provider = llm.Provider{
	Name:          "secondme",
	Settings:      offline.Provider.Settings,
	SecondMeTwins: true,
	New:           offline.Provider.New,
}
