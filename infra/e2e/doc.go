// Package e2e tests the product from outside, on both ways it runs here: `make run` (infra/local) and
// `make gateway` (infra/gateway, the function binaries as template.yaml wires them). Each stack runs
// as its own process. browser_test.go drives the browser client in headless Chromium (chromedp);
// http_test.go is a black-box HTTP client of the public origin.
package e2e
