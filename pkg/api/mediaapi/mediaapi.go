// Package mediaapi serves stored media on the public origin: GET /media/<key> answers the object of
// blob storage under key (a person's avatar: avatars/<user>/<sha256>.<ext>), with long-lived immutable
// cache headers, since a key names its content. The web function serves it on AWS, the local stack
// and the gateway locally.
package mediaapi

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/fault"
)

// Getter reads stored objects (blob.Store).
type Getter interface {
	Get(ctx context.Context, key string) (blob.Object, error)
}

// servable is the form of the keys served: images in a person's folder, named by their hash. Any
// other key (a job's state, a folder, "..") is not found.
var servable = regexp.MustCompile(`^avatars/[0-9A-Z]{26}/(imported/)?[0-9a-f]{64}\.(jpg|png|gif|webp|svg)$`)

// types are the content types served, by extension: an object stored with another type is not served.
var types = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/svg+xml": true}

// Handler serves GET /media/{key...}.
type Handler struct {
	blobs Getter
}

// New returns the media route over blobs.
func New(blobs Getter) *Handler { return &Handler{blobs: blobs} }

// Register adds GET /media/{key...} to rt.
func (h *Handler) Register(rt *api.Router) {
	rt.HandleFunc("GET /media/{key...}", h.get)
}

var errNotFound = fault.NotFound("media")

func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key")
	if !servable.MatchString(key) || !blob.ValidKey(key) {
		return errNotFound
	}
	obj, err := h.blobs.Get(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if !types[obj.ContentType] {
		return errNotFound
	}
	hd := w.Header()
	hd.Set("Content-Type", obj.ContentType)
	hd.Set("Content-Length", strconv.Itoa(len(obj.Body)))
	hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	hd.Set("X-Content-Type-Options", "nosniff")
	// An SVG opened on its own runs nothing and loads nothing.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(obj.Body)
	return nil
}
