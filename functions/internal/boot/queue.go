package boot

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/secondme/twin/pkg/queue/sqsqueue"
)

// Queue returns a sender to the compat job queue COMPAT_QUEUE_URL (required). SQS_ENDPOINT, when set,
// points the client at another endpoint, such as a local SQS server.
func Queue(ctx context.Context, getenv func(string) string) (*sqsqueue.Queue, error) {
	url := getenv("COMPAT_QUEUE_URL")
	if url == "" {
		return nil, errors.New("COMPAT_QUEUE_URL is not set")
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	var opts []func(*sqs.Options)
	if ep := getenv("SQS_ENDPOINT"); ep != "" {
		opts = append(opts, func(o *sqs.Options) { o.BaseEndpoint = aws.String(ep) })
	}
	return sqsqueue.New(sqs.NewFromConfig(cfg, opts...), url), nil
}
