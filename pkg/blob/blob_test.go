package blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/secondme/twin/infra/s3test"
	"github.com/secondme/twin/pkg/blob"
)

// stores returns every implementation, fresh: files in a temporary folder, and a bucket on s3rver.
func stores(t *testing.T) map[string]blob.Store {
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := s3test.Start(t)
	return map[string]blob.Store{"dir": dir, "s3": blob.NewS3(srv.Client(), srv.Bucket(t))}
}

func TestContract(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			png := []byte("\x89PNG fake bytes")
			key := blob.ContentKey("avatars/01HZZZZZZZZZZZZZZZZZZZZZZZ", png, "png")
			if _, err := st.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Fatalf("Get before Put: err %v, want ErrNotFound", err)
			}
			if err := st.Put(ctx, key, "image/png", png); err != nil {
				t.Fatal(err)
			}
			got, err := st.Get(ctx, key)
			if err != nil || !bytes.Equal(got.Body, png) || got.ContentType != "image/png" {
				t.Fatalf("Get = %q %q, %v; want the bytes put and image/png", got.Body, got.ContentType, err)
			}
			// Replacing keeps one object with the new content.
			if err := st.Put(ctx, "jobs/a.json", "application/json", []byte(`{"v":1}`)); err != nil {
				t.Fatal(err)
			}
			if err := st.Put(ctx, "jobs/a.json", "application/json", []byte(`{"v":2}`)); err != nil {
				t.Fatal(err)
			}
			if got, _ := st.Get(ctx, "jobs/a.json"); string(got.Body) != `{"v":2}` {
				t.Errorf("after a second Put: %q", got.Body)
			}
			// A person's folder: listed alone, deleted alone.
			for i := range 3 {
				body := []byte(fmt.Sprintf("image %d", i))
				if err := st.Put(ctx, blob.ContentKey("avatars/01HAAAAAAAAAAAAAAAAAAAAAAA", body, "svg"), "image/svg+xml", body); err != nil {
					t.Fatal(err)
				}
			}
			mine, err := st.List(ctx, "avatars/01HAAAAAAAAAAAAAAAAAAAAAAA/")
			if err != nil || len(mine) != 3 || !slices.IsSorted(mine) {
				t.Fatalf("List = %q, %v; want 3 sorted keys", mine, err)
			}
			n, err := st.DeletePrefix(ctx, "avatars/01HAAAAAAAAAAAAAAAAAAAAAAA/")
			if err != nil || n != 3 {
				t.Fatalf("DeletePrefix = %d, %v; want 3", n, err)
			}
			if left, _ := st.List(ctx, "avatars/01HAAAAAAAAAAAAAAAAAAAAAAA/"); len(left) != 0 {
				t.Errorf("left after DeletePrefix: %q", left)
			}
			if all, _ := st.List(ctx, ""); !slices.Equal(all, []string{key, "jobs/a.json"}) {
				t.Errorf("others' objects after DeletePrefix: %q, want %q", all, []string{key, "jobs/a.json"})
			}
			if err := st.Delete(ctx, key); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, key); err != nil {
				t.Errorf("deleting an unknown key: %v", err)
			}
			if _, err := st.Get(ctx, key); !errors.Is(err, blob.ErrNotFound) {
				t.Errorf("Get after Delete: err %v, want ErrNotFound", err)
			}
			for _, bad := range []string{"", "../x", "a/../b", "a//b", "/a", "a/", ".types/a", "a b", "a\\b", strings.Repeat("a", 513)} {
				if err := st.Put(ctx, bad, "text/plain", nil); !errors.Is(err, blob.ErrBadKey) {
					t.Errorf("Put(%q): err %v, want ErrBadKey", bad, err)
				}
				if _, err := st.Get(ctx, bad); !errors.Is(err, blob.ErrBadKey) {
					t.Errorf("Get(%q): err %v, want ErrBadKey", bad, err)
				}
			}
			if _, err := st.DeletePrefix(ctx, "avatars"); !errors.Is(err, blob.ErrBadKey) {
				t.Errorf("DeletePrefix without a trailing slash: err %v, want ErrBadKey", err)
			}
		})
	}
}

func TestContentKey(t *testing.T) {
	a := blob.ContentKey("avatars/u/", []byte("a"), "svg")
	if a != blob.ContentKey("avatars/u", []byte("a"), "svg") || a == blob.ContentKey("avatars/u", []byte("b"), "svg") {
		t.Errorf("ContentKey is not a function of the bytes: %s", a)
	}
	if !blob.ValidKey(a) || !strings.HasPrefix(a, "avatars/u/") || len(a) != len("avatars/u/")+64+4 {
		t.Errorf("ContentKey = %q", a)
	}
}
