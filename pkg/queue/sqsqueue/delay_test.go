package sqsqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/secondme/twin/pkg/awstest"
)

func TestSendAfterDelaysEachMessage(t *testing.T) {
	t.Parallel()
	f := awstest.NewSQS(awstest.QueueConfig{Name: "compat"})
	var delays []int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var in struct{ Entries []struct{ DelaySeconds int } }
		if json.Unmarshal(body, &in) == nil {
			for _, e := range in.Entries {
				delays = append(delays, e.DelaySeconds)
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.ServeHTTP(w, r)
	}))
	defer srv.Close()
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	q := New(client, awstest.QueueURL(srv.URL, "compat"))

	if err := q.SendAfter(context.Background(), 1500*time.Millisecond, bodies(12)...); err != nil {
		t.Fatalf("SendAfter: %v", err)
	}
	if want := slices.Repeat([]int{2}, 12); !slices.Equal(delays, want) {
		t.Errorf("DelaySeconds of the entries = %v, want %v (1.5s rounded up)", delays, want)
	}
	if got := drain(t, q); len(got) != 0 {
		t.Errorf("received %d messages before their delay passed, want none", len(got))
	}
	err := q.SendAfter(context.Background(), MaxDelay+time.Second, bodies(1)...)
	if err == nil || !strings.Contains(err.Error(), "delay") {
		t.Errorf("SendAfter beyond MaxDelay = %v, want an error naming the delay", err)
	}
}
