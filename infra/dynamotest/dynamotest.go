// Package dynamotest gives tests fresh tables on the DynamoDB test server (dynalite) named by
// DYNAMO_ENDPOINT, which infra/scripts/with-dynalite.sh (and so `make test`) starts and sets.
// Without it, tests skip locally and fail in CI (testenv.Need).
package dynamotest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/infra/testenv"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// Endpoint returns DYNAMO_ENDPOINT, or stops the test (skip locally, failure in CI) when it is unset.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	ep := os.Getenv("DYNAMO_ENDPOINT")
	testenv.Need(tb, ep != "", "DynamoDB test server (DYNAMO_ENDPOINT); run through infra/scripts/with-dynalite.sh or make test")
	return ep
}

// DB returns a client of the test server, with dummy credentials; opts adjust the DynamoDB client
// (for example, a middleware that records or fails requests).
func DB(tb testing.TB, opts ...func(*dynamodb.Options)) *dynamo.DB {
	tb.Helper()
	ep := Endpoint(tb)
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("dynalite", "dynalite", ""),
	}
	endpoint := func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ep) }
	return dynamo.New(cfg, append([]func(*dynamodb.Options){endpoint}, opts...)...)
}

// Table creates a fresh, uniquely named table with the store's schema and returns its name; the
// table is deleted when the test ends.
func Table(tb testing.TB) string {
	tb.Helper()
	db := DB(tb)
	name := "test-" + id.New()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, db, name); err != nil {
		tb.Fatalf("dynamotest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Table(name).DeleteTable().Run(ctx); err != nil {
			tb.Errorf("dynamotest: delete table %s: %v", name, err)
		}
	})
	return name
}

// New returns a store on a fresh table (see Table).
func New(tb testing.TB) *dynamostore.Store {
	tb.Helper()
	return dynamostore.New(DB(tb), Table(tb))
}
