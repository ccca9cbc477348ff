package avatar_test

import (
	"testing"

	"github.com/secondme/twin/pkg/avatar"
)

// FuzzDecodeJob feeds the job decoder arbitrary message bodies: it never panics, and what it accepts
// encodes back to a body it accepts as the same job.
func FuzzDecodeJob(f *testing.F) {
	f.Add([]byte(`{"kind":"avatar","user":"01HZZZZZZZZZZZZZZZZZZZZZZZ","job":"01HZZZZZZZZZZZZZZZZZZZZZZA","style":"pixel"}`))
	f.Add([]byte(`{"kind":"pair","a":"x","b":"y"}`))
	f.Add([]byte(`{"kind":"avatar","user":"01HZZZZZZZZZZZZZZZZZZZZZZZ","job":"01HZZZZZZZZZZZZZZZZZZZZZZA","style":"pixel","x":1}`))
	f.Add([]byte(`{"kind":"avatar"} {}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		j, err := avatar.DecodeJob(body)
		if err != nil {
			return
		}
		if !avatar.IsJob(body) {
			t.Errorf("decoded %q but IsJob says no", body)
		}
		again, err := avatar.DecodeJob(j.Encode())
		if err != nil || again != j {
			t.Errorf("round trip of %+v: %+v, %v", j, again, err)
		}
	})
}
