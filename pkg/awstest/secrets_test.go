package awstest

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

func TestSecrets(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app-AbC123"
	f := NewSecrets(map[string]string{arn: `{"sealingKey":"k"}`, "plain": "p"})
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := secretsmanager.New(secretsmanager.Options{
		Region:       Region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	tests := []struct {
		name, id  string
		wantValue string // "" for ResourceNotFoundException
		wantARN   string
	}{
		{"by full ARN", arn, `{"sealingKey":"k"}`, arn},
		{"by name", "app", `{"sealingKey":"k"}`, arn},
		{"by ARN without the suffix", "arn:aws:secretsmanager:us-east-1:000000000000:secret:app", `{"sealingKey":"k"}`, arn},
		{"a secret given by name", "plain", "p", ""},
		{"an unknown name", "nope", "", ""},
		{"an unknown ARN", "arn:aws:secretsmanager:us-east-1:000000000000:secret:nope-AbC123", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(tt.id)})
			if tt.wantValue == "" {
				var nf *types.ResourceNotFoundException
				if !errors.As(err, &nf) {
					t.Errorf("GetSecretValue(%s) = %v, want ResourceNotFoundException", tt.id, err)
				}
				return
			}
			if err != nil || aws.ToString(out.SecretString) != tt.wantValue || out.CreatedDate == nil || aws.ToString(out.VersionId) == "" {
				t.Fatalf("GetSecretValue(%s) = %+v, %v; want %s", tt.id, out, err, tt.wantValue)
			}
			if tt.wantARN != "" && aws.ToString(out.ARN) != tt.wantARN {
				t.Errorf("ARN = %s, want %s", aws.ToString(out.ARN), tt.wantARN)
			}
		})
	}
	if got := f.Reads("app"); got != 3 {
		t.Errorf("Reads(app) = %d, want 3 (every form of its id)", got)
	}
	if got := f.Reads("nope"); got != 0 {
		t.Errorf("Reads(nope) = %d, want 0", got)
	}

	f.Set("app", "rotated")
	out, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil || aws.ToString(out.SecretString) != "rotated" {
		t.Errorf("after Set: %+v, %v; want the new value", out, err)
	}
	if _, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String("AWSPREVIOUS")}); err == nil {
		t.Error("a version stage the fake does not keep was answered")
	}
	if _, err := c.ListSecrets(context.Background(), &secretsmanager.ListSecretsInput{}); err == nil {
		t.Error("ListSecrets was answered; the fake serves only GetSecretValue")
	}
}
