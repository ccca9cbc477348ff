package llm

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Providers of the general model (Config.Provider).
const (
	// ProviderOffline is the deterministic offline model: no network, no key.
	ProviderOffline = "offline"
	// ProviderGemini is Google's Gemini API through google.golang.org/genai.
	ProviderGemini = "gemini"
	// ProviderOpenAI is any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM, llama.cpp).
	ProviderOpenAI = "openai"
	// ProviderSecondMe makes the twins of people who linked SecondMe speak through their own SecondMe;
	// the general model (judge, everyone else's twins) is then the offline model.
	ProviderSecondMe = "secondme"
)

// Defaults of Config.
const (
	// DefaultGeminiModel is the current Flash model, the one google.golang.org/genai's own examples use.
	DefaultGeminiModel = "gemini-3.5-flash"
	// DefaultOpenAIBaseURL is OpenAI's own endpoint; Ollama is http://127.0.0.1:11434/v1.
	DefaultOpenAIBaseURL = "https://api.openai.com/v1"
	// DefaultSecondMeBaseURL is the SecondMe API base (docs/secondme-api.md, Hosts).
	DefaultSecondMeBaseURL = "https://api.mindverse.com/gate/lab"
	// DefaultSecondMeModel is SecondMe's default chat model.
	DefaultSecondMeModel = "secondme/nano"
	// DefaultTimeout bounds one Generate call, its retry included.
	DefaultTimeout = 30 * time.Second
	// DefaultRetryDelay is the pause before the one retry of a transient failure.
	DefaultRetryDelay = 250 * time.Millisecond
)

// Config selects and configures the model. The zero Config is the offline model.
type Config struct {
	// Provider is ProviderOffline, ProviderGemini, ProviderOpenAI or ProviderSecondMe. Empty means
	// Gemini when GeminiAPIKey is set, else OpenAI when OpenAIBaseURL is set, else offline.
	Provider string

	// GeminiAPIKey is the Gemini API key (required for Gemini).
	GeminiAPIKey string
	// GeminiModel defaults to DefaultGeminiModel.
	GeminiModel string
	// GeminiBaseURL overrides the Gemini endpoint (tests point it at llmtest.Gemini).
	GeminiBaseURL string

	// OpenAIBaseURL is the base of the chat-completions endpoint, up to and including the version
	// ("http://127.0.0.1:11434/v1"); defaults to DefaultOpenAIBaseURL.
	OpenAIBaseURL string
	// OpenAIKey is sent as a bearer token when set (local servers need none).
	OpenAIKey string
	// OpenAIModel names the model (required for OpenAI: "gpt-4o-mini", "llama3.2", ...).
	OpenAIModel string

	// SecondMeTwins makes the twin of a person who linked SecondMe speak through their own SecondMe
	// (see NewSecondMe); ProviderSecondMe implies it.
	SecondMeTwins bool
	// SecondMeBaseURL defaults to DefaultSecondMeBaseURL.
	SecondMeBaseURL string
	// SecondMeModel is "secondme/nano" (default) or "secondme/pro".
	SecondMeModel string

	// OfflinePace is the pause between the offline model's streamed words; zero streams at once.
	OfflinePace time.Duration

	// Timeout bounds one Generate call, its retry included; defaults to DefaultTimeout.
	Timeout time.Duration
	// RetryDelay is the pause before the one retry; defaults to DefaultRetryDelay.
	RetryDelay time.Duration
}

// withDefaults returns c with every empty field set to its default and Provider resolved.
func (c Config) withDefaults() Config {
	if c.Provider == "" {
		switch {
		case c.GeminiAPIKey != "":
			c.Provider = ProviderGemini
		case c.OpenAIBaseURL != "":
			c.Provider = ProviderOpenAI
		default:
			c.Provider = ProviderOffline
		}
	}
	if c.GeminiModel == "" {
		c.GeminiModel = DefaultGeminiModel
	}
	if c.OpenAIBaseURL == "" {
		c.OpenAIBaseURL = DefaultOpenAIBaseURL
	}
	if c.SecondMeBaseURL == "" {
		c.SecondMeBaseURL = DefaultSecondMeBaseURL
	}
	if c.SecondMeModel == "" {
		c.SecondMeModel = DefaultSecondMeModel
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = DefaultRetryDelay
	}
	return c
}

// validate reports what is missing or wrong in a Config that has its defaults.
func (c Config) validate() error {
	var errs []error
	switch c.Provider {
	case ProviderOffline, ProviderSecondMe:
	case ProviderGemini:
		if c.GeminiAPIKey == "" {
			errs = append(errs, errors.New("gemini needs an API key"))
		}
	case ProviderOpenAI:
		if c.OpenAIModel == "" {
			errs = append(errs, errors.New("openai needs a model name"))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown provider %q (want offline, gemini, openai or secondme)", c.Provider))
	}
	if c.SecondMeEnabled() && c.SecondMeModel != "secondme/nano" && c.SecondMeModel != "secondme/pro" {
		errs = append(errs, fmt.Errorf("secondme model %q (want secondme/nano or secondme/pro)", c.SecondMeModel))
	}
	return errors.Join(errs...)
}

// SecondMeEnabled reports whether the twins of people who linked SecondMe speak through their own
// SecondMe (build them with NewSecondMe).
func (c Config) SecondMeEnabled() bool {
	return c.SecondMeTwins || c.Provider == ProviderSecondMe
}

// New returns the general model of cfg: the one that answers every request that is not a SecondMe
// twin's (see NewSecondMe). hc is the HTTP client for providers that use the network; nil means a
// fresh client without a timeout of its own (Config.Timeout bounds every call).
func New(cfg Config, hc *http.Client) (Model, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("llm config: %w", err)
	}
	if hc == nil {
		hc = &http.Client{}
	}
	switch cfg.Provider {
	case ProviderGemini:
		return newGemini(cfg, hc)
	case ProviderOpenAI:
		return newOpenAI(cfg, hc), nil
	default:
		if Offline == nil {
			return nil, errors.New("llm config: the offline model is not linked (import package offline)")
		}
		return Offline(cfg.OfflinePace), nil
	}
}

// ConfigFrom reads the model settings of docs/llm.md through getenv: LLM_PROVIDER, GEMINI_API_KEY,
// GEMINI_MODEL, GEMINI_BASE_URL, OPENAI_BASE_URL, OPENAI_API_KEY, OPENAI_MODEL, LLM_SECONDME_TWINS,
// SECONDME_BASE_URL, SECONDME_MODEL, LLM_TIMEOUT and OFFLINE_PACE. Nothing set means the offline model.
func ConfigFrom(getenv func(string) string) (Config, error) {
	cfg := Config{
		Provider:        getenv("LLM_PROVIDER"),
		GeminiAPIKey:    getenv("GEMINI_API_KEY"),
		GeminiModel:     getenv("GEMINI_MODEL"),
		GeminiBaseURL:   getenv("GEMINI_BASE_URL"),
		OpenAIBaseURL:   getenv("OPENAI_BASE_URL"),
		OpenAIKey:       getenv("OPENAI_API_KEY"),
		OpenAIModel:     getenv("OPENAI_MODEL"),
		SecondMeBaseURL: getenv("SECONDME_BASE_URL"),
		SecondMeModel:   getenv("SECONDME_MODEL"),
	}
	if v := getenv("LLM_SECONDME_TWINS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("LLM_SECONDME_TWINS=%q: want true or false", v)
		}
		cfg.SecondMeTwins = b
	}
	for _, d := range []struct {
		name     string
		into     *time.Duration
		positive bool
	}{
		{"LLM_TIMEOUT", &cfg.Timeout, true},
		{"OFFLINE_PACE", &cfg.OfflinePace, false},
	} {
		v := getenv(d.name)
		if v == "" {
			continue
		}
		n, err := time.ParseDuration(v)
		if err != nil || n < 0 || (d.positive && n == 0) {
			return Config{}, fmt.Errorf("%s=%q: want a duration such as 30s", d.name, v)
		}
		*d.into = n
	}
	return cfg, nil
}
