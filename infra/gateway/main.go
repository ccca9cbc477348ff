// Command gateway runs Second Me in its deployed shape on this machine, without Docker: it reads
// template.yaml, builds every function's bootstrap for the host and runs each one as Lambda does,
// behind the HTTP API, the function URL and the CloudFront distribution the template declares, with
// the table in dynalite and the queues, the schedules and the secret played locally
// (docs/gateway.md).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}
