// Package id makes and checks the identifiers of our own records: ULIDs, which sort by creation time.
package id

import (
	"crypto/rand"
	"time"

	"github.com/oklog/ulid/v2"
)

// New returns a fresh ULID string for the current time.
func New() string { return At(time.Now()) }

// At returns a fresh ULID string whose time part is t.
func At(t time.Time) string {
	return ulid.MustNew(ulid.Timestamp(t), rand.Reader).String()
}

// Valid reports whether s is an id in our own format: a 26-character canonical ULID.
func Valid(s string) bool {
	if len(s) != ulid.EncodedSize {
		return false
	}
	u, err := ulid.ParseStrict(s)
	return err == nil && u.String() == s
}
