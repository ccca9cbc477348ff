// Package boot wires a Lambda function's clients from its environment, once, before lambda.Start:
// one file per topic (AWS config, store, queue, logger, auth, model, secrets). Only functions/*
// import it; packages under pkg take config structs instead.
package boot

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// AWSConfig loads the AWS SDK configuration the standard way (the Lambda environment supplies region
// and credentials). AWS_REGION from getenv, when set, fixes the region.
func AWSConfig(ctx context.Context, getenv func(string) string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if r := getenv("AWS_REGION"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	return cfg, nil
}
