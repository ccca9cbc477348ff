package boot

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretGetter is the one Secrets Manager call a secret read makes (*secretsmanager.Client has it).
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ SecretGetter = (*secretsmanager.Client)(nil)

// SecretString reads a secret's current string value by ARN (or name) from Secrets Manager. Call it
// once at init, before lambda.Start, and keep the value: never per request, never logged. The SDK's
// AWS_ENDPOINT_URL_SECRETS_MANAGER points it at another endpoint.
func SecretString(ctx context.Context, cfg aws.Config, arn string) (string, error) {
	return ReadSecret(ctx, secretsmanager.NewFromConfig(cfg), arn)
}

// ReadSecret is SecretString with the client given.
func ReadSecret(ctx context.Context, sm SecretGetter, arn string) (string, error) {
	if arn == "" {
		return "", errors.New("secret ARN is empty")
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", arn, err)
	}
	if out.SecretString == nil || *out.SecretString == "" {
		return "", fmt.Errorf("read secret %s: no string value", arn)
	}
	return *out.SecretString, nil
}
