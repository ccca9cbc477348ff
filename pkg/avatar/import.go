package avatar

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/secondme/twin/pkg/runware"
)

// ImportTimeout bounds the fetch of an avatar Import copies.
const ImportTimeout = 10 * time.Second

// maxImportSide bounds the width and height of an imported avatar.
const maxImportSide = 4096

// Import copies the avatar at src (a SecondMe or OpenID Connect profile picture) into the person's
// folder and returns the URL to keep: its copy on our origin, so that no page hot-links a third-party
// host. current is the person's avatar now: a portrait they made here is kept as it is (a sync does
// not undo it); the same bytes imported again get the same URL. src must be https; the image is fetched within ImportTimeout, at
// most runware.MaxImageBytes, and must be a JPEG, PNG, GIF or WebP by its bytes. On an error the
// caller keeps current.
func (s *Service) Import(ctx context.Context, userID, current, src string) (string, error) {
	if s.isPortrait(userID, current) || src == "" {
		return current, nil
	}
	u, err := url.Parse(src)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return current, fmt.Errorf("avatar %q is not an https URL", src)
	}
	ctx, cancel := context.WithTimeout(ctx, ImportTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return current, err
	}
	req.Header.Set("Accept", "image/*")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return current, fmt.Errorf("fetch avatar: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return current, fmt.Errorf("fetch avatar: status %d", resp.StatusCode)
	}
	data, err := readCapped(resp.Body, runware.MaxImageBytes)
	if err != nil {
		return current, fmt.Errorf("fetch avatar: %w", err)
	}
	ct := http.DetectContentType(data)
	switch ct {
	case "image/jpeg", "image/png", "image/gif":
		c, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || c.Width > maxImportSide || c.Height > maxImportSide || c.Width == 0 || c.Height == 0 {
			return current, fmt.Errorf("%w: imported %s does not decode or is too large", errBadImage, ct)
		}
	case "image/webp":
	default:
		return current, fmt.Errorf("%w: imported avatar is %s", errBadImage, ct)
	}
	return s.store(ctx, importedFolder(userID), data, ct)
}

// importedFolder is the blob folder of a person's imported avatars, inside their folder.
func importedFolder(userID string) string { return Folder(userID) + "imported/" }

// isPortrait reports whether avatar is a portrait the person made here: an image in their folder
// but not among the imported copies.
func (s *Service) isPortrait(userID, avatar string) bool {
	return strings.HasPrefix(avatar, MediaPrefix+Folder(userID)) && !strings.HasPrefix(avatar, MediaPrefix+importedFolder(userID))
}
