package llm

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Defaults of Options and SecondMeConfig.
const (
	// DefaultTimeout bounds one Generate call, its retry included.
	DefaultTimeout = 30 * time.Second
	// DefaultRetryDelay is the pause before the one retry of a transient failure.
	DefaultRetryDelay = 250 * time.Millisecond
	// DefaultSecondMeBaseURL is the SecondMe API base (docs/secondme-api.md, Hosts).
	DefaultSecondMeBaseURL = "https://api.mindverse.com/gate/lab"
	// DefaultSecondMeModel is SecondMe's default chat model.
	DefaultSecondMeModel = "secondme/nano"
)

// Provider is one source of the general model (the one that answers every request that is not a
// SecondMe twin's). Each provider is declared by its own package: its name, the settings it reads and
// the secrets that may give them, and how it builds its model. The composition root reads the settings
// from the environment and hands each provider its own values; no provider reads the environment.
type Provider struct {
	// Name selects the provider in LLM_PROVIDER.
	Name string
	// Settings are the environment variables the provider reads, each with its default ("" for none).
	Settings map[string]string
	// Secrets maps a variable holding the ARN of a secret to the setting the secret's value gives
	// when that setting itself is unset (GEMINI_API_KEY_SECRET_ARN -> GEMINI_API_KEY).
	Secrets map[string]string
	// Chosen reports whether the provider is the one meant when LLM_PROVIDER is unset, from the
	// settings as set (no defaults): Gemini when a Gemini key is set. Nil means never.
	Chosen func(Values) bool
	// SecondMeTwins, when true, makes the twins of people who linked SecondMe speak through their
	// own SecondMe (see NewSecondMe) whenever this provider is chosen.
	SecondMeTwins bool
	// New checks the settings (defaults applied) and builds the model.
	New func(v Values, o Options) (Model, error)
}

// Values are a provider's settings by variable name.
type Values map[string]string

// Options are what every provider's model gets, whichever it is.
type Options struct {
	// Timeout bounds one Generate call, its retry included; defaults to DefaultTimeout.
	Timeout time.Duration
	// RetryDelay is the pause before the one retry; defaults to DefaultRetryDelay.
	RetryDelay time.Duration
	// HTTPClient is the client of providers that use the network; nil means a fresh client without a
	// timeout of its own (Timeout bounds every call).
	HTTPClient *http.Client
}

// WithDefaults returns o with every empty field set to its default.
func (o Options) WithDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	return o
}

// Model builds the provider's model from v, where an unset setting takes its default.
func (p Provider) Model(v Values, o Options) (Model, error) {
	all := make(Values, len(p.Settings))
	for k, def := range p.Settings {
		all[k] = cmp.Or(v[k], def)
	}
	m, err := p.New(all, o.WithDefaults())
	if err != nil {
		return nil, fmt.Errorf("llm provider %s: %w", p.Name, err)
	}
	return m, nil
}

// Choose returns the provider named name, or, when name is empty, the first of providers whose Chosen
// says the values set select it.
func Choose(providers []Provider, name string, set Values) (Provider, error) {
	for _, p := range providers {
		if name == p.Name || (name == "" && p.Chosen != nil && p.Chosen(set)) {
			return p, nil
		}
	}
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.Name
	}
	if name == "" {
		return Provider{}, fmt.Errorf("no model provider is chosen by the settings (have %s)", strings.Join(names, ", "))
	}
	return Provider{}, fmt.Errorf("unknown provider %q (want %s)", name, strings.Join(slices.Sorted(slices.Values(names)), ", "))
}
