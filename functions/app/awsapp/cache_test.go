package awsapp_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secondme/twin/functions/app/awsapp"
)

// clock is a fake clock tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestSecretsAreReadAgainAfterTheTTL rotates a secret in the Secrets Manager fake: the old value is
// used until the TTL ends (one read), the new one after it (a second read).
func TestSecretsAreReadAgainAfterTheTTL(t *testing.T) {
	ctx := context.Background()
	f := fakeAWS(t, map[string]string{"app": `{"sealingKey":"k1"}`, "own": "w1"})
	clk := &clock{now: time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)}
	a, err := awsapp.New(ctx, awsapp.Config{SecretsARN: "app", SecretARNs: map[string]string{"secondmeWebhookSecret": "own"},
		Secrets: awsapp.SecretsOptions{TTL: 5 * time.Minute, Now: clk.Now}})
	if err != nil {
		t.Fatal(err)
	}
	read := func() map[string]string {
		t.Helper()
		got, err := a.Secrets.Secrets(ctx, "sealingKey", "secondmeWebhookSecret")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(); got["sealingKey"] != "k1" || got["secondmeWebhookSecret"] != "w1" {
		t.Fatalf("first read = %v", got)
	}
	f.Set("app", `{"sealingKey":"k2"}`)
	f.Set("own", "w2")
	clk.Add(4 * time.Minute) // within the TTL, even shortened by its tenth
	if got := read(); got["sealingKey"] != "k1" || got["secondmeWebhookSecret"] != "w1" {
		t.Errorf("within the TTL = %v, want the kept values", got)
	}
	if f.Reads("app") != 1 || f.Reads("own") != 1 {
		t.Errorf("reads within the TTL = %d, %d; want 1 each", f.Reads("app"), f.Reads("own"))
	}
	clk.Add(time.Minute + time.Second)
	if got := read(); got["sealingKey"] != "k2" || got["secondmeWebhookSecret"] != "w2" {
		t.Errorf("after the TTL = %v, want the rotated values", got)
	}
	if f.Reads("app") != 2 || f.Reads("own") != 2 {
		t.Errorf("reads after the TTL = %d, %d; want 2 each", f.Reads("app"), f.Reads("own"))
	}
}

// getter is a Secrets Manager stub: it answers value, or fails while failing is set, and counts the
// calls; while gate is not nil each call waits for it.
type getter struct {
	value   atomic.Value
	failing atomic.Bool
	calls   atomic.Int32
	gate    chan struct{}
}

func (g *getter) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	g.calls.Add(1)
	if g.gate != nil {
		<-g.gate
	}
	if g.failing.Load() {
		return nil, errors.New("throttled")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(g.value.Load().(string))}, nil
}

// TestStaleValueWhenTheReadFails: a re-read that fails leaves the old value in use and is tried again
// after a short wait, not on every call; a first read that fails is an error.
func TestStaleValueWhenTheReadFails(t *testing.T) {
	ctx := context.Background()
	g := &getter{}
	g.value.Store("v1")
	clk := &clock{now: time.Unix(1e9, 0)}
	s := awsapp.NewSecrets(g, "", map[string]string{"x": "arn-x"}, awsapp.SecretsOptions{TTL: time.Minute, Now: clk.Now})
	get := func() (string, error) {
		m, err := s.Secrets(ctx, "x")
		return m["x"], err
	}
	if v, err := get(); v != "v1" || err != nil {
		t.Fatalf("first read = %q, %v", v, err)
	}
	g.failing.Store(true)
	clk.Add(2 * time.Minute)
	for range 3 {
		if v, err := get(); v != "v1" || err != nil {
			t.Errorf("read while Secrets Manager fails = %q, %v; want the old value", v, err)
		}
	}
	if n := g.calls.Load(); n != 2 {
		t.Errorf("calls = %d, want 2 (one failed re-read, then the old value until the retry)", n)
	}
	g.failing.Store(false)
	g.value.Store("v2")
	clk.Add(31 * time.Second)
	if v, err := get(); v != "v2" || err != nil {
		t.Errorf("read after the retry wait = %q, %v; want v2", v, err)
	}

	fresh := awsapp.NewSecrets(g, "", map[string]string{"x": "arn-x"}, awsapp.SecretsOptions{})
	g.failing.Store(true)
	if _, err := fresh.Secrets(ctx, "x"); err == nil {
		t.Error("a first read that fails is not an error")
	}
}

// TestOneReadForManyCallers: callers that find a secret expired at once make one read between them.
func TestOneReadForManyCallers(t *testing.T) {
	ctx := context.Background()
	g := &getter{gate: make(chan struct{})}
	g.value.Store("v")
	s := awsapp.NewSecrets(g, "", map[string]string{"x": "arn-x"}, awsapp.SecretsOptions{})
	var wg sync.WaitGroup
	results := make([]string, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := s.Secrets(ctx, "x")
			if err != nil {
				t.Error(err)
			}
			results[i] = m["x"]
		}()
	}
	for g.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others arrive and wait
	close(g.gate)
	wg.Wait()
	if n := g.calls.Load(); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
	for i, v := range results {
		if v != "v" {
			t.Fatalf("caller %d got %q", i, v)
		}
	}
}
