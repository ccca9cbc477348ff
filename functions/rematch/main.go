// Command rematch is the Lambda function of the nightly rematch, run by an EventBridge schedule: it
// sends pair jobs for the people whose profile changed since the last run and a rolling slice of the
// rest (docs/matching.md).
package main

import "github.com/secondme/twin/functions/app"

func main() { app.Main("rematch", app.Rematch) }
