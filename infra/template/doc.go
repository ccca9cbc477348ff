// Package template holds the checks of template.yaml, run by `go test` (and so by `make test`):
// cfn-lint, the AWS SAM translator (translate.py, offline), and this project's rules on the
// CloudFormation the translator produces: Go bootstraps on arm64, a functions/<name> package for every
// function, the table's fixed schema, queue redrive and visibility, least privilege, and no secret in
// plain text.
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
