package boot

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Logger makes the Lambda logger slog's default and returns it: JSON when the function's log format
// is JSON (AWS_LAMBDA_LOG_FORMAT), at AWS_LAMBDA_LOG_LEVEL, with each invocation's request id.
// Functions call it first, so that even errors at init are structured.
func Logger() *slog.Logger {
	l := lambdacontext.NewLogger()
	slog.SetDefault(l)
	return l
}
