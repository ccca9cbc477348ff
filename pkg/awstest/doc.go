// Package awstest holds faithful local fakes of the AWS JSON-protocol services the functions call:
// SQS (the JSON protocol, with visibility timeouts, receive counts, redrive to a dead-letter queue and
// long polling) and Secrets Manager (GetSecretValue). Each is an http.Handler that the real AWS SDK
// reaches through its endpoint setting (BaseEndpoint, SQS_ENDPOINT or AWS_ENDPOINT_URL_SECRETS_MANAGER).
// They serve the tests and the gateway (infra/gateway), which runs the deployed shape on one machine.
//
// The fakes check what the services check (framing, a SigV4 Authorization header, parameter limits)
// and answer errors as the services do, so that code tested against them meets no surprise on AWS.
// They do not verify signatures, and they keep everything in memory.
package awstest

// Account and Region are the account id and region of every fake resource.
const (
	Account = "000000000000"
	Region  = "us-east-1"
)
