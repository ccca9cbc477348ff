// Command chatstream is the Lambda function of POST /api/chat/stream: the chat turn as Server-Sent
// Events, on a Function URL in RESPONSE_STREAM mode (docs/api.md; configuration in docs/chat.md).
package main

import (
	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/functions/app/models"
)

func main() { app.Main("chatstream", app.ChatStream, models.All...) }
