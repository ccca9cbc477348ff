// Package runware is a client of Runware's image inference REST API: one text-to-image task per call,
// the image bytes fetched and checked before they are handed back.
package runware

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is Runware's REST endpoint.
const DefaultBaseURL = "https://api.runware.ai/v1"

// DefaultModel is the model a Config without one asks for (an AIR identifier).
const DefaultModel = "runware:101@1"

// MaxImageBytes bounds the size of a generated image.
const MaxImageBytes = 2 << 20

// maxResponseBytes bounds the JSON answer of the API: one task's result or errors fit easily.
const maxResponseBytes = 64 << 10

var (
	// ErrUnavailable means Runware gave no usable answer in time: a deadline, a transport failure, a
	// 408, 429 or 5xx answer (after the one retry), or an answer that could not be read.
	ErrUnavailable = errors.New("image generation unavailable")
	// ErrRejected means Runware refused the task (an error array with a 4xx status); a retry would
	// meet the same refusal. The wrapped *APIError says why.
	ErrRejected = errors.New("image generation rejected")
	// ErrNSFW means Runware's content check flagged the image; it is discarded.
	ErrNSFW = errors.New("generated image flagged as not safe for work")
	// ErrBadImage means the image failed our checks: content type, dimensions or size.
	ErrBadImage = errors.New("generated image failed checks")
)

// APIError is one element of Runware's error array.
type APIError struct {
	Status    int    `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	Parameter string `json:"parameter"`
	TaskType  string `json:"taskType"`
	TaskUUID  string `json:"taskUUID"`
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("runware status %d %s: %s", e.Status, e.Code, e.Message)
	if e.Parameter != "" {
		s += " (parameter " + e.Parameter + ")"
	}
	return s
}

// Config is what a Client needs. Zero fields take the defaults New documents.
type Config struct {
	// APIKey is sent as a Bearer token; required.
	APIKey string
	// BaseURL is the endpoint; DefaultBaseURL when empty (tests point it at runwaretest).
	BaseURL string
	// Model is the AIR identifier of the model; DefaultModel when empty.
	Model string
	// Size is the width and height of the square image in pixels, a multiple of 64; 512 when 0.
	Size int
	// Timeout bounds the whole call, its retry and the image fetch included; 60 s when 0.
	Timeout time.Duration
	// RetryDelay is the pause before the one retry; 1 s when 0.
	RetryDelay time.Duration
	// HTTPClient makes the requests; http.DefaultClient when nil.
	HTTPClient *http.Client
}

// Client generates images with Runware. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
}

// New checks cfg and fills in its defaults; it makes no request.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("runware needs an API key (RUNWARE_API_KEY)")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("runware base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.Model == "" {
		cfg.Model = DefaultModel
	}
	if cfg.Size == 0 {
		cfg.Size = 512
	}
	if cfg.Size%64 != 0 || cfg.Size < 128 || cfg.Size > 2048 {
		return nil, fmt.Errorf("runware image size %d is not a multiple of 64 between 128 and 2048", cfg.Size)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	return &Client{cfg: cfg, base: base}, nil
}

// Image is one generated image, checked.
type Image struct {
	Data        []byte
	ContentType string
	Width       int
	Height      int
	// Cost is what Runware charged for the task, in US dollars (includeCost).
	Cost      float64
	Model     string
	TaskUUID  string
	ImageUUID string
}

// task is one imageInference task as Runware's REST API takes it.
type task struct {
	TaskType       string `json:"taskType"`
	TaskUUID       string `json:"taskUUID"`
	PositivePrompt string `json:"positivePrompt"`
	Model          string `json:"model"`
	Width          int    `json:"width"`
	Height         int    `json:"height"`
	NumberResults  int    `json:"numberResults"`
	OutputType     string `json:"outputType"`
	OutputFormat   string `json:"outputFormat"`
	CheckNSFW      bool   `json:"checkNSFW"`
	IncludeCost    bool   `json:"includeCost"`
}

// Generate asks for one image of prompt and returns it checked. The whole call, its one retry of a
// transient failure and the image fetch share the Config's Timeout. Failures are ErrUnavailable,
// ErrRejected, ErrNSFW or ErrBadImage (errors.Is); the caller's cancellation is returned as ctx.Err().
func (c *Client) Generate(ctx context.Context, prompt string) (Image, error) {
	prompt = strings.TrimSpace(prompt)
	if prompt == "" {
		return Image{}, errors.New("runware: empty prompt")
	}
	t := task{
		TaskType:       "imageInference",
		TaskUUID:       newUUID(),
		PositivePrompt: prompt,
		Model:          c.cfg.Model,
		Width:          c.cfg.Size,
		Height:         c.cfg.Size,
		NumberResults:  1,
		OutputType:     "URL",
		OutputFormat:   "JPG",
		CheckNSFW:      true,
		IncludeCost:    true,
	}
	body, err := json.Marshal([]task{t})
	if err != nil {
		return Image{}, fmt.Errorf("runware: encode task: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	for n := 1; ; n++ {
		img, err := c.attempt(dctx, body, t)
		if err == nil {
			return img, nil
		}
		if ctx.Err() != nil {
			return Image{}, ctx.Err()
		}
		if dctx.Err() != nil {
			return Image{}, fmt.Errorf("runware: no image within %s: %w", c.cfg.Timeout, ErrUnavailable)
		}
		var tr *transientError
		if !errors.As(err, &tr) {
			return Image{}, err
		}
		if n == 1 {
			slog.WarnContext(ctx, "runware: retrying after a transient failure", "err", err)
			if sleep(dctx, c.cfg.RetryDelay) {
				continue
			}
			if ctx.Err() != nil {
				return Image{}, ctx.Err()
			}
			return Image{}, fmt.Errorf("runware: no image within %s: %w", c.cfg.Timeout, ErrUnavailable)
		}
		return Image{}, fmt.Errorf("runware: %w: %w", ErrUnavailable, tr.err)
	}
}

// attempt makes one request, then fetches and checks the image it names.
func (c *Client) attempt(ctx context.Context, body []byte, t task) (Image, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String(), bytes.NewReader(body))
	if err != nil {
		return Image{}, fmt.Errorf("runware: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return Image{}, &transientError{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return Image{}, &transientError{err: err}
	}
	if len(raw) > maxResponseBytes {
		return Image{}, fmt.Errorf("runware: answer larger than %d bytes: %w", maxResponseBytes, ErrUnavailable)
	}
	res, err := decodeResponse(resp.StatusCode, raw, t.TaskUUID)
	if err != nil {
		return Image{}, err
	}
	if res.NSFWContent {
		return Image{}, fmt.Errorf("runware task %s: %w", t.TaskUUID, ErrNSFW)
	}
	imageURL, err := c.imageURL(res.ImageURL)
	if err != nil {
		return Image{}, err
	}
	data, contentType, err := c.fetch(ctx, imageURL)
	if err != nil {
		return Image{}, err
	}
	w, h, err := checkImage(data, contentType, t.Width, t.Height)
	if err != nil {
		return Image{}, err
	}
	return Image{Data: data, ContentType: contentType, Width: w, Height: h, Cost: res.Cost, Model: t.Model,
		TaskUUID: res.TaskUUID, ImageUUID: res.ImageUUID}, nil
}

// imageURL accepts the image address only over HTTPS, or from the API's own host (a local fake).
func (c *Client) imageURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == c.base.Scheme && u.Host == c.base.Host)) {
		return "", fmt.Errorf("runware: image URL %q refused: %w", raw, ErrUnavailable)
	}
	return u.String(), nil
}

// fetch reads the image at u, at most MaxImageBytes of it.
func (c *Client) fetch(ctx context.Context, u string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf("runware: %w", err)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, "", &transientError{err: fmt.Errorf("fetch image: %w", err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("fetch image: status %d", resp.StatusCode)
		if transientStatus(resp.StatusCode) {
			return nil, "", &transientError{err: err}
		}
		return nil, "", fmt.Errorf("runware: %w: %w", ErrUnavailable, err)
	}
	if resp.ContentLength > MaxImageBytes {
		return nil, "", fmt.Errorf("runware: image of %d bytes over %d: %w", resp.ContentLength, MaxImageBytes, ErrBadImage)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxImageBytes+1))
	if err != nil {
		return nil, "", &transientError{err: fmt.Errorf("fetch image: %w", err)}
	}
	if len(data) > MaxImageBytes {
		return nil, "", fmt.Errorf("runware: image over %d bytes: %w", MaxImageBytes, ErrBadImage)
	}
	return data, resp.Header.Get("Content-Type"), nil
}

// transientError marks a failure worth the one retry: a transport failure, a 408, 429 or 5xx answer,
// or a Runware error whose code names a timeout.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// transientStatus reports whether an HTTP status is worth one retry.
func transientStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// sleep waits d and reports whether ctx is still live afterwards.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// newUUID returns a random (version 4) UUID, the form Runware asks taskUUID to take.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
