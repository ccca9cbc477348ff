// Command compatworker is the Lambda function behind the compat SQS queue: it runs pair jobs (compute
// or remove one match) and user jobs (rematch one person), and reports partial batch failures
// (docs/matching.md).
package main

import (
	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/functions/app/models"
)

func main() { app.Main("compatworker", app.CompatWorker, models.All...) }
