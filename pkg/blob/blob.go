// Package blob is object storage: whole objects under keys, each with its content type. Two stores
// implement it: Dir (files under a directory, the local stack) and S3 (an S3 bucket, deployed). Keys
// are slash-separated paths of plain segments; ContentKey names an object by a hash of its bytes, so
// that new content is a new key and a key's content never changes.
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// ErrNotFound means no object has the key.
var ErrNotFound = errors.New("object not found")

// ErrBadKey means a key is not a valid key (ValidKey).
var ErrBadKey = errors.New("bad object key")

// MaxKeyBytes bounds a key.
const MaxKeyBytes = 512

// Object is a stored object.
type Object struct {
	Body        []byte
	ContentType string
}

// Store keeps objects. Implementations are safe for concurrent use.
type Store interface {
	// Put stores body under key with its content type, replacing any object there.
	Put(ctx context.Context, key, contentType string, body []byte) error
	// Get returns the object under key; ErrNotFound when there is none.
	Get(ctx context.Context, key string) (Object, error)
	// Delete removes the object under key; deleting an unknown key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys that start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// DeletePrefix removes every object whose key starts with prefix (a person's folder, at erase)
	// and returns how many it removed. prefix must end with "/".
	DeletePrefix(ctx context.Context, prefix string) (int, error)
}

// ValidKey reports whether key is a key: at most MaxKeyBytes, segments separated by single slashes,
// each made of ASCII letters, digits, '-', '_' and '.', not starting with a dot (so no "." or ".."
// segment, no hidden file) and not empty.
func ValidKey(key string) bool {
	if key == "" || len(key) > MaxKeyBytes {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
				return false
			}
		}
	}
	return true
}

// validPrefix reports whether prefix is a folder: a valid key followed by "/".
func validPrefix(prefix string) bool {
	return strings.HasSuffix(prefix, "/") && ValidKey(strings.TrimSuffix(prefix, "/"))
}

// ContentKey returns the key of body in folder: folder/<sha256 of body in hex>.<ext>. The same bytes
// always get the same key, so storing them again changes nothing.
func ContentKey(folder string, body []byte, ext string) string {
	sum := sha256.Sum256(body)
	return strings.TrimSuffix(folder, "/") + "/" + hex.EncodeToString(sum[:]) + "." + ext
}
