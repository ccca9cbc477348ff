package account_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/pkg/account"
	"github.com/secondme/twin/pkg/id"
)

func TestSigner(t *testing.T) {
	now := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := account.NewSigner([]byte("k1"), clock)
	user, job := id.New(), id.New()
	key := "exports/" + user + "/" + job + ".zip"
	link, err := s.Link(context.Background(), key, account.ArchiveName, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	path, query, _ := strings.Cut(link, "?")
	if path != account.ArchivePath(job) {
		t.Fatalf("link path %s, want %s", path, account.ArchivePath(job))
	}
	q, _ := url.ParseQuery(query)
	if got, err := s.Check(job, q); err != nil || got != key {
		t.Errorf("Check = %q, %v; want %s", got, err, key)
	}
	with := func(k, v string) url.Values {
		c := url.Values{}
		for name, vs := range q {
			c[name] = vs
		}
		c.Set(k, v)
		return c
	}
	for name, tc := range map[string]struct {
		signer *account.Signer
		job    string
		q      url.Values
	}{
		"another key":      {account.NewSigner([]byte("k2"), clock), job, q},
		"another job":      {s, id.New(), q},
		"another person":   {s, job, with("user", id.New())},
		"a later expiry":   {s, job, with("exp", "99999999999")},
		"no signature":     {s, job, with("sig", "")},
		"expired":          {account.NewSigner([]byte("k1"), func() time.Time { return now.Add(5*time.Minute + time.Second) }), job, q},
		"malformed expiry": {s, job, with("exp", "soon")},
	} {
		if _, err := tc.signer.Check(tc.job, tc.q); err == nil {
			t.Errorf("%s: the link was accepted", name)
		}
	}
	if _, err := s.Link(context.Background(), "avatars/"+user+"/x.png", "x", time.Minute); err == nil {
		t.Error("a link to an object that is not an archive was signed")
	}
}

func TestIsJobAndMalformedJobs(t *testing.T) {
	for body, want := range map[string]bool{
		`{"kind":"export","user":"u","job":"j"}`: true,
		`{"kind":"erase","user":"u"}`:            true,
		`{"kind":"pair","a":"x","b":"y"}`:        false,
		`{"kind":"avatar"}`:                      false,
		`not json`:                               false,
	} {
		if got := account.IsJob([]byte(body)); got != want {
			t.Errorf("IsJob(%s) = %v, want %v", body, got, want)
		}
	}
	s := account.New(nil, nil, nil, nil, account.Config{})
	for _, body := range []string{`{"kind":"export","user":"` + id.New() + `","job":"nope"}`, `{"kind":"erase","user":"../x"}`, `{`} {
		if err := s.Handle(context.Background(), []byte(body)); err == nil {
			t.Errorf("Handle(%s) accepted a malformed job", body)
		}
	}
}
