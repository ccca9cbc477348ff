package usersapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/secondme/twin/pkg/account"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/id"
)

// Account runs a person's export and erase as jobs (account.Service).
type Account interface {
	// StartExport queues an export of the person's data.
	StartExport(ctx context.Context, userID string) (account.Export, error)
	// Export reports an export job of the person, with a short-lived link once done.
	Export(ctx context.Context, userID, job string) (account.Export, error)
	// Download returns the archive a signed link of this service grants (the local stack's links).
	Download(ctx context.Context, job string, q url.Values) ([]byte, error)
	// Erase removes the person's profile, identities and login sessions at once and queues the rest.
	Erase(ctx context.Context, userID string) error
}

// WithAccount serves the export job routes with acc and erases through it (the heavy part as a job).
// Without it, POST /api/user/export answers 503 and DELETE /api/user erases everything in the request.
func WithAccount(acc Account) Option { return func(h *Handler) { h.account = acc } }

// errNoExports answers the export job routes of a function without the account jobs.
var errNoExports = fault.Unavailable("exports are not available here")

// postExport starts an export: 202 with the job, which GET /api/user/export/{jobId} then reports.
func (h *Handler) postExport(w http.ResponseWriter, r *http.Request) error {
	if h.account == nil {
		return errNoExports
	}
	ctx := r.Context()
	if _, err := h.me(ctx); err != nil {
		return err
	}
	ex, err := h.account.StartExport(ctx, api.UserID(ctx))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/user/export/"+ex.Job)
	api.WriteJSON(w, http.StatusAccepted, ex)
	return nil
}

// getExportJob reports an export job: pending, failed, or done with a link that works for a few
// minutes (ask again for a fresh one).
func (h *Handler) getExportJob(w http.ResponseWriter, r *http.Request) error {
	if h.account == nil {
		return errNoExports
	}
	job := r.PathValue("jobId")
	if !id.Valid(job) {
		return fault.Invalid("jobId", "not an export job id")
	}
	ctx := r.Context()
	ex, err := h.account.Export(ctx, api.UserID(ctx), job)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	api.WriteJSON(w, http.StatusOK, ex)
	return nil
}

// getArchive answers a signed archive link of this service (the local stack; on AWS the link is a
// presigned S3 URL): the signature, not a session, grants it.
func (h *Handler) getArchive(w http.ResponseWriter, r *http.Request) error {
	if h.account == nil {
		return fault.NotFound("export")
	}
	job := r.PathValue("jobId")
	if !id.Valid(job) {
		return fault.NotFound("export")
	}
	b, err := h.account.Download(r.Context(), job, r.URL.Query())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", account.ArchiveName))
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	_, _ = w.Write(b)
	return nil
}

// clearSessionCookie clears the login session cookie of an erased person.
func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: !plainLoopback(r),
		SameSite: http.SameSiteLaxMode,
	})
}

// MaxInlineExport bounds the document GET /api/user/export answers in the response: a Lambda
// response holds at most 6 MB. A larger one answers 413, and the client starts an export job.
const MaxInlineExport = 5 << 20
