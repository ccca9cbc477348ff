// Package template holds the checks of template.yaml, run by `go test` (and so by `make test`):
// cfn-lint (informational checks included), the AWS SAM translator (translate.py, offline), and this
// project's rules on the CloudFormation the translator produces: Go bootstraps on arm64 with Lambda's
// REPORT line and no tracing, a functions/<name> package for every function, the table's fixed
// schema, queue redrive and visibility, and no secret in plain text; and production readiness
// (ops_test.go, docs/operations.md): least privilege (item actions on the table only, Query on named
// indexes, Scan only by the nightly on GSI2, one key family under dynamodb:LeadingKeys, each function
// exactly the secrets it reads), secret parameters that take only full ARNs, timeouts computed from
// the work (the compat worker's model calls per pair, the users function's token refresh, the HTTP
// API's limit), reserved concurrency, a queue of their own for interactive jobs, an alarm for every
// function, queue, the API, the table and the nightly, all notifying the alarm topic, the nightly's
// failures kept, and canary deploys in prod that roll back on each function's error alarms; and
// samconfig.toml against the template (its patterns, and infra/deploycheck, `make deploy-check`).
//
// It also checks that the template and the code agree:
//   - every request the web client issues (pkg/web/static) resolves to a route on the public origin
//     (the CloudFront behaviours, the HTTP API routes, the chat stream's Function URL), at a function
//     whose route groups answer it; /local/ paths are served by the local stacks only;
//   - every pattern the route groups (pkg/api/*api, pkg/web, GET /api/health) register is a route of
//     the template at the function that mounts them, and every template route is answered;
//   - every environment variable the template sets for a function is read by that function's code
//     (GOMAXPROCS by the Go runtime);
//   - infra/sam/events decode strictly into the aws-lambda-go types of their triggers, and
//     infra/sam/env.json names only functions and variables the template declares.
//
// Each check is proven by mutations of a copy of template.yaml (every route removed in turn, every
// variable renamed in turn, the chat stream's route removed): each must make its check fail.
package template
