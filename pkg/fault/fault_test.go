package fault

import (
	"errors"
	"fmt"
	"testing"
)

func TestIs(t *testing.T) {
	t.Parallel()
	errGone := New(CodeNotFound, "session not found")
	for _, tc := range []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same variable", errGone, errGone, true},
		{"wrapped", fmt.Errorf("load: %w", errGone), errGone, true},
		{"same code and message", NotFound("session"), errGone, true},
		{"other message", NotFound("twin"), errGone, false},
		{"other code", New(CodeConflict, "session not found"), errGone, false},
		{"not a fault", errors.New("session not found"), errGone, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errors.Is(tc.err, tc.target); got != tc.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tc.err, tc.target, got, tc.want)
			}
		})
	}
}

func TestAs(t *testing.T) {
	t.Parallel()
	var e *Error
	if !errors.As(fmt.Errorf("decode: %w", Invalid("name", "required")), &e) || e.Fields["name"] != "required" {
		t.Fatalf("errors.As found %v, want the invalid_argument naming name", e)
	}
}

func TestFields(t *testing.T) {
	t.Parallel()
	f := Fields{}
	if err := f.Err(); err != nil {
		t.Fatalf("no failures: %v, want nil", err)
	}
	f.Add("b", "too long")
	f.Add("a", "required")
	f.Add("a", "second reason")
	var e *Error
	if !errors.As(f.Err(), &e) || e.Code != CodeInvalidArgument {
		t.Fatalf("Err = %v, want invalid_argument", f.Err())
	}
	if want := "invalid fields: a (required) b (too long)"; e.Message != want {
		t.Errorf("message = %q, want %q (sorted, first reason kept)", e.Message, want)
	}
}
