package avatar_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secondme/twin/infra/s3test"
	"github.com/secondme/twin/pkg/avatar"
	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/metrics"
	"github.com/secondme/twin/pkg/runware"
	"github.com/secondme/twin/pkg/runware/runwaretest"
	"github.com/secondme/twin/pkg/store"
	"github.com/secondme/twin/pkg/store/sqlitestore"
)

// sentQueue records the bodies sent.
type sentQueue struct {
	mu     sync.Mutex
	bodies [][]byte
	err    error
}

func (q *sentQueue) Send(_ context.Context, bodies ...[]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	q.bodies = append(q.bodies, bodies...)
	return nil
}

func (q *sentQueue) take(t *testing.T) []byte {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.bodies) != 1 {
		t.Fatalf("%d jobs queued, want 1", len(q.bodies))
	}
	b := q.bodies[0]
	q.bodies = nil
	return b
}

type env struct {
	svc     *avatar.Service
	st      *sqlitestore.Store
	blobs   blob.Store
	q       *sentQueue
	counter *metrics.Counter
	now     time.Time
	user    store.User
}

func newEnv(t *testing.T, gen avatar.Generator, daily int) *env {
	t.Helper()
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, blobs, gen, daily)
}

// newEnvOn is newEnv over the given object storage.
func newEnvOn(t *testing.T, blobs blob.Store, gen avatar.Generator, daily int) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, blobs: blobs, q: &sentQueue{}, counter: metrics.NewCounter(),
		now: time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)}
	e.user = person("Mira", "jazz", "climbing")
	e.user.Avatar = "https://cdn.example.com/old.png"
	if err := st.CreateUser(ctx, e.user); err != nil {
		t.Fatal(err)
	}
	e.svc = avatar.NewService(st, blobs, e.q, gen, avatar.Config{Daily: daily, Now: func() time.Time { return e.now }, Metrics: e.counter})
	return e
}

func TestOfflineJobEndToEnd(t *testing.T) {
	t.Parallel()
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	offlineJob(t, newEnvOn(t, dir, nil, 5))
}

// TestOfflineJobOnS3 is the same job over S3 (s3rver): a missing state is S3's NoSuchKey, listing
// and deleting a person's folder are S3 calls.
func TestOfflineJobOnS3(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	offlineJob(t, newEnvOn(t, blob.NewS3(srv.Client(), srv.Bucket(t)), nil, 5))
}

func offlineJob(t *testing.T, e *env) {
	ctx := context.Background()
	if st, err := e.svc.State(ctx, e.user.ID); err != nil || st.Status != avatar.StatusNone {
		t.Fatalf("state before any job = %+v, %v", st, err)
	}
	st, err := e.svc.Start(ctx, e.user.ID, "")
	if err != nil || st.Status != avatar.StatusQueued || st.Job == "" || st.Style != avatar.DefaultStyle {
		t.Fatalf("Start = %+v, %v", st, err)
	}
	if _, err := e.svc.Start(ctx, e.user.ID, "pixel"); !errors.Is(err, avatar.ErrBusy) {
		t.Errorf("second Start while queued: err %v, want ErrBusy", err)
	}
	body := e.q.take(t)
	if err := e.svc.Handle(ctx, body); err != nil {
		t.Fatal(err)
	}
	done, err := e.svc.State(ctx, e.user.ID)
	if err != nil || done.Status != avatar.StatusDone || !strings.HasPrefix(done.URL, "/media/avatars/"+e.user.ID+"/") || !strings.HasSuffix(done.URL, ".svg") {
		t.Fatalf("state after the job = %+v, %v", done, err)
	}
	u, _ := e.st.GetUser(ctx, e.user.ID)
	if u.Avatar != done.URL {
		t.Errorf("person's avatar = %q, want %q", u.Avatar, done.URL)
	}
	obj, err := e.blobs.Get(ctx, strings.TrimPrefix(done.URL, "/media/"))
	if err != nil || obj.ContentType != avatar.SVGContentType || !bytes.Equal(obj.Body, avatar.Offline(avatar.SubjectOf(u))) {
		t.Errorf("stored portrait: %q, %v", obj.ContentType, err)
	}
	// The same message again (a redelivery) changes nothing.
	if err := e.svc.Handle(ctx, body); err != nil {
		t.Errorf("redelivered job: %v", err)
	}
	if again, _ := e.svc.State(ctx, e.user.ID); again != done {
		t.Errorf("redelivery changed the state: %+v, want %+v", again, done)
	}
	if got := e.counter.Snapshot()[metrics.ModelCalls][metrics.PurposeAvatar]; got != 1 {
		t.Errorf("avatar calls counted: %d, want 1", got)
	}
	// A new portrait in another style supersedes the old one; the old job's message no-ops.
	e.now = e.now.Add(time.Minute)
	if _, err := e.svc.Start(ctx, e.user.ID, "pixel"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Handle(ctx, body); err != nil {
		t.Errorf("superseded job: %v", err)
	}
	if st, _ := e.svc.State(ctx, e.user.ID); st.Status != avatar.StatusQueued {
		t.Errorf("a superseded job's message ran: %+v", st)
	}
	// Erase removes every image and the job state.
	if err := e.svc.Erase(ctx, e.user.ID); err != nil {
		t.Fatal(err)
	}
	if left, _ := e.blobs.List(ctx, ""); len(left) != 0 {
		t.Errorf("left after erase: %q", left)
	}
}

func TestStartLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, nil, 2)
	var fe *fault.Error
	if _, err := e.svc.Start(ctx, e.user.ID, "crayon"); !errors.As(err, &fe) || fe.Code != fault.CodeInvalidArgument || fe.Fields["style"] == "" {
		t.Errorf("unknown style: err %v, want invalid_argument naming style", err)
	}
	for i := range 2 {
		if _, err := e.svc.Start(ctx, e.user.ID, ""); err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		if err := e.svc.Handle(ctx, e.q.take(t)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.svc.Start(ctx, e.user.ID, "")
	if !errors.As(err, &fe) || fe.Code != fault.CodeRateLimited || fe.RetryAfter != 2*time.Hour {
		t.Fatalf("third start of the day: err %v (%+v), want rate_limited until midnight UTC (2h)", err, fe)
	}
	e.now = e.now.Add(2 * time.Hour)
	if _, err := e.svc.Start(ctx, e.user.ID, ""); err != nil {
		t.Errorf("first start of the next day: %v", err)
	}
	// A job whose message was lost stops blocking after the stale time.
	e.q.take(t)
	e.now = e.now.Add(avatar.DefaultStale + time.Second)
	if _, err := e.svc.Start(ctx, e.user.ID, ""); err != nil {
		t.Errorf("start after a stale job: %v", err)
	}
	// A queue that refuses: the job is failed at once, and the person is told to retry.
	e.q.take(t)
	e.q.err = errors.New("queue down")
	e.now = e.now.Add(24 * time.Hour)
	if _, err := e.svc.Start(ctx, e.user.ID, ""); !errors.As(err, &fe) || fe.Code != fault.CodeUpstreamUnavailable {
		t.Errorf("start with the queue down: %v", err)
	}
	if st, _ := e.svc.State(ctx, e.user.ID); st.Status != avatar.StatusFailed || st.ReasonCode != "not_queued" {
		t.Errorf("state after the queue refused: %+v", st)
	}
}

func TestRunwareJob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script []runwaretest.Reply
		status string
		reason string
	}{
		{name: "success", status: avatar.StatusDone},
		{name: "nsfw flagged", script: []runwaretest.Reply{{NSFW: true}}, status: avatar.StatusFailed, reason: "unsafe"},
		{name: "refused", script: []runwaretest.Reply{{Status: 400, Errors: []runwaretest.Error{{Code: "invalidPositivePrompt", Message: "no"}}}},
			status: avatar.StatusFailed, reason: "refused"},
		{name: "oversized", script: []runwaretest.Reply{{ImagePadding: runware.MaxImageBytes}}, status: avatar.StatusFailed, reason: "bad_image"},
		{name: "down", script: []runwaretest.Reply{{Status: 503}, {Status: 503}}, status: avatar.StatusFailed, reason: "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			fake := runwaretest.New(t)
			fake.Script(tt.script...)
			client, err := runware.New(runware.Config{APIKey: runwaretest.Key, BaseURL: fake.URL(), RetryDelay: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			e := newEnv(t, client, 5)
			if _, err := e.svc.Start(ctx, e.user.ID, "watercolour"); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.Handle(ctx, e.q.take(t)); err != nil {
				t.Fatal(err)
			}
			st, _ := e.svc.State(ctx, e.user.ID)
			u, _ := e.st.GetUser(ctx, e.user.ID)
			if st.Status != tt.status || st.ReasonCode != tt.reason {
				t.Fatalf("state = %+v, want %s %s", st, tt.status, tt.reason)
			}
			if tt.status == avatar.StatusFailed {
				if st.Reason == "" || u.Avatar != e.user.Avatar {
					t.Errorf("failed job: reason %q, avatar %q (want a reason and the old avatar)", st.Reason, u.Avatar)
				}
				if keys, _ := e.blobs.List(ctx, avatar.Folder(e.user.ID)); len(keys) != 0 {
					t.Errorf("a failed job stored %q", keys)
				}
				return
			}
			if !strings.HasSuffix(st.URL, ".jpg") || u.Avatar != st.URL {
				t.Errorf("done: url %q, avatar %q", st.URL, u.Avatar)
			}
			if tasks := fake.Tasks(); len(tasks) != 1 || !strings.Contains(tasks[0].PositivePrompt, "watercolour") || strings.Contains(tasks[0].PositivePrompt, canary) {
				t.Errorf("tasks sent: %+v", tasks)
			}
			if c := e.counter.Snapshot()[metrics.ModelCostMicroUSD][metrics.PurposeAvatar]; c != int64(runwaretest.Cost*1e6) {
				t.Errorf("cost counted: %d micro-USD, want %d", c, int64(runwaretest.Cost*1e6))
			}
		})
	}
}

func TestImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var pic bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	img.Set(3, 3, color.RGBA{R: 200, A: 255})
	if err := png.Encode(&pic, img); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(pic.Bytes())
		case "/page.html":
			w.Write([]byte("<html><script>alert(1)</script></html>"))
		case "/huge.png":
			w.Write(append(pic.Bytes(), make([]byte, runware.MaxImageBytes)...))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	e := newEnv(t, nil, 5)
	svc := avatar.NewService(e.st, e.blobs, e.q, nil, avatar.Config{HTTPClient: srv.Client()})
	got, err := svc.Import(ctx, e.user.ID, "", srv.URL+"/a.png")
	if err != nil || !strings.HasPrefix(got, "/media/avatars/"+e.user.ID+"/imported/") || !strings.HasSuffix(got, ".png") {
		t.Fatalf("Import = %q, %v", got, err)
	}
	if again, _ := svc.Import(ctx, e.user.ID, got, srv.URL+"/a.png"); again != got {
		t.Errorf("the same picture imported again: %q, want %q", again, got)
	}
	for _, bad := range []string{srv.URL + "/page.html", srv.URL + "/huge.png", srv.URL + "/missing.png",
		strings.Replace(srv.URL, "https:", "http:", 1) + "/a.png", "javascript:alert(1)"} {
		if kept, err := svc.Import(ctx, e.user.ID, "/media/old", bad); err == nil || kept != "/media/old" {
			t.Errorf("Import(%s) = %q, %v; want an error and the current avatar", bad, kept, err)
		}
	}
	portrait := "/media/avatars/" + e.user.ID + "/" + strings.Repeat("a", 64) + ".svg"
	if kept, err := svc.Import(ctx, e.user.ID, portrait, srv.URL+"/a.png"); err != nil || kept != portrait {
		t.Errorf("Import over a generated portrait = %q, %v; want the portrait kept", kept, err)
	}
}
