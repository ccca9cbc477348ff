// Package requestid carries the id of an HTTP request in its context: the id API Gateway or the
// Function URL gave the request (pkg/lambdahttp puts it there), else the one pkg/api makes.
package requestid

import "context"

type key struct{}

// With returns ctx carrying the request id id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the request id of ctx, "" if it has none.
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}
