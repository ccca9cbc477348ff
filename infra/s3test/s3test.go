// Package s3test starts s3rver, the S3-compatible test server pinned in infra/s3rver, for tests of the
// S3 media storage: a real server speaking S3's REST API, not a mock. Without node or s3rver's
// node_modules (npm ci --prefix infra/s3rver) tests skip locally and fail in CI (testenv.Need).
package s3test

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/secondme/twin/infra/testenv"
	"github.com/secondme/twin/pkg/id"
)

// Server is a running s3rver.
type Server struct {
	// Endpoint is its URL, http://127.0.0.1:<port>.
	Endpoint string
}

// Start starts s3rver on a free port with an empty data directory; it stops when the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "..", "s3rver", "node_modules", ".bin", "s3rver")
	_, nodeErr := exec.LookPath("node")
	_, binErr := os.Stat(bin)
	testenv.Need(tb, nodeErr == nil && binErr == nil, "s3rver (Node.js >= 20 and npm ci --prefix infra/s3rver)")
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			tb.Fatal(err)
		}
		cmd := exec.Command(bin, "-d", tb.TempDir(), "-a", "127.0.0.1", "-p", strconv.Itoa(port), "--no-vhost-buckets")
		out, err := cmd.StdoutPipe()
		if err != nil {
			tb.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			tb.Fatalf("s3test: start s3rver: %v", err)
		}
		go func() { // drain its log so that it never blocks on a full pipe
			sc := bufio.NewScanner(out)
			for sc.Scan() {
			}
		}()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = waitFor(addr, 15*time.Second); lastErr == nil {
			tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			return &Server{Endpoint: "http://" + addr}
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	tb.Fatalf("s3test: s3rver did not answer: %v", lastErr)
	return nil
}

// Client returns an S3 client of the server, path-style, with dummy credentials.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("S3RVER", "S3RVER", ""),
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		// s3rver does not read the checksum trailers the SDK adds to uploads by default.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Bucket creates a fresh, uniquely named bucket and returns its name.
func (s *Server) Bucket(tb testing.TB) string {
	tb.Helper()
	name := "test-" + strings.ToLower(id.New())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		tb.Fatalf("s3test: create bucket %s: %v", name, err)
	}
	return name
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitFor(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
