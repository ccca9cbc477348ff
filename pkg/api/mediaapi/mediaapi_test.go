package mediaapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/mediaapi"
	"github.com/secondme/twin/pkg/blob"
)

func TestServe(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)
	key := blob.ContentKey("avatars/01HZZZZZZZZZZZZZZZZZZZZZZZ", svg, "svg")
	for k, ct := range map[string]string{key: "image/svg+xml", "jobs/avatars/01HZZZZZZZZZZZZZZZZZZZZZZZ.json": "application/json",
		blob.ContentKey("avatars/01HZZZZZZZZZZZZZZZZZZZZZZZ", []byte("<html>"), "png"): "text/html"} {
		if err := blobs.Put(ctx, k, ct, svg); err != nil {
			t.Fatal(err)
		}
	}
	rt := api.NewRouter()
	mediaapi.New(blobs).Register(rt)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/media/" + key)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := map[string]string{"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=31536000, immutable",
		"X-Content-Type-Options": "nosniff"}
	if resp.StatusCode != 200 {
		t.Fatalf("GET the portrait: %d", resp.StatusCode)
	}
	for h, v := range want {
		if got := resp.Header.Get(h); got != v {
			t.Errorf("%s = %q, want %q", h, got, v)
		}
	}
	for _, path := range []string{
		"/media/" + strings.Replace(key, "a", "b", 1),                                              // unknown
		"/media/jobs/avatars/01HZZZZZZZZZZZZZZZZZZZZZZZ.json",                                      // a job's state
		"/media/avatars/01HZZZZZZZZZZZZZZZZZZZZZZZ/",                                               // a folder
		"/media/avatars/01HZZZZZZZZZZZZZZZZZZZZZZZ/..%2F..%2F.types%2Fx",                           // traversal
		"/media/..%2f..%2fetc%2fpasswd",                                                            // traversal
		"/media/" + blob.ContentKey("avatars/01HZZZZZZZZZZZZZZZZZZZZZZZ", []byte("<html>"), "png"), // stored as HTML
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: %d %s, want a JSON 404", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}
