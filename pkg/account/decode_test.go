package account_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/secondme/twin/pkg/account"
	"github.com/secondme/twin/pkg/queue"
)

const (
	someone = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
	someJob = "01HZZZZZZZZZZZZZZZZZZZZZZA"
)

// TestDecodeJob checks the account jobs' decoder: the two kinds with their fields, and anything else
// refused as a bad job that no retry can cure.
func TestDecodeJob(t *testing.T) {
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"export", `{"kind":"export","user":"` + someone + `","job":"` + someJob + `"}`, true},
		{"erase", `{"kind":"erase","user":"` + someone + `"}`, true},
		{"export without a job id", `{"kind":"export","user":"` + someone + `"}`, false},
		{"erase with a job id", `{"kind":"erase","user":"` + someone + `","job":"` + someJob + `"}`, false},
		{"unknown kind", `{"kind":"pair","user":"` + someone + `"}`, false},
		{"bad user", `{"kind":"erase","user":"ana"}`, false},
		{"unknown field", `{"kind":"erase","user":"` + someone + `","x":1}`, false},
		{"data after", `{"kind":"erase","user":"` + someone + `"} {}`, false},
		{"not JSON", `erase`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := account.DecodeJob([]byte(tt.body))
			if tt.ok && err != nil {
				t.Errorf("DecodeJob: %v", err)
			}
			if !tt.ok && !errors.Is(err, queue.ErrBadJob) {
				t.Errorf("DecodeJob: %v, want a bad job", err)
			}
		})
	}
}

// FuzzDecodeJob feeds the decoder arbitrary message bodies: it never panics, and what it accepts is a
// job IsJob routes here and that encodes back to the same job.
func FuzzDecodeJob(f *testing.F) {
	f.Add([]byte(`{"kind":"export","user":"` + someone + `","job":"` + someJob + `"}`))
	f.Add([]byte(`{"kind":"erase","user":"` + someone + `"}`))
	f.Add([]byte(`{"kind":"erase","user":"` + someone + `","job":""}`))
	f.Add([]byte(`{"kind":"avatar","user":"` + someone + `"}`))
	f.Add([]byte(`{"kind":"erase"} {}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		j, err := account.DecodeJob(body)
		if err != nil {
			return
		}
		if !account.IsJob(body) {
			t.Errorf("decoded %q but IsJob says no", body)
		}
		enc, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := account.DecodeJob(enc); err != nil || again != j {
			t.Errorf("round trip of %+v: %+v, %v", j, again, err)
		}
	})
}
