package rematch_test

import (
	"errors"
	"testing"

	"github.com/secondme/twin/pkg/rematch"
)

const (
	idA = "01M8A4CY44FCM3Z8GV675Z3JNY"
	idB = "01M8A4CY456EYERJS3HV87X3QV"
)

func TestDecodeJob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body string
		want       rematch.Job
		ok         bool
	}{
		{"pair", `{"kind":"pair","a":"` + idA + `","b":"` + idB + `"}`, rematch.Job{Kind: "pair", A: idA, B: idB}, true},
		{"pair reversed is canonicalised", `{"kind":"pair","a":"` + idB + `","b":"` + idA + `"}`, rematch.Job{Kind: "pair", A: idA, B: idB}, true},
		{"user", `{"kind":"user","user":"` + idA + `"}`, rematch.Job{Kind: "user", User: idA}, true},
		{"pair by b", `{"kind":"pair","a":"` + idB + `","b":"` + idA + `","by":"` + idB + `"}`, rematch.Job{Kind: "pair", A: idA, B: idB, By: idB}, true},
		{"pair by someone else", `{"kind":"pair","a":"` + idA + `","b":"` + idB + `","by":"01M8A4CY44FCM3Z8GV675Z3JNZ"}`, rematch.Job{}, false},
		{"deferring pair", `{"kind":"pair","a":"` + idA + `","b":"` + idB + `","defer":true}`, rematch.Job{Kind: "pair", A: idA, B: idB, Defer: true}, true},
		{"deferring pair by a", `{"kind":"pair","a":"` + idA + `","b":"` + idB + `","by":"` + idA + `","defer":true}`, rematch.Job{}, false},
		{"deferring score-only pair", `{"kind":"pair","a":"` + idA + `","b":"` + idB + `","scoreOnly":true,"defer":true}`, rematch.Job{}, false},
		{"deferring user", `{"kind":"user","user":"` + idA + `","defer":true}`, rematch.Job{}, false},
		{"pair dirty", `{"kind":"pair","a":"` + idA + `","b":"` + idB + `","dirty":true}`, rematch.Job{}, false},
		{"dirty user", `{"kind":"user","user":"` + idA + `","dirty":true}`, rematch.Job{Kind: "user", User: idA, Dirty: true}, true},
		{"score-only user", `{"kind":"user","user":"` + idA + `","scoreOnly":true}`, rematch.Job{Kind: "user", User: idA, ScoreOnly: true}, true},
		{"dirty score-only user", `{"kind":"user","user":"` + idA + `","dirty":true,"scoreOnly":true}`, rematch.Job{}, false},
		{"user with by", `{"kind":"user","user":"` + idA + `","by":"` + idA + `"}`, rematch.Job{}, false},
		{"unknown kind", `{"kind":"all"}`, rematch.Job{}, false},
		{"no kind", `{"a":"` + idA + `","b":"` + idB + `"}`, rematch.Job{}, false},
		{"unknown field", `{"kind":"user","user":"` + idA + `","force":true}`, rematch.Job{}, false},
		{"bad id", `{"kind":"user","user":"alice"}`, rematch.Job{}, false},
		{"lower-case id", `{"kind":"user","user":"01m8a4cy44fcm3z8gv675z3jny"}`, rematch.Job{}, false},
		{"pair of one", `{"kind":"pair","a":"` + idA + `","b":"` + idA + `"}`, rematch.Job{}, false},
		{"pair with user", `{"kind":"pair","a":"` + idA + `","b":"` + idB + `","user":"` + idA + `"}`, rematch.Job{}, false},
		{"user with a", `{"kind":"user","user":"` + idA + `","a":"` + idB + `"}`, rematch.Job{}, false},
		{"wrong type", `{"kind":1}`, rematch.Job{}, false},
		{"trailing data", `{"kind":"user","user":"` + idA + `"} {}`, rematch.Job{}, false},
		{"not json", `pair`, rematch.Job{}, false},
		{"empty", ``, rematch.Job{}, false},
		{"array", `[]`, rematch.Job{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rematch.DecodeJob([]byte(tt.body))
			if tt.ok != (err == nil) || got != tt.want {
				t.Errorf("DecodeJob(%s) = %+v, %v; want %+v ok=%v", tt.body, got, err, tt.want, tt.ok)
			}
			if err != nil && !errors.Is(err, rematch.ErrBadJob) {
				t.Errorf("err = %v, want ErrBadJob", err)
			}
		})
	}
}

func TestJobRoundTrip(t *testing.T) {
	t.Parallel()
	for _, j := range []rematch.Job{rematch.PairJob(idB, idA), rematch.UserJob(idA), rematch.PairJobBy(idB, idA, idB), rematch.DirtyUserJob(idA), rematch.ScoreOnlyUserJob(idA)} {
		got, err := rematch.DecodeJob(j.Encode())
		if err != nil || got != j {
			t.Errorf("DecodeJob(Encode(%+v)) = %+v, %v", j, got, err)
		}
	}
	if j := rematch.PairJob(idB, idA); j.A != idA || j.B != idB {
		t.Errorf("PairJob(b, a) = %+v, want a < b", j)
	}
}

// FuzzDecodeJob checks the decoder of queue messages: it never panics, whatever it accepts is a valid
// job that encodes back to itself, and everything it refuses is ErrBadJob.
func FuzzDecodeJob(f *testing.F) {
	f.Add([]byte(`{"kind":"pair","a":"` + idA + `","b":"` + idB + `"}`))
	f.Add([]byte(`{"kind":"user","user":"` + idA + `"}`))
	f.Add([]byte(`{"kind":"pair","a":"` + idA + `","b":"` + idA + `"}`))
	f.Add([]byte(`{"kind":"user","user":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		j, err := rematch.DecodeJob(body)
		if err != nil {
			if !errors.Is(err, rematch.ErrBadJob) {
				t.Fatalf("err = %v, want ErrBadJob", err)
			}
			return
		}
		if j.Kind == rematch.KindPair && !(j.A < j.B) {
			t.Fatalf("pair %+v not in order", j)
		}
		again, err := rematch.DecodeJob(j.Encode())
		if err != nil || again != j {
			t.Fatalf("re-decoding %+v: %+v, %v", j, again, err)
		}
	})
}
