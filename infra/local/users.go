package main

import (
	"context"
	"log/slog"

	"github.com/secondme/twin/infra/demo"
	"github.com/secondme/twin/pkg/api/usersapi"
)

// wireUsers adds the users routes, seeds the demo personas and serves GET /local/personas.
func wireUsers(ctx context.Context, s *stack) error {
	usersapi.New(s.store, s.auth, s.rematch, s.sync).Register(s.router)
	personas, err := demo.Personas()
	if err != nil {
		return err
	}
	n, err := demo.Seed(ctx, s.store, s.rematch, personas)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "demo personas ready", "personas", len(personas), "created", n)
	s.router.Handle("GET /local/personas", demo.PersonaList(personas))
	return nil
}
