package lambdahttp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdaurl"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/secondme/twin/pkg/requestid"
)

// echoID answers the request id it finds in the request's context.
var echoID = WithGatewayID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, requestid.From(r.Context()))
}))

// TestWithGatewayID checks that the handler finds the request id of the API Gateway or Function URL
// event in its context, through the adapters Start and StartStream use.
func TestWithGatewayID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("API Gateway v2", func(t *testing.T) {
		t.Parallel()
		ev := events.APIGatewayV2HTTPRequest{RawPath: "/api/health", RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "Ab1Cd2Ef3Gh4=", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/api/health"}}}
		resp, err := httpadapter.NewV2(echoID).ProxyWithContext(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Body != "Ab1Cd2Ef3Gh4=" {
			t.Errorf("request id = %q, want the gateway's", resp.Body)
		}
	})
	t.Run("Function URL", func(t *testing.T) {
		t.Parallel()
		ev := &events.LambdaFunctionURLRequest{RawPath: "/api/chat/stream", RequestContext: events.LambdaFunctionURLRequestContext{
			RequestID: "0d3b5e2c-7f1a-4c1e-9a43-1f0e2b3c4d5e", HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "POST", Path: "/api/chat/stream"}}}
		resp, err := lambdaurl.Wrap(echoID)(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != "0d3b5e2c-7f1a-4c1e-9a43-1f0e2b3c4d5e" {
			t.Errorf("request id = %q, want the Function URL's", b)
		}
	})
	t.Run("no event", func(t *testing.T) {
		t.Parallel()
		w := httptest.NewRecorder()
		echoID.ServeHTTP(w, httptest.NewRequest("GET", "/api/health", nil))
		if w.Body.String() != "" {
			t.Errorf("request id = %q, want none", w.Body)
		}
	})
}
