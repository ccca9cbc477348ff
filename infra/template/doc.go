// Package tmplcheck holds the checks of template.yaml, run by `go test` (and so by `make test`):
// cfn-lint, the AWS SAM translator (translate.py, offline), and this project's rules on the
// CloudFormation the translator produces: Go bootstraps on arm64, a functions/<name> package for every
// function, the table's fixed schema, queue redrive and visibility, least privilege, and no secret in
// plain text.
package tmplcheck
