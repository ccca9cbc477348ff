package awsapp

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/secondme/twin/pkg/blob"
)

// LinkedBucket is the media bucket's blob.Store that also makes presigned links to its objects: the
// short-lived link of an export's archive (account.Linker).
type LinkedBucket struct {
	blob.Store
	presign *s3.PresignClient
	bucket  string
}

// NewLinkedBucket returns the bucket of client as a blob.Store with presigned links.
func NewLinkedBucket(client *s3.Client, bucket string) *LinkedBucket {
	return &LinkedBucket{Store: blob.NewS3(client, bucket), presign: s3.NewPresignClient(client), bucket: bucket}
}

// Link returns a presigned GET URL of key that works for ttl and makes the browser save the object
// as filename. It is signed with the function's own credentials, so it works no longer than they do.
func (b *LinkedBucket) Link(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	req, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(b.bucket), Key: aws.String(key),
		ResponseContentDisposition: aws.String(fmt.Sprintf("attachment; filename=%q", filename)),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return req.URL, nil
}
