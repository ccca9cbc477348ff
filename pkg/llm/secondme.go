package llm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
)

// TokenSource gives the SecondMe access token of a person; pkg/auth provides it.
type TokenSource interface {
	// AccessToken returns a valid access token of userID's linked SecondMe account, refreshed when
	// needed. It returns an error when the person has none (never linked, revoked) or it cannot be had.
	AccessToken(ctx context.Context, userID string) (string, error)
}

// maxSecondMeTokens is the largest maxTokens chat/stream accepts.
const maxSecondMeTokens = 16000

// SecondMe makes a person's own SecondMe speak as their twin, through POST
// {base}/api/secondme/chat/stream with the person's bearer token.
//
// Every Generate starts a new SecondMe session (no sessionId), because SecondMe keeps its own
// history and honours systemPrompt only on a session's first message: the persona goes in
// systemPrompt and the earlier turns are folded into the message text. Requests with a Schema, and
// people whose token cannot be had, are answered by the fallback model when there is one.
type SecondMe struct {
	call     Policy
	hc       *http.Client
	url      string
	model    string
	tokens   TokenSource
	fallback Model
}

// SecondMeConfig is where and how the SecondMe twins speak.
type SecondMeConfig struct {
	// BaseURL is the SecondMe API base; defaults to DefaultSecondMeBaseURL.
	BaseURL string
	// Model is "secondme/nano" (the default, DefaultSecondMeModel) or "secondme/pro".
	Model string
}

// Validate reports a model SecondMe does not have.
func (c SecondMeConfig) Validate() error {
	if c.Model != "" && c.Model != "secondme/nano" && c.Model != "secondme/pro" {
		return fmt.Errorf("secondme model %q (want secondme/nano or secondme/pro)", c.Model)
	}
	return nil
}

// NewSecondMe returns the SecondMe provider of cfg, with the deadline, retry delay and HTTP client of
// o. fallback may be nil.
func NewSecondMe(cfg SecondMeConfig, o Options, tokens TokenSource, fallback Model) *SecondMe {
	o = o.WithDefaults()
	return &SecondMe{
		call:     Policy{Provider: "secondme", Timeout: o.Timeout, RetryDelay: o.RetryDelay},
		hc:       o.HTTPClient,
		url:      strings.TrimSuffix(cmp.Or(cfg.BaseURL, DefaultSecondMeBaseURL), "/") + "/api/secondme/chat/stream",
		model:    cmp.Or(cfg.Model, DefaultSecondMeModel),
		tokens:   tokens,
		fallback: fallback,
	}
}

// ForUser returns the model that speaks as userID's twin through userID's own SecondMe.
func (s *SecondMe) ForUser(userID string) Model {
	return &secondMeTwin{s: s, userID: userID}
}

// secondMeTwin is one person's SecondMe.
type secondMeTwin struct {
	s      *SecondMe
	userID string
}

var _ Model = (*secondMeTwin)(nil)

// secondMeRequest is the body of POST /api/secondme/chat/stream.
type secondMeRequest struct {
	Message      string `json:"message"`
	SystemPrompt string `json:"systemPrompt,omitempty"`
	Model        string `json:"model"`
	MaxTokens    int    `json:"maxTokens,omitempty"`
}

// Generate implements Model.
func (t *secondMeTwin) Generate(ctx context.Context, req Request, onDelta func(string) error) (Reply, error) {
	s := t.s
	if req.Schema != nil {
		if s.fallback == nil {
			return Reply{}, fmt.Errorf("secondme: JSON schema replies are not supported: %w", ErrUnavailable)
		}
		return s.fallback.Generate(ctx, req, onDelta)
	}
	tctx, cancel := context.WithTimeout(ctx, s.call.Timeout)
	token, err := s.tokens.AccessToken(tctx, t.userID)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return Reply{}, ctx.Err()
		}
		if s.fallback == nil {
			return Reply{}, fmt.Errorf("secondme: access token of %s: %w: %w", t.userID, ErrUnavailable, err)
		}
		slog.WarnContext(ctx, "llm: no SecondMe token, answering with the fallback model", "user_id", t.userID, "err", err)
		return s.fallback.Generate(ctx, req, onDelta)
	}
	payload, err := json.Marshal(secondMeRequest{
		Message:      foldTurns(req.Messages),
		SystemPrompt: req.System,
		Model:        s.model,
		MaxTokens:    min(req.MaxTokens, maxSecondMeTokens),
	})
	if err != nil {
		return Reply{}, fmt.Errorf("secondme: encode request: %w", err)
	}
	return s.call.Call(ctx, onDelta, func(ctx context.Context, emit func(string) error) (string, error) {
		hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(payload))
		if err != nil {
			return "", fmt.Errorf("secondme: new request: %w", err)
		}
		hreq.Header.Set("Content-Type", "application/json")
		hreq.Header.Set("Accept", "text/event-stream")
		hreq.Header.Set("Authorization", "Bearer "+token)
		resp, err := s.hc.Do(hreq)
		if err != nil {
			return "", Transient(err)
		}
		defer resp.Body.Close()
		mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != http.StatusOK || mediaType == "application/json" {
			return "", secondMeEnvelopeError(resp.StatusCode, resp.Body)
		}
		if err := readSecondMeStream(resp.Body, emit); err != nil {
			return "", err
		}
		return s.model, nil
	})
}

// foldTurns writes the conversation as one message: the earlier turns as a transcript, then the
// message to answer. A conversation of one message is that message.
func foldTurns(msgs []Message) string {
	if len(msgs) == 0 {
		return ""
	}
	last := msgs[len(msgs)-1].Content
	if len(msgs) == 1 {
		return last
	}
	var b strings.Builder
	b.WriteString("Our conversation so far:\n")
	for _, m := range msgs[:len(msgs)-1] {
		who := "User"
		if m.Role == RoleModel {
			who = "You"
		}
		b.WriteString(who + ": " + m.Content + "\n")
	}
	b.WriteString("\nThe user's new message, to answer now:\n")
	b.WriteString(last)
	return b.String()
}

// secondMeEnvelope is SecondMe's JSON envelope and its error readings (docs/secondme-api.md, Envelope).
type secondMeEnvelope struct {
	Code      json.RawMessage `json:"code"`
	Message   string          `json:"message"`
	SubCode   string          `json:"subCode"`
	ErrorCode string          `json:"error_code"`
	Detail    string          `json:"detail"`
}

// failed reports whether the envelope is an error: a code other than 0, or a bare detail.
func (e secondMeEnvelope) failed() bool {
	code := strings.Trim(string(bytes.TrimSpace(e.Code)), `"`)
	if code == "" || code == "null" {
		return e.Detail != ""
	}
	return code != "0"
}

// Error reads "code 401 oauth2.token.invalid: invalid access token", leaving out what is missing.
func (e secondMeEnvelope) Error() string {
	var parts []string
	if code := bytes.TrimSpace(e.Code); len(code) > 0 {
		parts = append(parts, "code "+string(code))
	}
	if sub := cmp.Or(e.SubCode, e.ErrorCode); sub != "" {
		parts = append(parts, sub)
	}
	msg := cmp.Or(e.Message, e.Detail)
	if len(parts) == 0 {
		return msg
	}
	return strings.Join(parts, " ") + ": " + msg
}

// transientCode reports whether the envelope's code is worth a retry (429, 5xx).
func (e secondMeEnvelope) transientCode() bool {
	var code int
	if err := json.Unmarshal(e.Code, &code); err != nil {
		return false
	}
	return TransientStatus(code)
}

// secondMeEnvelopeError reads a JSON answer where a stream was expected: an error status or a
// 200 carrying an error envelope.
func secondMeEnvelopeError(status int, body io.Reader) error {
	var env secondMeEnvelope
	raw, _ := io.ReadAll(io.LimitReader(body, 4096))
	if err := json.Unmarshal(raw, &env); err != nil || !env.failed() {
		err := fmt.Errorf("secondme status %d: %s", status, strings.TrimSpace(string(raw[:min(len(raw), 512)])))
		if TransientStatus(status) {
			return Transient(err)
		}
		return err
	}
	err := fmt.Errorf("secondme status %d: %w", status, env)
	if TransientStatus(status) || env.transientCode() {
		return Transient(err)
	}
	return err
}

// secondMeChunk is one data frame of chat/stream: a delta or an in-stream error envelope.
type secondMeChunk struct {
	secondMeEnvelope
	Choices []struct {
		Delta struct {
			Content string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
}

// readSecondMeStream reads a chat/stream body per docs/secondme-api.md: `event: session` and other named
// events skipped, `event: error` and in-stream {code != 0} surfaced, deltas passed to emit, `[DONE]`
// ends it. A stream that ends without [DONE] is accepted when it carried text.
func readSecondMeStream(r io.Reader, emit func(string) error) error {
	sse := NewSSEReader(r)
	gotText := false
	for {
		ev, err := sse.Next()
		if errors.Is(err, io.EOF) {
			if gotText {
				return nil
			}
			return Transient(errors.New("secondme stream ended without text"))
		}
		if err != nil {
			return Transient(fmt.Errorf("read secondme stream: %w", err))
		}
		switch ev.Event {
		case "", "message":
		case "error":
			var env secondMeEnvelope
			if json.Unmarshal([]byte(ev.Data), &env) != nil || !env.failed() {
				return Transient(fmt.Errorf("secondme stream error: %.200s", ev.Data))
			}
			return Transient(fmt.Errorf("secondme stream error: %w", env))
		default:
			continue
		}
		data := strings.TrimSpace(ev.Data)
		if data == "[DONE]" {
			return nil
		}
		var chunk secondMeChunk
		if err := json.Unmarshal([]byte(data), &chunk); err != nil {
			return fmt.Errorf("decode secondme frame: %w", err)
		}
		if chunk.failed() {
			err := fmt.Errorf("secondme stream error: %w", chunk.secondMeEnvelope)
			if chunk.transientCode() {
				return Transient(err)
			}
			return err
		}
		if len(chunk.Choices) == 0 || chunk.Choices[0].Delta.Content == "" {
			continue
		}
		gotText = true
		if err := emit(chunk.Choices[0].Delta.Content); err != nil {
			return err
		}
	}
}
