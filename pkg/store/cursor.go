package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// cursor is the JSON inside an opaque page cursor: the listing it belongs to and the position after
// which the next page starts.
type cursor struct {
	Scope string   `json:"s"`
	Key   []string `json:"k"`
}

// EncodeCursor makes an opaque cursor for a position (the sort key parts of the last item returned)
// within one listing, named by scope (for example "sessions:" + ownerID).
func EncodeCursor(scope string, key ...string) string {
	b, _ := json.Marshal(cursor{Scope: scope, Key: key})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor returns the position of a cursor made by EncodeCursor for the same scope with n key
// parts. An empty cursor returns nil (the first page). A cursor that does not decode, belongs to another
// scope or has another number of parts returns ErrBadCursor. Stores still check each part's format
// before they build a database key from it.
func DecodeCursor(scope, s string, n int) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > 1024 {
		return nil, fmt.Errorf("cursor too long: %w", ErrBadCursor)
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("cursor encoding: %w", ErrBadCursor)
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("cursor content: %w", ErrBadCursor)
	}
	if c.Scope != scope || len(c.Key) != n {
		return nil, fmt.Errorf("cursor of another listing: %w", ErrBadCursor)
	}
	return c.Key, nil
}
