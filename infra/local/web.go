package main

import (
	"context"

	"github.com/secondme/twin/pkg/web"
)

// wireWeb serves the browser client at / and /assets/*.
func wireWeb(ctx context.Context, s *stack) error {
	web.New().Register(s.router)
	return nil
}
