package runware

import (
	"errors"
	"testing"
)

// FuzzDecodeResponse feeds the answer decoder arbitrary bodies and statuses: it never panics, every
// failure is one of the package's errors or a transient one, and a success is an image of our task.
func FuzzDecodeResponse(f *testing.F) {
	const id = "a770f077-f413-47de-9dac-be0b26a35da6"
	f.Add(200, []byte(`{"data":[{"taskType":"imageInference","taskUUID":"`+id+`","imageUUID":"x","imageURL":"https://im.example/x.jpg","NSFWContent":false,"cost":0.0013}]}`))
	f.Add(400, []byte(`{"errors":[{"code":"invalidParameter","message":"bad","parameter":"width","taskType":"imageInference","taskUUID":"`+id+`"}]}`))
	f.Add(503, []byte(``))
	f.Add(200, []byte(`{"data":[]}`))
	f.Add(200, []byte(`[1,2`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		res, err := decodeResponse(status, body, id)
		if err == nil {
			if res.TaskUUID != id || res.ImageURL == "" || status < 200 || status > 299 {
				t.Fatalf("accepted %+v for status %d", res, status)
			}
			return
		}
		var tr *transientError
		if !errors.As(err, &tr) && !errors.Is(err, ErrRejected) && !errors.Is(err, ErrUnavailable) {
			t.Fatalf("error %v is none of ours", err)
		}
	})
}

func TestDecodeResponse(t *testing.T) {
	t.Parallel()
	const id = "a770f077-f413-47de-9dac-be0b26a35da6"
	tests := []struct {
		name      string
		status    int
		body      string
		wantErr   error
		transient bool
	}{
		{name: "success", status: 200, body: `{"data":[{"taskType":"imageInference","taskUUID":"` + id + `","imageURL":"https://x/y.jpg","cost":0.01}]}`},
		{name: "other task only", status: 200, body: `{"data":[{"taskType":"imageInference","taskUUID":"other","imageURL":"https://x/y.jpg"}]}`, wantErr: ErrUnavailable},
		{name: "no image URL", status: 200, body: `{"data":[{"taskType":"imageInference","taskUUID":"` + id + `"}]}`, wantErr: ErrUnavailable},
		{name: "4xx error array", status: 400, body: `{"errors":[{"code":"invalidModel","message":"no such model","parameter":"model"}]}`, wantErr: ErrRejected},
		{name: "timeout code", status: 400, body: `{"errors":[{"code":"timeoutProvider","message":"slow"}]}`, transient: true},
		{name: "5xx error array", status: 500, body: `{"errors":[{"code":"internal","message":"oops"}]}`, transient: true},
		{name: "bare 404", status: 404, body: `not json`, wantErr: ErrRejected},
		{name: "garbled 200", status: 200, body: `{"data":`, wantErr: ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := decodeResponse(tt.status, []byte(tt.body), id)
			var tr *transientError
			if got := errors.As(err, &tr); got != tt.transient {
				t.Fatalf("transient = %v (err %v), want %v", got, err, tt.transient)
			}
			if tt.transient {
				return
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (res.Cost != 0.01 || res.ImageURL != "https://x/y.jpg") {
				t.Errorf("result = %+v", res)
			}
		})
	}
}
