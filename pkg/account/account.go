// Package account runs a person's two requests about their whole account that can be heavy as jobs
// on the job queue: the export (an archive written to object storage and fetched through a
// short-lived link) and the heavy part of an erase (chats, matches, media), so that neither is bound
// by a request's time or a response's size. docs/api.md has the routes.
package account

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/queue"
	"github.com/secondme/twin/pkg/store"
)

// Kinds of the jobs on the job queue.
const (
	KindExport = "export"
	KindErase  = "erase"
)

// Export job statuses.
const (
	StatusPending = "pending"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

const (
	// LinkTTL is how long an archive's link works.
	LinkTTL = 5 * time.Minute
	// ExportTimeout is how long an export may take before it is reported failed: its job has by then
	// been tried as often as the queue tries a job (5 receives, 7 minutes apart: infra/template checks
	// it) and, still failing, set aside in the dead-letter queue.
	ExportTimeout = 40 * time.Minute
	// DefaultDaily is how many exports one person may start in a UTC day.
	DefaultDaily = 10
	// keepArchives is how long an archive is kept (the bucket's lifecycle rule expires them too).
	keepArchives = 24 * time.Hour
	// budgetName is the daily counter of exports (store.ConsumeBudget).
	budgetName = "export"
	// ArchiveName is the file name the person's browser saves.
	ArchiveName = "secondme-export.zip"
	// documentName is the JSON document's name inside the archive.
	documentName = "secondme-export.json"
)

// Job is a message on the job queue.
type Job struct {
	Kind string `json:"kind"`
	User string `json:"user"`
	// ID is an export's job id (a ULID: its time is when the export was asked for).
	ID string `json:"job,omitempty"`
}

// ErrBadJob means a message body is not an account job (queue.ErrBadJob). Retrying it cannot help.
var ErrBadJob = fmt.Errorf("bad account job: %w", queue.ErrBadJob)

// maxJobBytes bounds a job body; real ones are under 100 bytes.
const maxJobBytes = 512

// IsJob reports whether body claims to be a job of this package (an export or an erase); DecodeJob
// then checks it.
func IsJob(body []byte) bool {
	k := queue.Kind(body, maxJobBytes)
	return k == KindExport || k == KindErase
}

// DecodeJob reads a message body strictly: one JSON object with exactly a job's fields, the person's
// id in our format, and the job id of an export (an erase has none). Any other body is ErrBadJob.
func DecodeJob(body []byte) (Job, error) {
	var j Job
	if err := queue.Decode(body, maxJobBytes, &j); err != nil {
		return Job{}, fmt.Errorf("%w: %v", ErrBadJob, err)
	}
	switch {
	case !id.Valid(j.User):
		return Job{}, fmt.Errorf("%w: user is not an id", ErrBadJob)
	case j.Kind == KindExport && !id.Valid(j.ID):
		return Job{}, fmt.Errorf("%w: an export's job is not an id", ErrBadJob)
	case j.Kind == KindErase && j.ID != "":
		return Job{}, fmt.Errorf("%w: an erase has no job id", ErrBadJob)
	case j.Kind != KindExport && j.Kind != KindErase:
		return Job{}, fmt.Errorf("%w: unknown kind %q", ErrBadJob, j.Kind)
	}
	return j, nil
}

// Store is what the jobs read and remove of a person.
type Store interface {
	profile.ExportStore
	EraseAccount(ctx context.Context, userID string) error
	EraseUser(ctx context.Context, userID string) error
	ConsumeBudget(ctx context.Context, owner, name, day string, n, limit int) (int, error)
}

// Objects is the object storage the archives are written to (blob.Store has it).
type Objects interface {
	Put(ctx context.Context, key, contentType string, body []byte) error
	Get(ctx context.Context, key string) (blob.Object, error)
	Delete(ctx context.Context, key string) error
	List(ctx context.Context, prefix string) ([]string, error)
	DeletePrefix(ctx context.Context, prefix string) (int, error)
}

// Media is a person's stored media (their avatar images: avatar.Service has it).
type Media interface {
	// Files returns the keys of the person's stored files.
	Files(ctx context.Context, userID string) ([]string, error)
	// Erase deletes them.
	Erase(ctx context.Context, userID string) error
}

// Linker makes a link that fetches the object key for ttl, saved as filename: a presigned S3 URL
// (S3Links), or a signed path of this service (Signer).
type Linker interface {
	Link(ctx context.Context, key, filename string, ttl time.Duration) (string, error)
}

// Config tunes the Service.
type Config struct {
	// Media, when set, are the person's files put in the archive and erased with them.
	Media Media
	// Daily is how many exports a person may start in a UTC day (DefaultDaily when zero).
	Daily int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger is slog.Default() when nil.
	Logger *slog.Logger
}

// Service starts, runs and reports the account jobs.
type Service struct {
	st    Store
	queue queue.Sender
	objs  Objects
	links Linker
	cfg   Config
}

// New returns the Service. objs and links may be nil in a function that only erases.
func New(st Store, q queue.Sender, objs Objects, links Linker, cfg Config) *Service {
	if cfg.Daily == 0 {
		cfg.Daily = DefaultDaily
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{st: st, queue: q, objs: objs, links: links, cfg: cfg}
}

// Export is where an export job is, as GET /api/user/export/{jobId} answers.
type Export struct {
	Job    string `json:"jobId"`
	Status string `json:"status"`
	// URL fetches the archive until ExpiresAt (done only); ask again for a fresh one.
	URL       string    `json:"url,omitempty"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// prefix is the folder of a person's archives.
func prefix(userID string) string { return "exports/" + userID + "/" }

// archiveKey is the key of an export's archive.
func archiveKey(userID, job string) string { return prefix(userID) + job + ".zip" }

// markerKey is the key of the marker of an export not written yet: it tells the person's jobs from
// others'.
func markerKey(userID, job string) string { return prefix(userID) + job + ".pending" }

// StartExport queues an export of the person's data and returns its job. rate_limited when the person
// started DefaultDaily today; upstream_unavailable when the queue refuses the job.
func (s *Service) StartExport(ctx context.Context, userID string) (Export, error) {
	if s.objs == nil || s.links == nil {
		return Export{}, fault.Unavailable("exports are not configured here (no media storage)")
	}
	now := s.cfg.Now().UTC()
	_, err := s.st.ConsumeBudget(ctx, userID, budgetName, now.Format(time.DateOnly), 1, s.cfg.Daily)
	if errors.Is(err, store.ErrQuotaExceeded) {
		return Export{}, &fault.Error{Code: fault.CodeRateLimited, Message: fmt.Sprintf("at most %d exports a day; try again tomorrow", s.cfg.Daily),
			RetryAfter: now.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(now)}
	}
	if err != nil {
		return Export{}, fmt.Errorf("count exports of %s: %w", userID, err)
	}
	j := Job{Kind: KindExport, User: userID, ID: id.At(now)}
	if err := s.objs.Put(ctx, markerKey(userID, j.ID), "application/json", []byte("{}")); err != nil {
		return Export{}, fmt.Errorf("mark export %s: %w", j.ID, err)
	}
	if err := s.send(ctx, j); err != nil {
		return Export{}, err
	}
	return Export{Job: j.ID, Status: StatusPending}, nil
}

// send puts j on the queue.
func (s *Service) send(ctx context.Context, j Job) error {
	body, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encode %s job: %w", j.Kind, err)
	}
	if err := s.queue.Send(ctx, body); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "account job not queued", "kind", j.Kind, "user_id", j.User, "err", err)
		return fault.Unavailable("the job could not be started; try again in a minute")
	}
	return nil
}

// Export reports the person's export job: done with a fresh link once its archive is written,
// failed when it was not written within ExportTimeout, else pending. A job id that is not one of the
// person's is not_found.
func (s *Service) Export(ctx context.Context, userID, job string) (Export, error) {
	at, ok := jobTime(job)
	if !ok || s.objs == nil || s.links == nil {
		return Export{}, fault.NotFound("export")
	}
	now := s.cfg.Now()
	keys, err := s.objs.List(ctx, prefix(userID))
	if err != nil {
		return Export{}, fmt.Errorf("list exports of %s: %w", userID, err)
	}
	key := archiveKey(userID, job)
	switch {
	case slices.Contains(keys, key):
		url, err := s.links.Link(ctx, key, ArchiveName, LinkTTL)
		if err != nil {
			return Export{}, fmt.Errorf("link export %s: %w", key, err)
		}
		return Export{Job: job, Status: StatusDone, URL: url, ExpiresAt: now.Add(LinkTTL).UTC()}, nil
	case !slices.Contains(keys, markerKey(userID, job)):
		return Export{}, fault.NotFound("export")
	case now.Sub(at) > ExportTimeout:
		return Export{Job: job, Status: StatusFailed}, nil
	}
	return Export{Job: job, Status: StatusPending}, nil
}

// jobTime returns the time of a job id.
func jobTime(job string) (time.Time, bool) {
	if !id.Valid(job) {
		return time.Time{}, false
	}
	return ulid.Time(ulid.MustParse(job).Time()), true
}

// Erase erases the person: at once their profile, identities and login sessions (nobody sees them
// and they are signed out everywhere), and, as a job, everything else (chats, matches, blocks,
// media, archives). The job is queued first, so that nothing is left behind when the rest fails: the
// person may ask again, and the job, which a retry completes, removes it all anyway.
func (s *Service) Erase(ctx context.Context, userID string) error {
	if err := s.send(ctx, Job{Kind: KindErase, User: userID}); err != nil {
		return err
	}
	if err := s.st.EraseAccount(ctx, userID); err != nil {
		return fmt.Errorf("erase account %s: %w", userID, err)
	}
	return nil
}

// Handle runs one job from the queue. An error leaves the job to the queue's retry; both jobs
// complete when run again after a failure part-way.
func (s *Service) Handle(ctx context.Context, body []byte) error {
	j, err := DecodeJob(body)
	if err != nil {
		return err
	}
	if j.Kind == KindExport {
		return s.export(ctx, j.User, j.ID)
	}
	return s.erase(ctx, j.User)
}

// export writes the person's archive: the JSON document of profile.Export and their media files.
func (s *Service) export(ctx context.Context, userID, job string) error {
	if s.objs == nil {
		return errors.New("export job: no media storage configured")
	}
	now := s.cfg.Now()
	doc, err := profile.Export(ctx, s.st, userID, now)
	if errors.Is(err, store.ErrNotFound) {
		s.cfg.Logger.InfoContext(ctx, "export of a person erased since: nothing to write", "user_id", userID, "job", job)
		return nil
	}
	if err != nil {
		return err
	}
	archive, err := s.archive(ctx, userID, doc)
	if err != nil {
		return err
	}
	key := archiveKey(userID, job)
	if err := s.objs.Put(ctx, key, "application/zip", archive); err != nil {
		return fmt.Errorf("write export %s: %w", key, err)
	}
	// An erase that ran while the archive was written does not leave it behind.
	if _, err := s.st.GetUser(ctx, userID); errors.Is(err, store.ErrNotFound) {
		return s.objs.Delete(ctx, key)
	}
	if err := s.objs.Delete(ctx, markerKey(userID, job)); err != nil {
		s.cfg.Logger.WarnContext(ctx, "export marker not deleted", "user_id", userID, "job", job, "err", err)
	}
	s.dropOld(ctx, userID, now)
	s.cfg.Logger.InfoContext(ctx, "export written", "user_id", userID, "job", job, "bytes", len(archive))
	return nil
}

// archive zips the document and the person's media files (under media/).
func (s *Service) archive(ctx context.Context, userID string, doc profile.Document) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, b []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: doc.ExportedAt})
		if err == nil {
			_, err = w.Write(b)
		}
		return err
	}
	js, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode export: %w", err)
	}
	if err := add(documentName, js); err != nil {
		return nil, fmt.Errorf("zip export: %w", err)
	}
	if s.cfg.Media != nil {
		keys, err := s.cfg.Media.Files(ctx, userID)
		if err != nil {
			return nil, fmt.Errorf("list media of %s: %w", userID, err)
		}
		for _, k := range keys {
			obj, err := s.objs.Get(ctx, k)
			if errors.Is(err, blob.ErrNotFound) { // replaced since it was listed
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read media %s: %w", k, err)
			}
			if err := add("media/"+path.Base(k), obj.Body); err != nil {
				return nil, fmt.Errorf("zip export: %w", err)
			}
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("zip export: %w", err)
	}
	return buf.Bytes(), nil
}

// dropOld deletes the person's archives older than keepArchives (the bucket's lifecycle rule does it
// too; the local stack has only this).
func (s *Service) dropOld(ctx context.Context, userID string, now time.Time) {
	keys, err := s.objs.List(ctx, prefix(userID))
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "old exports not listed", "user_id", userID, "err", err)
		return
	}
	for _, k := range keys {
		base := path.Base(k)
		at, ok := jobTime(strings.TrimSuffix(base, path.Ext(base)))
		if ok && now.Sub(at) <= keepArchives {
			continue
		}
		if err := s.objs.Delete(ctx, k); err != nil {
			s.cfg.Logger.WarnContext(ctx, "old export not deleted", "key", k, "err", err)
		}
	}
}

// erase removes everything EraseAccount left: the person's records (store.EraseUser), media and
// archives.
func (s *Service) erase(ctx context.Context, userID string) error {
	if err := s.st.EraseUser(ctx, userID); err != nil {
		return err
	}
	if s.cfg.Media != nil {
		if err := s.cfg.Media.Erase(ctx, userID); err != nil {
			return err
		}
	}
	if s.objs != nil {
		if _, err := s.objs.DeletePrefix(ctx, prefix(userID)); err != nil {
			return fmt.Errorf("erase exports of %s: %w", userID, err)
		}
	}
	s.cfg.Logger.InfoContext(ctx, "account erased", "user_id", userID)
	return nil
}
