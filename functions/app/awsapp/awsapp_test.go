package awsapp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/secondme/twin/functions/app/awsapp"
	"github.com/secondme/twin/pkg/awstest"
)

// fakeAWS points the SDK at dummy credentials and, when secrets is not nil, at a Secrets Manager fake
// holding them.
func fakeAWS(t *testing.T, secrets map[string]string) *awstest.Secrets {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	f := awstest.NewSecrets(secrets)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
	return f
}

func TestSecrets(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		held    map[string]string
		cfg     awsapp.Config
		want    map[string]string
		wantErr string
	}{
		{"fields of the application secret", map[string]string{"app": `{"sealingKey":" k ","originVerify":"ov"}`},
			awsapp.Config{SecretsARN: "app"}, map[string]string{"sealingKey": "k", "originVerify": "ov"}, ""},
		{"a secret of its own wins", map[string]string{"app": `{"sealingKey":"k","originVerify":"ov"}`, "own": "ov-2\n"},
			awsapp.Config{SecretsARN: "app", SecretARNs: map[string]string{"originVerify": "own"}}, map[string]string{"sealingKey": "k", "originVerify": "ov-2"}, ""},
		{"a field missing is left out", map[string]string{"app": `{"sealingKey":"k"}`},
			awsapp.Config{SecretsARN: "app"}, map[string]string{"sealingKey": "k"}, ""},
		{"no secret at all", nil, awsapp.Config{}, map[string]string{}, ""},
		{"not JSON", map[string]string{"app": "plain"}, awsapp.Config{SecretsARN: "app"}, nil, "SECRETS_ARN"},
		{"unknown secret", nil, awsapp.Config{SecretsARN: "gone"}, nil, "gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeAWS(t, tt.held)
			a, err := awsapp.New(ctx, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Secrets.Secrets(ctx, "sealingKey", "originVerify")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Secrets = %v, %v; want an error naming %s", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("Secrets = %v, %v; want %v", got, err, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestEachSecretReadOnce asks for fields of one secret in two calls, as a function does for its
// sign-in service and its edge: the secret is read once.
func TestEachSecretReadOnce(t *testing.T) {
	ctx := context.Background()
	f := fakeAWS(t, map[string]string{"app": `{"sealingKey":"k","originVerify":"ov"}`, "own": "x"})
	a, err := awsapp.New(ctx, awsapp.Config{SecretsARN: "app", SecretARNs: map[string]string{"secondmeClientSecret": "own"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, names := range [][]string{{"sealingKey", "secondmeClientSecret"}, {"originVerify"}, {"sealingKey"}} {
		if _, err := a.Secrets.Secrets(ctx, names...); err != nil {
			t.Fatal(err)
		}
	}
	if f.Reads("app") != 1 || f.Reads("own") != 1 {
		t.Errorf("reads of app, own = %d, %d; want 1 each", f.Reads("app"), f.Reads("own"))
	}
}

func TestStoreAndQueueOnlyWhenConfigured(t *testing.T) {
	fakeAWS(t, nil)
	a, err := awsapp.New(context.Background(), awsapp.Config{})
	if err != nil || a.Store != nil || a.Queue != nil {
		t.Errorf("New without table or queue = %+v, %v; want neither", a, err)
	}
}

func TestQueueSendsToTheEndpoint(t *testing.T) {
	fakeAWS(t, nil)
	var target atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target.Store(r.Header.Get("X-Amz-Target"))
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		// MD5 of "{}" is 99914b932bd37a50b983c5e7c90ae93b.
		_, _ = w.Write([]byte(`{"Successful":[{"Id":"0","MessageId":"m1","MD5OfMessageBody":"99914b932bd37a50b983c5e7c90ae93b"}],"Failed":[]}`))
	}))
	defer srv.Close()
	a, err := awsapp.New(context.Background(), awsapp.Config{QueueURL: srv.URL + "/000000000000/compat", SQSEndpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Queue.Send(context.Background(), []byte("{}")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, want := target.Load(), "AmazonSQS.SendMessageBatch"; got != want {
		t.Errorf("X-Amz-Target = %v, want %s", got, want)
	}
}
