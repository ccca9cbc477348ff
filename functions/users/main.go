// Command users is the Lambda function of the users routes behind the HTTP API: a person's own
// profile, shades, sync, export and erase, public profiles and blocks (docs/api.md; docs/api-users.md).
package main

import "github.com/secondme/twin/functions/app"

func main() { app.Main("users", app.Users) }
