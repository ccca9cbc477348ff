package boot

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestMissingConfiguration(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		build   func() error
		wantErr string
	}{
		{"store without TABLE_NAME", func() error { _, err := Store(ctx, env(nil)); return err }, "TABLE_NAME"},
		{"queue without COMPAT_QUEUE_URL", func() error { _, err := Queue(ctx, env(nil)); return err }, "COMPAT_QUEUE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.build(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestStoreReachesTheTable(t *testing.T) {
	getenv := env(map[string]string{
		"TABLE_NAME":      dynamotest.Table(t),
		"DYNAMO_ENDPOINT": dynamotest.Endpoint(t),
		"AWS_REGION":      "us-east-1",
	})
	s, err := Store(context.Background(), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUser(context.Background(), id.New()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser of nobody = %v, want %v", err, store.ErrNotFound)
	}
}

func TestQueueSendsToTheEndpoint(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	var target atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target.Store(r.Header.Get("X-Amz-Target"))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		// MD5 of "{}" is 99914b932bd37a50b983c5e7c90ae93b.
		_, _ = w.Write([]byte(`{"Successful":[{"Id":"0","MessageId":"m1","MD5OfMessageBody":"99914b932bd37a50b983c5e7c90ae93b"}],"Failed":[]}`))
	}))
	defer srv.Close()
	q, err := Queue(context.Background(), env(map[string]string{
		"COMPAT_QUEUE_URL": srv.URL + "/000000000000/compat",
		"SQS_ENDPOINT":     srv.URL,
		"AWS_REGION":       "us-east-1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Send(context.Background(), []byte("{}")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, want := target.Load(), "AmazonSQS.SendMessageBatch"; got != want {
		t.Errorf("X-Amz-Target = %v, want %s", got, want)
	}
}
