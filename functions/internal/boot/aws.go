// Package boot wires a Lambda function's clients from its environment, once, before lambda.Start:
// one file per topic (AWS config, store, queue, logger, auth, model, secrets). Only functions/*
// import it; packages under pkg take config structs instead.
package boot

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// awsConfigs holds the configurations loaded in this process, by the environment they were loaded
// from: loading one takes about 10 ms (a third of a function's cold start when done three times),
// and a function's clients all want the same one.
var awsConfigs sync.Map

// AWSConfig loads the AWS SDK configuration the standard way (the Lambda environment supplies region
// and credentials), once per process and environment. AWS_REGION from getenv, when set, fixes the
// region.
func AWSConfig(ctx context.Context, getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	key := awsEnvKey(region)
	if cfg, ok := awsConfigs.Load(key); ok {
		return cfg.(aws.Config).Copy(), nil
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS config: %w", err)
	}
	awsConfigs.Store(key, cfg)
	return cfg.Copy(), nil
}

// awsEnvKey is what a loaded configuration depends on: the region asked for and the process's AWS_
// variables (credentials, endpoints, profile), which the SDK reads itself.
func awsEnvKey(region string) string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	slices.Sort(env)
	return region + "\x00" + strings.Join(env, "\x00")
}
