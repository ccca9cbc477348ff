// Command chat is the Lambda function of the chat routes behind the HTTP API: sessions, history and
// the JSON chat turn (docs/api.md; configuration in docs/chat.md).
package main

import (
	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/functions/app/models"
)

func main() { app.Main("chat", app.Chat, models.All...) }
