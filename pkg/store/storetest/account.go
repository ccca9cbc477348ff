package storetest

import (
	"testing"

	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
)

// testEraseAccount erases a person in the two steps of DELETE /api/user: EraseAccount at once (the
// profile, identities and login sessions go; their chats and matches wait), then EraseUser, the job,
// which finds the rest without the profile and leaves no trace.
func testEraseAccount(t *testing.T, s store.Store) {
	term := "account-" + id.New()
	gone := seedPerson(t, s, "Gone", []string{term})
	kept := seedPerson(t, s, "Kept", []string{term})
	g, k := gone.user.ID, kept.user.ID
	putMatch(t, s, g, k, 80)
	keptWithGone := createTwinSession(t, s, k, g)

	check(t, s.EraseAccount(ctx, g), "EraseAccount")
	_, err := s.GetUser(ctx, g)
	wantErr(t, err, store.ErrNotFound, "GetUser after EraseAccount")
	for _, i := range gone.identities {
		_, err := s.GetIdentity(ctx, i.Provider, i.Subject)
		wantErr(t, err, store.ErrNotFound, "GetIdentity after EraseAccount "+i.Provider)
	}
	_, err = s.GetLoginSession(ctx, gone.login.TokenHash)
	wantErr(t, err, store.ErrNotFound, "GetLoginSession after EraseAccount")
	if _, err := s.GetSession(ctx, gone.session.ID); err != nil {
		t.Errorf("GetSession after EraseAccount: %v, want the chat kept for the job", err)
	}
	if _, err := s.GetUser(ctx, k); err != nil {
		t.Errorf("GetUser of another person: %v", err)
	}
	if _, err := s.GetLoginSession(ctx, kept.login.TokenHash); err != nil {
		t.Errorf("GetLoginSession of another person: %v", err)
	}
	check(t, s.EraseAccount(ctx, g), "EraseAccount again")
	check(t, s.EraseAccount(ctx, id.New()), "EraseAccount of nobody")

	check(t, s.EraseUser(ctx, g), "EraseUser after EraseAccount")
	wantGone(t, s, gone.session.ID, "the erased person's session")
	wantGone(t, s, keptWithGone.ID, "another person's session with the erased person's twin")
	_, err = s.GetMatch(ctx, k, g)
	wantErr(t, err, store.ErrNotFound, "GetMatch after EraseUser")
	checkRanked(t, k, listMatches(t, s, k, 10), map[string]int{})
	if d, ok := s.(Dumper); ok {
		for _, line := range traces(dump(t, d), g, gone.session.ID, keptWithGone.ID) {
			t.Errorf("dump still holds an erased id: %s", line)
		}
	}
}
