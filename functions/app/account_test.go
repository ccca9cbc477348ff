package app_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/functions/app"
	"github.com/secondme/twin/functions/app/models"
	"github.com/secondme/twin/pkg/account"
	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/id"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// sentJobs is a queue that keeps what it is sent.
type sentJobs struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (q *sentJobs) Send(_ context.Context, bodies ...[]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.bodies = append(q.bodies, bodies...)
	return nil
}

// presigning is media storage that presigns its links, as the S3 bucket does on AWS.
type presigning struct{ blob.Store }

func (presigning) Link(_ context.Context, key, _ string, _ time.Duration) (string, error) {
	return "https://bucket.example/" + key + "?X-Amz-Signature=x", nil
}

// TestAccountJobsThroughTheApp starts an export through App.Account and runs the job through
// App.Jobs, the queue's one handler: the link is signed by the service over files, presigned by a
// bucket that presigns, and an erase job goes the same way.
func TestAccountJobsThroughTheApp(t *testing.T) {
	ctx := context.Background()
	for name, tt := range map[string]struct {
		wrap     func(blob.Store) blob.Store
		wantLink string
	}{
		"files: a link signed here": {func(b blob.Store) blob.Store { return b }, "/api/user/export/"},
		"a bucket that presigns":    {func(b blob.Store) blob.Store { return presigning{b} }, "https://bucket.example/exports/"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := app.Load(env(nil), models.All...)
			if err != nil {
				t.Fatal(err)
			}
			st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "app.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			dir, err := blob.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			q := &sentJobs{}
			a := app.New(cfg, app.Deps{Store: st, Queue: q, Blob: tt.wrap(dir), Secrets: app.SecretMap{app.SecretSealingKey: testKey}})
			uid := id.New()
			if err := st.CreateUser(ctx, store.User{ID: uid, Nickname: "Ana", Provider: store.ProviderOIDC, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			acc, err := a.Account(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ex, err := acc.StartExport(ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			if err := acc.Erase(ctx, id.New()); err != nil { // someone else's erase, queued beside it
				t.Fatal(err)
			}
			jobs, err := a.Jobs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(q.bodies) != 2 {
				t.Fatalf("queued %d jobs, want the export and the erase", len(q.bodies))
			}
			for _, body := range q.bodies {
				if err := jobs(ctx, body); err != nil {
					t.Fatalf("job %s: %v", body, err)
				}
			}
			got, err := acc.Export(ctx, uid, ex.Job)
			if err != nil || got.Status != account.StatusDone || !strings.HasPrefix(got.URL, tt.wantLink) {
				t.Errorf("Export = %+v, %v; want done with a link starting %s", got, err, tt.wantLink)
			}
		})
	}
}
