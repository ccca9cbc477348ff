// Command matches is the Lambda function of the matches routes behind the HTTP API: the ranked list,
// one match with its evidence, and refresh (docs/api.md; docs/matching.md).
package main

import "github.com/secondme/twin/functions/app"

func main() { app.Main("matches", app.Matches) }
