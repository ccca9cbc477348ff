// Package awsapp is the AWS adapter set of the composition root: one AWS SDK configuration per
// process, the DynamoDB store, the SQS compat queue and the secrets of Secrets Manager.
package awsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/guregu/dynamo/v2"

	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/queue"
	"github.com/secondme/twin/pkg/queue/sqsqueue"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/dynamostore"
)

// Config is where the AWS resources are.
type Config struct {
	// Table is the DynamoDB table; empty: no store.
	Table string
	// DynamoEndpoint, when set, is another DynamoDB endpoint (dynalite, DynamoDB Local).
	DynamoEndpoint string
	// QueueURL is the compat job queue; empty: no queue.
	QueueURL string
	// NightlyQueueURL is the nightly fan-out's queue (its shard tasks and pair jobs); empty: QueueURL.
	NightlyQueueURL string
	// SQSEndpoint, when set, is another SQS endpoint.
	SQSEndpoint string
	// SecretsARN is the application secret: one JSON object of strings, a field per secret name.
	SecretsARN string
	// SecretARNs are the secrets that have a secret of their own (a plain string), by name.
	SecretARNs map[string]string
	// Secrets tune how long secrets are kept (SECRETS_TTL) and the clock.
	Secrets SecretsOptions
	// MediaBucket is the S3 bucket of stored media (avatars); empty: no media storage.
	MediaBucket string
}

// Adapters are the AWS clients of one process. Store and Queue are nil when not configured.
type Adapters struct {
	Store store.Store
	Queue queue.Sender
	// NightlyQueue is the nightly fan-out's queue; nil when not configured.
	NightlyQueue queue.Sender
	Secrets      *Secrets
	// Blob is the media bucket; nil when not configured.
	Blob blob.Store
}

// New loads the AWS SDK configuration once (the Lambda environment supplies region and credentials;
// the SDK reads AWS_ENDPOINT_URL_<SERVICE> itself) and builds the clients cfg names. It makes no
// request.
func New(ctx context.Context, cfg Config) (Adapters, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Adapters{}, fmt.Errorf("load AWS config: %w", err)
	}
	a := Adapters{Secrets: NewSecrets(secretsmanager.NewFromConfig(awsCfg), cfg.SecretsARN, cfg.SecretARNs, cfg.Secrets)}
	if cfg.Table != "" {
		var opts []func(*dynamodb.Options)
		if cfg.DynamoEndpoint != "" {
			opts = append(opts, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(cfg.DynamoEndpoint) })
		}
		// Other people's twins are cached per instance (GetTwin is on the chat path only).
		a.Store = dynamostore.New(dynamo.New(awsCfg, opts...), cfg.Table,
			dynamostore.WithTwinCache(dynamostore.DefaultTwinCacheTTL, dynamostore.DefaultTwinCacheSize))
	}
	if cfg.QueueURL != "" {
		var opts []func(*sqs.Options)
		if cfg.SQSEndpoint != "" {
			opts = append(opts, func(o *sqs.Options) { o.BaseEndpoint = aws.String(cfg.SQSEndpoint) })
		}
		a.Queue = sqsqueue.New(sqs.NewFromConfig(awsCfg, opts...), cfg.QueueURL)
		if cfg.NightlyQueueURL != "" {
			a.NightlyQueue = sqsqueue.New(sqs.NewFromConfig(awsCfg, opts...), cfg.NightlyQueueURL)
		}
	}
	if cfg.MediaBucket != "" {
		a.Blob = NewLinkedBucket(s3.NewFromConfig(awsCfg), cfg.MediaBucket)
	}
	return a, nil
}

// SecretGetter is the one Secrets Manager call a secret read makes (*secretsmanager.Client has it).
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// DefaultSecretsTTL is how long a secret's value is used before it is read again (SECRETS_TTL).
const DefaultSecretsTTL = 5 * time.Minute

// retryAfterError is how long a secret whose re-read failed keeps its old value before the next try.
const retryAfterError = 30 * time.Second

// SecretsOptions tune the cache of Secrets.
type SecretsOptions struct {
	// TTL is how long a value is used before it is read again (DefaultSecretsTTL when zero). Each
	// entry's TTL is shortened by up to a tenth at random, so that instances started together do not
	// re-read together.
	TTL time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Logger receives a warning when a re-read fails and the old value stays (slog.Default() when nil).
	Logger *slog.Logger
}

// Secrets reads secrets by name: from the secret of its own when it has one (a plain string), else
// from the field of that name of the application secret (a JSON object). A secret's value is kept for
// the TTL, then read again on the next call, so that a rotated secret reaches every instance within
// the TTL. However many calls want a secret at once, one read is made and the others wait for it;
// when a re-read fails, the old value is used (and logged) and the read is tried again later. Values
// are never logged.
type Secrets struct {
	sm   SecretGetter
	app  string
	own  map[string]string
	opts SecretsOptions

	mu      sync.Mutex
	entries map[string]*entry // ARN -> its value and state
}

// entry is one secret's cached value.
type entry struct {
	value   string
	has     bool          // value was read at least once
	expires time.Time     // when to read it again
	reading chan struct{} // closed when the read in flight ends; nil when none is
	err     error         // the last read's error, when it had no value to fall back on
}

// NewSecrets returns the secrets of sm: app is the application secret's ARN, own the ARNs of the
// secrets that have their own, by name.
func NewSecrets(sm SecretGetter, app string, own map[string]string, opts SecretsOptions) *Secrets {
	if opts.TTL <= 0 {
		opts.TTL = DefaultSecretsTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Secrets{sm: sm, app: app, own: own, opts: opts, entries: map[string]*entry{}}
}

// Secrets returns the values of names that are set; a name neither of its own nor in the application
// secret (or empty there) is left out.
func (s *Secrets) Secrets(ctx context.Context, names ...string) (map[string]string, error) {
	arns := map[string]bool{}
	for _, n := range names {
		if arn := s.own[n]; arn != "" {
			arns[arn] = true
		} else if s.app != "" {
			arns[s.app] = true
		}
	}
	values, err := s.values(ctx, slices.Sorted(maps.Keys(arns)))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	var app map[string]string
	for _, n := range names {
		if arn := s.own[n]; arn != "" {
			out[n] = strings.TrimSpace(values[arn])
			continue
		}
		if s.app == "" {
			continue
		}
		if app == nil {
			if err := json.Unmarshal([]byte(values[s.app]), &app); err != nil {
				return nil, fmt.Errorf("SECRETS_ARN: the secret is not a JSON object of strings")
			}
		}
		if v := strings.TrimSpace(app[n]); v != "" {
			out[n] = v
		}
	}
	return out, nil
}

// values returns the values of the secrets arns, reading concurrently those not read yet or past
// their TTL.
func (s *Secrets) values(ctx context.Context, arns []string) (map[string]string, error) {
	if out, ok := s.fresh(arns); ok { // the common case: no read, no goroutine
		return out, nil
	}
	vals, errs := make([]string, len(arns)), make([]error, len(arns))
	var wg sync.WaitGroup
	for i, arn := range arns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vals[i], errs[i] = s.value(ctx, arn)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(arns))
	for i, arn := range arns {
		out[arn] = vals[i]
	}
	return out, nil
}

// fresh returns the values of arns when every one is kept and within its TTL.
func (s *Secrets) fresh(arns []string) (map[string]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	out := make(map[string]string, len(arns))
	for _, arn := range arns {
		e := s.entries[arn]
		if e == nil || !e.has || !now.Before(e.expires) {
			return nil, false
		}
		out[arn] = e.value
	}
	return out, true
}

// value returns the value of the secret arn: the kept one while it is fresh, else a new read, which
// only one caller makes while the others wait (the old value, when there is one, is the answer of a
// failed read).
func (s *Secrets) value(ctx context.Context, arn string) (string, error) {
	for {
		s.mu.Lock()
		e := s.entries[arn]
		if e == nil {
			e = &entry{}
			s.entries[arn] = e
		}
		if e.has && s.opts.Now().Before(e.expires) {
			v := e.value
			s.mu.Unlock()
			return v, nil
		}
		if wait := e.reading; wait != nil { // another caller reads it: wait for its answer
			s.mu.Unlock()
			select {
			case <-wait:
				s.mu.Lock()
				v, has, err := e.value, e.has, e.err
				s.mu.Unlock()
				if has {
					return v, nil
				}
				if err != nil {
					return "", err
				}
				continue
			case <-ctx.Done():
				return "", fmt.Errorf("read secret %s: %w", arn, ctx.Err())
			}
		}
		done := make(chan struct{})
		e.reading = done
		s.mu.Unlock()

		v, err := ReadSecret(ctx, s.sm, arn)

		s.mu.Lock()
		now := s.opts.Now()
		switch {
		case err == nil:
			e.value, e.has, e.err = v, true, nil
			e.expires = now.Add(s.opts.TTL - time.Duration(rand.Int64N(int64(s.opts.TTL)/10+1)))
		case e.has:
			e.expires = now.Add(min(retryAfterError, s.opts.TTL))
			s.opts.Logger.WarnContext(ctx, "a secret could not be read again: its previous value stays in use", "secret", arn, "err", err)
		default:
			e.err = err
		}
		v, has := e.value, e.has
		e.reading = nil
		close(done)
		s.mu.Unlock()
		if !has {
			return "", err
		}
		return v, nil
	}
}

// ReadSecret reads a secret's current string value by ARN (or name).
func ReadSecret(ctx context.Context, sm SecretGetter, arn string) (string, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", arn, err)
	}
	if out.SecretString == nil || *out.SecretString == "" {
		return "", fmt.Errorf("read secret %s: no string value", arn)
	}
	return *out.SecretString, nil
}
