package boot

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/pkg/store/dynamostore"
)

// Store returns the DynamoDB store on the table TABLE_NAME (required). DYNAMO_ENDPOINT, when set,
// points the client at another endpoint, such as dynalite or DynamoDB Local.
func Store(ctx context.Context, getenv func(string) string) (*dynamostore.Store, error) {
	table := getenv("TABLE_NAME")
	if table == "" {
		return nil, errors.New("TABLE_NAME is not set")
	}
	cfg, err := AWSConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	var opts []func(*dynamodb.Options)
	if ep := getenv("DYNAMO_ENDPOINT"); ep != "" {
		opts = append(opts, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ep) })
	}
	return dynamostore.New(dynamo.New(cfg, opts...), table), nil
}
