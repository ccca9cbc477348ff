// Command health is the harness's own test function: GET /api/health through lambdahttp, and
// GET /api/fixture/env to show the environment the emulator passes on.
package main

import (
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/lambdahttp"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger()) // as app.Main does: each line carries the request id
	rt := api.NewRouter()
	rt.HandleFunc("GET /api/health", api.Health)
	rt.HandleFunc("GET /api/fixture/env", func(w http.ResponseWriter, r *http.Request) error {
		api.WriteJSON(w, http.StatusOK, map[string]string{
			"greeting": os.Getenv("GREETING"),
			"function": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		})
		return nil
	})
	lambdahttp.Start(api.Wrap(rt, api.Edge{}))
}
