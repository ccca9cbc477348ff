// Package lambdahttp runs an http.Handler as a Lambda function behind an API Gateway HTTP API
// (payload format 2.0).
package lambdahttp

import (
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// Start makes slog's default logger the Lambda one (JSON when the function's log format is JSON,
// with the request id of each invocation), then serves h for every API Gateway v2 event. It never
// returns.
func Start(h http.Handler) {
	slog.SetDefault(lambdacontext.NewLogger())
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}
