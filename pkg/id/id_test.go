package id

import (
	"testing"
	"time"
)

func TestValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"fresh", New(), true},
		{"empty", "", false},
		{"short", "01ARZ3NDEKTSV4RRFFQ69G5FA", false},
		{"lower case", "01arz3ndektsv4rrffq69g5fav", false},
		{"bad letter", "01ARZ3NDEKTSV4RRFFQ69G5FAU", false},
		{"path", "../../etc/passwd0000000000", false},
		{"overflow", "81ARZ3NDEKTSV4RRFFQ69G5FAV", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.in); got != tt.want {
				t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestSortsByTime(t *testing.T) {
	t.Parallel()
	a := At(time.Unix(1000, 0))
	b := At(time.Unix(2000, 0))
	if a >= b {
		t.Errorf("At(1000) = %s, At(2000) = %s: want the earlier id first", a, b)
	}
}
