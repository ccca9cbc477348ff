// Command web is the Lambda function that serves the browser client: GET / and GET /assets/*.
package main

import (
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/lambdahttp"
	"github.com/secondme/twin/pkg/web"
)

func main() {
	rt := api.NewRouter()
	web.New().Register(rt)
	lambdahttp.Start(api.Wrap(rt))
}
