package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/secondme/twin/pkg/api"
)

// notWired stands in for the auth and matches groups until they are wired into the local stack:
// nobody can sign in, nobody has a SecondMe account and no rematch is scheduled.
type notWired struct{}

// Authenticate reports that nobody is signed in.
func (notWired) Authenticate(w http.ResponseWriter, r *http.Request) (string, error) {
	return "", api.Errorf(api.CodeUnauthenticated, "sign-in is not wired into the local stack")
}

// Sync reports that no SecondMe account is linked.
func (notWired) Sync(ctx context.Context, userID string) error {
	return api.Errorf(api.CodeConflict, "no SecondMe account linked")
}

// Rematch refuses: nothing runs compatibility jobs.
func (notWired) Rematch(ctx context.Context, userID string) error {
	return errors.New("matching is not wired into the local stack")
}
