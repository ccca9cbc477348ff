package authapi_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/secondme/twin/pkg/auth"
	"github.com/secondme/twin/pkg/secondme/secondmetest"
)

// importer is an auth.AvatarImporter that records its calls and copies to /media/ or fails.
type importer struct {
	mu    sync.Mutex
	calls []string // userID|current|src
	fail  bool
}

func (i *importer) Import(ctx context.Context, userID, current, src string) (string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls = append(i.calls, userID+"|"+current+"|"+src)
	if i.fail {
		return current, errors.New("picture host down")
	}
	return "/media/avatars/" + userID + "/imported/copy.png", nil
}

// TestProfilePicturesAreCopied: a new person's SecondMe and OIDC pictures go through the importer, so
// the stored avatar is our copy, never the provider's URL; a sync whose copy fails keeps the avatar
// and logs why.
func TestProfilePicturesAreCopied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	imp := &importer{}
	h := newHarnessWith(t, nil, func(o *auth.Options) { o.Avatars = imp })
	c := h.browser(t)
	h.signInSecondMe(t, c, "/")
	uid, _ := h.me(t, c)
	u, _ := h.st.GetUser(ctx, uid)
	want := "/media/avatars/" + uid + "/imported/copy.png"
	if u.Avatar != want || len(imp.calls) != 1 || imp.calls[0] != uid+"||"+secondmetest.DefaultUser().Avatar {
		t.Fatalf("avatar %q after sign-in, importer calls %q; want %q from the SecondMe picture", u.Avatar, imp.calls, want)
	}

	imp.fail = true
	if err := h.svc.Sync(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if after, _ := h.st.GetUser(ctx, uid); after.Avatar != want {
		t.Errorf("avatar after a sync whose copy failed = %q, want it kept (%q)", after.Avatar, want)
	}
	if !strings.Contains(h.logs.String(), "profile picture not copied") {
		t.Error("a failed copy is not logged")
	}

	// A new OIDC person whose picture cannot be copied gets none (the initials), not the provider's URL.
	c2 := h.browser(t)
	authURL := h.startLogin(t, c2, url.Values{"provider": {"oidc"}})
	get(t, c2, h.oidc.Authorize(t, authURL, "sub-pic", "Pia").String())
	uid2, _ := h.me(t, c2)
	if u2, _ := h.st.GetUser(ctx, uid2); u2.Avatar != "" {
		t.Errorf("OIDC person's avatar after a failed copy = %q, want empty", u2.Avatar)
	}
	if last := imp.calls[len(imp.calls)-1]; last != uid2+"||https://cdn.example.com/sub-pic.png" {
		t.Errorf("last importer call %q, want the OIDC picture of the new person", last)
	}
}
