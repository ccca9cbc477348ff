package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// MaxGetBytes bounds an object Get reads from S3; larger objects are an error.
const MaxGetBytes = 64 << 20

// S3 is a Store in an S3 bucket: an object is the S3 object at its key, its content type the
// object's Content-Type. Encryption and the removal of superseded versions are the bucket's
// (template.yaml).
type S3 struct {
	client *s3.Client
	bucket string
}

// NewS3 returns the store of bucket through client.
func NewS3(client *s3.Client, bucket string) *S3 { return &S3{client: client, bucket: bucket} }

// Put implements Store.
func (s *S3) Put(ctx context.Context, key, contentType string, body []byte) error {
	if !ValidKey(key) {
		return badKey(key)
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentType: aws.String(contentType), ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		return fmt.Errorf("put s3 object %s: %w", key, err)
	}
	return nil
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) (Object, error) {
	if !ValidKey(key) {
		return Object{}, badKey(key)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if notFound(err) {
			return Object{}, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return Object{}, fmt.Errorf("get s3 object %s: %w", key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, MaxGetBytes+1))
	if err != nil {
		return Object{}, fmt.Errorf("read s3 object %s: %w", key, err)
	}
	if len(body) > MaxGetBytes {
		return Object{}, fmt.Errorf("s3 object %s is over %d bytes", key, MaxGetBytes)
	}
	return Object{Body: body, ContentType: aws.ToString(out.ContentType)}, nil
}

// notFound reports whether err is S3's answer for a missing key.
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var api smithy.APIError
	return errors.As(err, &nsk) || errors.As(err, &nf) ||
		(errors.As(err, &api) && (api.ErrorCode() == "NoSuchKey" || api.ErrorCode() == "NotFound"))
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return badKey(key)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil && !notFound(err) {
		return fmt.Errorf("delete s3 object %s: %w", key, err)
	}
	return nil
}

// List implements Store.
func (s *S3) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3 objects under %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// DeletePrefix implements Store. It deletes one object at a time: a person's folder holds a few
// objects, and single deletes need no Content-MD5 (which not every S3-compatible server checks alike).
func (s *S3) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	if !validPrefix(prefix) {
		return 0, badKey(prefix)
	}
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return 0, err
	}
	for i, k := range keys {
		if err := s.Delete(ctx, k); err != nil {
			return i, err
		}
	}
	return len(keys), nil
}
