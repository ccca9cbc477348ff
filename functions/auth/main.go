// Command auth is the Lambda function of the sign-in routes: GET /api/auth/login, GET
// /api/auth/callback, POST /api/auth/logout, POST /api/webhooks/secondme and GET /api/health.
// Its configuration is in docs/auth.md.
package main

import "github.com/secondme/twin/functions/app"

func main() { app.Main("auth", app.Auth) }
