// Package e2e drives the browser client in headless Chromium (chromedp) against the local stack,
// run as its own process exactly as `make run` runs it. See browser_test.go.
package e2e
