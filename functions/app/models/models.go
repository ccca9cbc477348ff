// Package models is the one list of model providers. Only the functions that ask a model import it
// (chat, chatstream, compatworker and the local stack), so only they link the providers' SDKs (genai).
// A new provider is a package under pkg/llm declaring an llm.Provider, added here.
package models

import (
	"github.com/secondme/twin/pkg/llm"
	"github.com/secondme/twin/pkg/llm/gemini"
	"github.com/secondme/twin/pkg/llm/offline"
	"github.com/secondme/twin/pkg/llm/openai"
	"github.com/secondme/twin/pkg/llm/secondme"
)

// All are the providers, in order of preference when LLM_PROVIDER is unset: the first whose settings
// choose it is used, and the offline model, chosen by nothing else, comes last.
var All = []llm.Provider{gemini.Provider, openai.Provider, secondme.Provider, offline.Provider}
