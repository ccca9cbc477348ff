package avatar

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders of the images Runware and SecondMe give
	_ "image/png"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/runware"
	"github.com/secondme/twin/pkg/store"
)

// Job statuses, as GET /api/user/avatar reports them.
const (
	StatusNone    = "none"
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Reasons a job failed: a code the client translates, and the English words of State.Reason.
var reasons = map[string]string{
	"unsafe":      "The picture was refused by the safety check. Try another style.",
	"refused":     "The image service refused to draw this portrait. Try another style later.",
	"unavailable": "The image service did not answer. Try again in a few minutes.",
	"bad_image":   "The picture came back damaged, so it was not kept. Try again.",
	"not_queued":  "The portrait could not be started. Try again in a few minutes.",
}

// KindAvatar is the kind of an avatar job on the job queue (the compat queue: its worker hands
// avatar jobs to Service.Handle).
const KindAvatar = "avatar"

// MediaPrefix is the path under which stored objects are served: an avatar's URL is MediaPrefix+key.
const MediaPrefix = "/media/"

// Defaults of Config.
const (
	// DefaultDaily is how many portraits one person may ask for in a UTC day.
	DefaultDaily = 5
	// DefaultStale is how long a queued or running job blocks a new one: a job lost on the way (its
	// message dead-lettered) no longer holds the person back after it.
	DefaultStale = 15 * time.Minute
	// budgetName is the name of the daily counter of portraits (store.ConsumeBudget).
	budgetName = "avatar"
)

// State is where a person's latest portrait job is.
type State struct {
	Job    string `json:"job,omitempty"`
	Status string `json:"status"`
	Style  string `json:"style,omitempty"`
	// URL is the portrait's address once done (/media/avatars/<user>/<sha256>.<ext>).
	URL string `json:"url,omitempty"`
	// ReasonCode and Reason say why a job failed: a stable code, and words for a person.
	ReasonCode string    `json:"reasonCode,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	UpdatedAt  time.Time `json:"updatedAt,omitzero"`
}

// Store is what the avatar service reads and writes of people.
type Store interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	UpdateUser(ctx context.Context, u store.User) (store.User, error)
	ConsumeBudget(ctx context.Context, owner, name, day string, n, limit int) (int, error)
}

// Sender queues job bodies (queue.Sender).
type Sender interface {
	Send(ctx context.Context, bodies ...[]byte) error
}

// Generator draws an image from a prompt (*runware.Client).
type Generator interface {
	Generate(ctx context.Context, prompt string) (runware.Image, error)
}

// Config tunes the service. The zero Config takes the defaults.
type Config struct {
	// Daily is how many portraits a person may ask for per UTC day (AVATAR_DAILY); DefaultDaily when 0.
	Daily int
	// Stale is how long an unfinished job blocks a new one; DefaultStale when 0.
	Stale time.Duration
	// Size is the width and height a generated image must have; 512 when 0 (runware's default).
	Size int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Metrics counts the generations (purpose avatar); nothing when nil.
	Metrics metrics.Recorder
	// Logger logs what a person does not see; slog.Default() when nil.
	Logger *slog.Logger
	// HTTPClient fetches the SecondMe avatars Import copies; a client with ImportTimeout when nil.
	HTTPClient *http.Client
}

// Service runs portrait jobs: Start queues one, Handle runs it, State reports it. A person's images
// and their latest job's state are objects in blob storage under their own folders, so that Erase
// removes all of them and no table holds them.
type Service struct {
	st    Store
	blobs blob.Store
	queue Sender
	gen   Generator
	cfg   Config
}

// NewService returns the avatar service. gen is nil where no Runware key is set: portraits are then
// drawn offline (Offline). queue may be nil in a function that only runs jobs.
func NewService(st Store, blobs blob.Store, queue Sender, gen Generator, cfg Config) *Service {
	if cfg.Daily <= 0 {
		cfg.Daily = DefaultDaily
	}
	if cfg.Stale <= 0 {
		cfg.Stale = DefaultStale
	}
	if cfg.Size <= 0 {
		cfg.Size = 512
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.Nop{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: ImportTimeout}
	}
	return &Service{st: st, blobs: blobs, queue: queue, gen: gen, cfg: cfg}
}

// Folder is the blob folder of a person's images.
func Folder(userID string) string { return "avatars/" + userID + "/" }

// stateKey is the blob key of a person's latest job state (never served: /media serves avatars/).
func stateKey(userID string) string { return "jobs/avatars/" + userID + ".json" }

// ErrBusy is the answer to a second portrait while one is being made.
var ErrBusy = fault.New(fault.CodeConflict, "a portrait is already being made; wait for it to finish")

// Start queues a portrait of userID's twin in style (DefaultStyle when empty) and returns the queued
// job's state. Errors: invalid_argument naming style; conflict (ErrBusy) while a job is queued or
// running; rate_limited with RetryAfter until the next UTC day when the daily budget is spent.
// Every start counts against the budget, whatever its outcome: the image service may charge for it.
func (s *Service) Start(ctx context.Context, userID, style string) (State, error) {
	if _, err := Prompt(Subject{}, style); err != nil {
		return State{}, fault.Invalid("style", "one of "+strings.Join(Styles(), ", "))
	}
	if s.queue == nil {
		return State{}, errors.New("avatar service without a queue")
	}
	cur, err := s.State(ctx, userID)
	if err != nil {
		return State{}, err
	}
	now := s.cfg.Now().UTC()
	if (cur.Status == StatusQueued || cur.Status == StatusRunning) && now.Sub(cur.UpdatedAt) < s.cfg.Stale {
		return State{}, ErrBusy
	}
	if _, err := s.st.ConsumeBudget(ctx, userID, budgetName, now.Format(time.DateOnly), 1, s.cfg.Daily); err != nil {
		if errors.Is(err, store.ErrQuotaExceeded) {
			next := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
			return State{}, &fault.Error{Code: fault.CodeRateLimited, RetryAfter: next.Sub(now),
				Message: fmt.Sprintf("you can make %d portraits a day; try again tomorrow", s.cfg.Daily)}
		}
		return State{}, fmt.Errorf("avatar budget of %s: %w", userID, err)
	}
	st := State{Job: id.New(), Status: StatusQueued, Style: cmp.Or(style, DefaultStyle), UpdatedAt: now}
	if err := s.put(ctx, userID, st); err != nil {
		return State{}, err
	}
	if err := s.queue.Send(ctx, Job{Kind: KindAvatar, User: userID, Job: st.Job, Style: st.Style}.Encode()); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "avatar job not queued", "user_id", userID, "err", err)
		_ = s.put(ctx, userID, failed(st, "not_queued", now))
		return State{}, fault.Unavailable("the portrait could not be started; try again in a few minutes")
	}
	return st, nil
}

// State returns the state of userID's latest job; StatusNone when there is none.
func (s *Service) State(ctx context.Context, userID string) (State, error) {
	obj, err := s.blobs.Get(ctx, stateKey(userID))
	if errors.Is(err, blob.ErrNotFound) {
		return State{Status: StatusNone}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read avatar job of %s: %w", userID, err)
	}
	var st State
	if err := json.Unmarshal(obj.Body, &st); err != nil {
		return State{}, fmt.Errorf("avatar job of %s: %w", userID, err)
	}
	return st, nil
}

func (s *Service) put(ctx context.Context, userID string, st State) error {
	b, _ := json.Marshal(st) // a struct of strings and a time always marshals
	if err := s.blobs.Put(ctx, stateKey(userID), "application/json", b); err != nil {
		return fmt.Errorf("save avatar job of %s: %w", userID, err)
	}
	return nil
}

func failed(st State, code string, now time.Time) State {
	st.Status, st.ReasonCode, st.Reason, st.URL, st.UpdatedAt = StatusFailed, code, reasons[code], "", now
	return st
}

// Handle runs one avatar job body (a queue.Handler). It is idempotent: a job that is no longer the
// person's latest (superseded, or the person erased) or that has finished does nothing, and a retry
// of one that failed part-way stores the same content-addressed image again. A body that is not an
// avatar job is ErrBadJob. A failure of the image service ends the job with a reason; a failure of
// storage is returned, so that the queue retries it.
func (s *Service) Handle(ctx context.Context, body []byte) error {
	j, err := DecodeJob(body)
	if err != nil {
		return err
	}
	st, err := s.State(ctx, j.User)
	if err != nil {
		return err
	}
	if st.Job != j.Job || (st.Status != StatusQueued && st.Status != StatusRunning) {
		return nil
	}
	u, err := s.st.GetUser(ctx, j.User)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get user %s: %w", j.User, err)
	}
	st.Status, st.UpdatedAt = StatusRunning, s.cfg.Now().UTC()
	if err := s.put(ctx, j.User, st); err != nil {
		return err
	}
	img, err := s.generate(ctx, SubjectOf(u), j.Style)
	if err == nil {
		err = checkImage(img, s.cfg.Size)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the invocation ran out of time: a retry runs the job again
		}
		code := reasonOf(err)
		s.cfg.Logger.WarnContext(ctx, "avatar job failed", "user_id", j.User, "job", j.Job, "reason", code, "err", err)
		return s.put(ctx, j.User, failed(st, code, s.cfg.Now().UTC()))
	}
	url, err := s.store(ctx, Folder(j.User), img.Data, img.ContentType)
	if err != nil {
		return err
	}
	if err := s.setAvatar(ctx, j.User, url); err != nil {
		return err
	}
	st.Status, st.URL, st.UpdatedAt = StatusDone, url, s.cfg.Now().UTC()
	if err := s.put(ctx, j.User, st); err != nil {
		return err
	}
	s.dropOthers(ctx, j.User, strings.TrimPrefix(url, MediaPrefix))
	return nil
}

// generate draws the portrait: with Runware from the prompt, offline from the subject without a
// generator. Either is counted as one call of purpose avatar, with its cost.
func (s *Service) generate(ctx context.Context, subj Subject, style string) (runware.Image, error) {
	if s.gen == nil {
		s.cfg.Metrics.Record(metrics.Sample{Dimension: metrics.DimPurpose, Value: metrics.PurposeAvatar,
			Counts: []metrics.Count{{Name: metrics.ModelCalls, Value: 1}}})
		svg := Offline(subj)
		return runware.Image{Data: svg, ContentType: SVGContentType, Width: offlineSize, Height: offlineSize, Model: "offline"}, nil
	}
	prompt, err := Prompt(subj, style)
	if err != nil {
		return runware.Image{}, err
	}
	img, err := s.gen.Generate(ctx, prompt)
	counts := []metrics.Count{{Name: metrics.ModelCalls, Value: 1}}
	if err != nil {
		counts = append(counts, metrics.Count{Name: metrics.ModelErrors, Value: 1})
	}
	if img.Cost > 0 {
		counts = append(counts, metrics.Count{Name: metrics.ModelCostMicroUSD, Value: int64(math.Round(img.Cost * 1e6))})
	}
	s.cfg.Metrics.Record(metrics.Sample{Dimension: metrics.DimPurpose, Value: metrics.PurposeAvatar, Counts: counts})
	return img, err
}

// reasonOf is the reason code of a generation that failed.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, runware.ErrNSFW):
		return "unsafe"
	case errors.Is(err, runware.ErrRejected):
		return "refused"
	case errors.Is(err, runware.ErrBadImage), errors.Is(err, errBadImage):
		return "bad_image"
	}
	return "unavailable"
}

var errBadImage = errors.New("avatar image failed checks")

// Extensions of the image types a portrait may have.
var extensions = map[string]string{"image/jpeg": "jpg", "image/png": "png", SVGContentType: "svg", "image/webp": "webp", "image/gif": "gif"}

// checkImage checks a generated image once more before it is stored: a JPEG or PNG whose bytes are
// of the type it claims, size×size, at most runware.MaxImageBytes; or the offline SVG.
func checkImage(img runware.Image, size int) error {
	if len(img.Data) == 0 || len(img.Data) > runware.MaxImageBytes {
		return fmt.Errorf("%w: %d bytes", errBadImage, len(img.Data))
	}
	if img.ContentType == SVGContentType {
		if !bytes.HasPrefix(img.Data, []byte("<svg ")) || bytes.Contains(img.Data, []byte("<script")) {
			return fmt.Errorf("%w: not the offline portrait", errBadImage)
		}
		return nil
	}
	if img.ContentType != "image/jpeg" && img.ContentType != "image/png" {
		return fmt.Errorf("%w: type %q", errBadImage, img.ContentType)
	}
	if sniffed := http.DetectContentType(img.Data); sniffed != img.ContentType {
		return fmt.Errorf("%w: %s bytes declared as %s", errBadImage, sniffed, img.ContentType)
	}
	c, _, err := image.DecodeConfig(bytes.NewReader(img.Data))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadImage, err)
	}
	if c.Width != size || c.Height != size {
		return fmt.Errorf("%w: %dx%d, want %dx%d", errBadImage, c.Width, c.Height, size, size)
	}
	return nil
}

// store puts an image into folder under the hash of its bytes and returns its URL.
func (s *Service) store(ctx context.Context, folder string, data []byte, contentType string) (string, error) {
	ext, ok := extensions[contentType]
	if !ok {
		return "", fmt.Errorf("%w: type %q", errBadImage, contentType)
	}
	key := blob.ContentKey(folder, data, ext)
	if err := s.blobs.Put(ctx, key, contentType, data); err != nil {
		return "", fmt.Errorf("store avatar %s: %w", key, err)
	}
	return MediaPrefix + key, nil
}

// setAvatar makes url the person's avatar, reading again when the record changed in between.
func (s *Service) setAvatar(ctx context.Context, userID, url string) error {
	for attempt := 0; ; attempt++ {
		u, err := s.st.GetUser(ctx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get user %s: %w", userID, err)
		}
		if u.Avatar == url {
			return nil
		}
		u.Avatar, u.UpdatedAt = url, s.cfg.Now().UTC()
		_, err = s.st.UpdateUser(ctx, u)
		if errors.Is(err, store.ErrConflict) && attempt < 3 {
			continue
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("set avatar of %s: %w", userID, err)
		}
		return nil
	}
}

// dropOthers deletes the person's images but keep: the superseded avatars (the bucket's lifecycle
// rule then removes their noncurrent versions). A failure is logged: they are removed at erase.
func (s *Service) dropOthers(ctx context.Context, userID, keep string) {
	keys, err := s.blobs.List(ctx, Folder(userID))
	for _, k := range keys {
		if k != keep && err == nil {
			err = s.blobs.Delete(ctx, k)
		}
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "superseded avatars not deleted", "user_id", userID, "err", err)
	}
}

// Erase deletes a person's images and job state (account erasure).
func (s *Service) Erase(ctx context.Context, userID string) error {
	if _, err := s.blobs.DeletePrefix(ctx, Folder(userID)); err != nil {
		return fmt.Errorf("erase avatars of %s: %w", userID, err)
	}
	if err := s.blobs.Delete(ctx, stateKey(userID)); err != nil {
		return fmt.Errorf("erase avatar job of %s: %w", userID, err)
	}
	return nil
}

// Files returns the keys of a person's stored images (for the export).
func (s *Service) Files(ctx context.Context, userID string) ([]string, error) {
	return s.blobs.List(ctx, Folder(userID))
}

// readCapped reads at most limit bytes of r; more is an error.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", errBadImage, limit)
	}
	return b, nil
}
