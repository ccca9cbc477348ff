// Package lambdahttp runs an http.Handler as a Lambda function: behind an API Gateway HTTP API
// (payload format 2.0) or on a Function URL in RESPONSE_STREAM mode. Either way the handler finds the
// request id the gateway gave the request in its context (requestid.From), so that the logs name the
// id API Gateway and the Function URL log too.
package lambdahttp

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdaurl"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/secondme/twin/pkg/requestid"
)

// Start serves h for every API Gateway v2 event. It never returns.
func Start(h http.Handler) {
	lambda.Start(httpadapter.NewV2(WithGatewayID(h)).ProxyWithContext)
}

// StartStream serves h on a Function URL in RESPONSE_STREAM mode. It never returns.
func StartStream(h http.Handler) {
	lambdaurl.Start(WithGatewayID(h))
}

// WithGatewayID puts the request id of the event that carried the request (API Gateway v2 or Function
// URL) into the request's context. A request that came in no such event passes unchanged.
func WithGatewayID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := gatewayID(r.Context()); id != "" {
			r = r.WithContext(requestid.With(r.Context(), id))
		}
		h.ServeHTTP(w, r)
	})
}

func gatewayID(ctx context.Context) string {
	if c, ok := core.GetAPIGatewayV2ContextFromContext(ctx); ok {
		return c.RequestID
	}
	if e, ok := lambdaurl.RequestFromContext(ctx); ok {
		return e.RequestContext.RequestID
	}
	return ""
}
