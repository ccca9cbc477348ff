package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/fault"
)

// Signer makes and checks signed links to archives served by this service (GET
// /api/user/export/{jobId}/archive): the local stack's Linker, where no S3 presigns. A link names the
// person and an expiry, and carries an HMAC-SHA256 of the archive's key and the expiry: it works
// without a session until it expires, like a presigned S3 URL, and for nothing else.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer with key (any length; derive it from a secret) and clock now (time.Now
// when nil).
func NewSigner(key []byte, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, now: now}
}

// ArchivePath is the path of an archive's signed link.
func ArchivePath(job string) string { return "/api/user/export/" + job + "/archive" }

// Link implements Linker for an archive key (exports/<user>/<job>.zip).
func (s *Signer) Link(_ context.Context, key, _ string, ttl time.Duration) (string, error) {
	userID, job, ok := splitArchiveKey(key)
	if !ok {
		return "", fmt.Errorf("sign link: %q is not an archive key", key)
	}
	exp := strconv.FormatInt(s.now().Add(ttl).Unix(), 10)
	q := url.Values{"user": {userID}, "exp": {exp}, "sig": {s.sign(key, exp)}}
	return ArchivePath(job) + "?" + q.Encode(), nil
}

// Check returns the archive key a link of job with the query q (user, exp, sig) grants; not_found when
// the signature is wrong or the link expired (saying no more).
func (s *Signer) Check(job string, q url.Values) (string, error) {
	key := archiveKey(q.Get("user"), job)
	exp, err := strconv.ParseInt(q.Get("exp"), 10, 64)
	sig := q.Get("sig")
	if err != nil || sig == "" || !hmac.Equal([]byte(sig), []byte(s.sign(key, q.Get("exp")))) || s.now().Unix() > exp {
		return "", fault.NotFound("export")
	}
	return key, nil
}

func (s *Signer) sign(key, exp string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(key + "|" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// splitArchiveKey returns the person and job of an archive key.
func splitArchiveKey(key string) (userID, job string, ok bool) {
	rest, ok := strings.CutPrefix(key, "exports/")
	if !ok {
		return "", "", false
	}
	userID, file, ok := strings.Cut(rest, "/")
	job, zipped := strings.CutSuffix(file, ".zip")
	return userID, job, ok && zipped && userID != "" && job != ""
}

// Download returns the archive a signed link (Signer) grants. not_found when the link is wrong or
// expired, the archive is gone, or this service does not sign links.
func (s *Service) Download(ctx context.Context, job string, q url.Values) ([]byte, error) {
	signer, ok := s.links.(*Signer)
	if !ok || s.objs == nil {
		return nil, fault.NotFound("export")
	}
	key, err := signer.Check(job, q)
	if err != nil {
		return nil, err
	}
	obj, err := s.objs.Get(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fault.NotFound("export")
	}
	if err != nil {
		return nil, fmt.Errorf("read export %s: %w", key, err)
	}
	return obj.Body, nil
}
