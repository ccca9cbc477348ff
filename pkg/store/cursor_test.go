package store

import (
	"errors"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := EncodeCursor("sessions:u1", "2026-11-25T10:00:00Z", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
	got, err := DecodeCursor("sessions:u1", c, 2)
	if err != nil {
		t.Fatalf("DecodeCursor: %v", err)
	}
	if got[0] != "2026-11-25T10:00:00Z" || got[1] != "01ARZ3NDEKTSV4RRFFQ69G5FAV" {
		t.Errorf("got %q, want the encoded parts", got)
	}
}

func TestCursorRefused(t *testing.T) {
	t.Parallel()
	good := EncodeCursor("sessions:u1", "a", "b")
	tests := []struct {
		name   string
		scope  string
		cursor string
		n      int
	}{
		{"foreign scope", "sessions:u2", good, 2},
		{"other listing", "messages:u1", good, 2},
		{"wrong part count", "sessions:u1", good, 3},
		{"not base64", "sessions:u1", "!!!", 2},
		{"not json", "sessions:u1", "bm90IGpzb24", 2},
		{"tampered", "sessions:u1", good[:len(good)-2] + "xx", 2},
		{"huge", "sessions:u1", string(make([]byte, 2000)), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeCursor(tt.scope, tt.cursor, tt.n); !errors.Is(err, ErrBadCursor) {
				t.Errorf("DecodeCursor = %v, want ErrBadCursor", err)
			}
		})
	}
}

func TestEmptyCursorIsFirstPage(t *testing.T) {
	t.Parallel()
	got, err := DecodeCursor("x", "", 1)
	if err != nil || got != nil {
		t.Errorf("DecodeCursor(\"\") = %v, %v; want nil, nil", got, err)
	}
}
