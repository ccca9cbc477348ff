package awsapp_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secondme/twin/functions/app/awsapp"
	"github.com/secondme/twin/infra/s3test"
)

// TestPresignedLink writes an object to s3rver and fetches it through its presigned link, without
// credentials: the body, and the file name the browser saves it as. (s3rver does not check
// signatures, so a forged link is not tested here: S3 refuses it.)
func TestPresignedLink(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	bucket := srv.Bucket(t)
	b := awsapp.NewLinkedBucket(srv.Client(), bucket)
	key := "exports/01JA0000000000000000000000/01JA0000000000000000000001.zip"
	if err := b.Put(ctx, key, "application/zip", []byte("PK archive")); err != nil {
		t.Fatal(err)
	}
	link, err := b.Link(ctx, key, "secondme-export.zip", 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(link, "X-Amz-Expires=300") || !strings.Contains(link, "X-Amz-Signature=") {
		t.Errorf("link %s is not presigned for 5 minutes", link)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "PK archive" {
		t.Fatalf("GET link = %d %q", resp.StatusCode, body)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="secondme-export.zip"`) {
		t.Errorf("Content-Disposition = %q", cd)
	}
}
