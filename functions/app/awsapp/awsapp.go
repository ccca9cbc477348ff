// Package awsapp is the AWS adapter set of the composition root: one AWS SDK configuration per
// process, the DynamoDB store, the SQS compat queue and the secrets of Secrets Manager.
package awsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/guregu/dynamo/v2"

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
	// SQSEndpoint, when set, is another SQS endpoint.
	SQSEndpoint string
	// SecretsARN is the application secret: one JSON object of strings, a field per secret name.
	SecretsARN string
	// SecretARNs are the secrets that have a secret of their own (a plain string), by name.
	SecretARNs map[string]string
}

// Adapters are the AWS clients of one process. Store and Queue are nil when not configured.
type Adapters struct {
	Store   store.Store
	Queue   queue.Sender
	Secrets *Secrets
}

// New loads the AWS SDK configuration once (the Lambda environment supplies region and credentials;
// the SDK reads AWS_ENDPOINT_URL_<SERVICE> itself) and builds the clients cfg names. It makes no
// request.
func New(ctx context.Context, cfg Config) (Adapters, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return Adapters{}, fmt.Errorf("load AWS config: %w", err)
	}
	a := Adapters{Secrets: NewSecrets(secretsmanager.NewFromConfig(awsCfg), cfg.SecretsARN, cfg.SecretARNs)}
	if cfg.Table != "" {
		var opts []func(*dynamodb.Options)
		if cfg.DynamoEndpoint != "" {
			opts = append(opts, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(cfg.DynamoEndpoint) })
		}
		a.Store = dynamostore.New(dynamo.New(awsCfg, opts...), cfg.Table)
	}
	if cfg.QueueURL != "" {
		var opts []func(*sqs.Options)
		if cfg.SQSEndpoint != "" {
			opts = append(opts, func(o *sqs.Options) { o.BaseEndpoint = aws.String(cfg.SQSEndpoint) })
		}
		a.Queue = sqsqueue.New(sqs.NewFromConfig(awsCfg, opts...), cfg.QueueURL)
	}
	return a, nil
}

// SecretGetter is the one Secrets Manager call a secret read makes (*secretsmanager.Client has it).
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Secrets reads secrets by name: from the secret of its own when it has one (a plain string), else
// from the field of that name of the application secret (a JSON object). Each secret is read once in
// the process, the reads of one call concurrently; values are kept, never logged.
type Secrets struct {
	sm  SecretGetter
	app string
	own map[string]string

	mu   sync.Mutex
	read map[string]string // ARN -> value
}

// NewSecrets returns the secrets of sm: app is the application secret's ARN, own the ARNs of the
// secrets that have their own, by name.
func NewSecrets(sm SecretGetter, app string, own map[string]string) *Secrets {
	return &Secrets{sm: sm, app: app, own: own}
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

// values returns the values of the secrets arns, reading concurrently those not read before.
func (s *Secrets) values(ctx context.Context, arns []string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock() // one caller at a time: a secret is never read twice
	if s.read == nil {
		s.read = map[string]string{}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  = map[string]error{}
		fresh = map[string]string{}
	)
	for _, arn := range arns {
		if _, ok := s.read[arn]; ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := ReadSecret(ctx, s.sm, arn)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[arn] = err
			} else {
				fresh[arn] = v
			}
		}()
	}
	wg.Wait()
	for _, arn := range arns {
		if err := errs[arn]; err != nil {
			return nil, err
		}
	}
	maps.Copy(s.read, fresh)
	out := map[string]string{}
	for _, arn := range arns {
		out[arn] = s.read[arn]
	}
	return out, nil
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
