// Command web is the Lambda function that serves the browser client: GET / and GET /assets/*, behind
// the public origin (PUBLIC_URL and the edge secret).
package main

import "github.com/secondme/twin/functions/app"

func main() { app.Main("web", app.Web) }
