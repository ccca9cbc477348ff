package usersapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secondme/twin/infra/dynamotest"
	"github.com/secondme/twin/pkg/account"
	"github.com/secondme/twin/pkg/api"
	"github.com/secondme/twin/pkg/api/apitest"
	"github.com/secondme/twin/pkg/api/usersapi"
	"github.com/secondme/twin/pkg/blob"
	"github.com/secondme/twin/pkg/fault"
	"github.com/secondme/twin/pkg/profile"
	"github.com/secondme/twin/pkg/store"
)

// jobQueue keeps the jobs sent, for the test to run; it refuses them while failing is set.
type jobQueue struct {
	mu      sync.Mutex
	bodies  [][]byte
	failing atomic.Bool
}

func (q *jobQueue) Send(_ context.Context, bodies ...[]byte) error {
	if q.failing.Load() {
		return errors.New("queue unavailable")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.bodies = append(q.bodies, bodies...)
	return nil
}

// take returns the jobs sent so far and forgets them.
func (q *jobQueue) take() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	b := q.bodies
	q.bodies = nil
	return b
}

// crashy is object storage whose next Put or DeletePrefix fails once when crash is set: a job that
// dies part-way.
type crashy struct {
	blob.Store
	crash atomic.Bool
}

func (c *crashy) Put(ctx context.Context, key, ct string, b []byte) error {
	if strings.HasSuffix(key, ".zip") && c.crash.CompareAndSwap(true, false) {
		return errors.New("crash while writing the archive")
	}
	return c.Store.Put(ctx, key, ct, b)
}

// avatars stands for the avatar service's part in the jobs: the files under avatars/<user>/.
type avatars struct {
	objs  blob.Store
	crash atomic.Bool
}

func (a *avatars) Files(ctx context.Context, userID string) ([]string, error) {
	return a.objs.List(ctx, "avatars/"+userID+"/")
}

func (a *avatars) Erase(ctx context.Context, userID string) error {
	if a.crash.CompareAndSwap(true, false) {
		return errors.New("crash while erasing the avatars")
	}
	_, err := a.objs.DeletePrefix(ctx, "avatars/"+userID+"/")
	return err
}

// jobsEnv is the users routes with the account jobs over a store, files and a job queue the test
// runs by hand, on a clock it moves.
type jobsEnv struct {
	*env
	h      http.Handler
	acc    *account.Service
	queue  *jobQueue
	objs   *crashy
	media  *avatars
	mu     sync.Mutex
	now    time.Time
	avatar string
}

func newJobsEnv(t *testing.T, e *env) *jobsEnv {
	t.Helper()
	dir, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	j := &jobsEnv{env: e, queue: &jobQueue{}, objs: &crashy{Store: dir}, now: now}
	j.media = &avatars{objs: j.objs}
	clock := func() time.Time { j.mu.Lock(); defer j.mu.Unlock(); return j.now }
	j.acc = account.New(e.st, j.queue, j.objs, account.NewSigner([]byte("test key"), clock),
		account.Config{Media: j.media, Now: clock, Daily: 3})
	rt := api.NewRouter()
	usersapi.New(e.st, apitest.HeaderAuth{}, e.rematch, e.sync, usersapi.WithClock(clock), usersapi.WithAccount(j.acc)).Register(rt)
	j.h = api.Middleware{Edge: api.Edge{PublicURL: apitest.Origin}, Logger: slog.New(slog.NewJSONHandler(e.logs, nil))}.Wrap(rt)
	j.avatar = "avatars/" + e.ana + "/" + strings.Repeat("ab", 32) + ".png"
	if err := j.objs.Put(context.Background(), j.avatar, "image/png", []byte("PNG-of-ana")); err != nil {
		t.Fatal(err)
	}
	return j
}

func (j *jobsEnv) later(d time.Duration) { j.mu.Lock(); defer j.mu.Unlock(); j.now = j.now.Add(d) }

func (j *jobsEnv) do(method, target, user string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	j.h.ServeHTTP(w, apitest.Request(method, target, user, ""))
	return w
}

// run runs the jobs sent so far, as the queue's worker does; fail is how many of them fail.
func (j *jobsEnv) run(t *testing.T) (ran, failed int) {
	t.Helper()
	for _, body := range j.queue.take() {
		if !account.IsJob(body) {
			t.Fatalf("job %s is not an account job", body)
		}
		ran++
		if err := j.acc.Handle(context.Background(), body); err != nil {
			failed++
			j.queue.Send(context.Background(), body) // the queue retries it
		}
	}
	return ran, failed
}

func (j *jobsEnv) export(t *testing.T, user, job string) account.Export {
	t.Helper()
	w := j.do("GET", "/api/user/export/"+job, user)
	if w.Code != http.StatusOK {
		t.Fatalf("GET export %s = %d %s", job, w.Code, w.Body)
	}
	var ex account.Export
	if err := json.Unmarshal(w.Body.Bytes(), &ex); err != nil {
		t.Fatal(err)
	}
	return ex
}

// TestExportJob runs an export as the client does, on SQLite and on the DynamoDB test server: the job
// is started (202), reported pending, dies while writing its archive, completes when the queue runs
// it again, and the link it reports fetches the archive (the JSON document and the person's avatar)
// without a session, for five minutes only.
func TestExportJob(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { exportJob(t, newJobsEnv(t, newEnv(t))) })
	t.Run("dynalite", func(t *testing.T) { exportJob(t, newJobsEnv(t, newEnvOn(t, dynamotest.New(t)))) })
}

func exportJob(t *testing.T, j *jobsEnv) {
	seedActivity(t, j.env)
	w := j.do("POST", "/api/user/export", j.ana)
	if w.Code != http.StatusAccepted {
		t.Fatalf("POST /api/user/export = %d %s", w.Code, w.Body)
	}
	var started account.Export
	if err := json.Unmarshal(w.Body.Bytes(), &started); err != nil || started.Status != account.StatusPending || started.Job == "" {
		t.Fatalf("started = %+v, %v", started, err)
	}
	if loc := w.Header().Get("Location"); loc != "/api/user/export/"+started.Job {
		t.Errorf("Location = %q", loc)
	}
	if ex := j.export(t, j.ana, started.Job); ex.Status != account.StatusPending || ex.URL != "" {
		t.Errorf("before the job ran: %+v, want pending", ex)
	}
	if w := j.do("GET", "/api/user/export/"+started.Job, j.ben); w.Code != http.StatusNotFound {
		t.Errorf("another person asking for the job: %d, want 404", w.Code)
	}

	j.objs.crash.Store(true)
	if ran, failed := j.run(t); ran != 1 || failed != 1 {
		t.Fatalf("first run: %d ran, %d failed; want the job to die", ran, failed)
	}
	if ex := j.export(t, j.ana, started.Job); ex.Status != account.StatusPending {
		t.Errorf("after a crash: %+v, want pending", ex)
	}
	if ran, failed := j.run(t); ran != 1 || failed != 0 {
		t.Fatalf("retry: %d ran, %d failed; want it done", ran, failed)
	}
	ex := j.export(t, j.ana, started.Job)
	if ex.Status != account.StatusDone || !strings.HasPrefix(ex.URL, account.ArchivePath(started.Job)+"?") || !ex.ExpiresAt.Equal(now.Add(account.LinkTTL)) {
		t.Fatalf("after the retry: %+v, want done with a link for 5 minutes", ex)
	}

	w = j.do("GET", ex.URL, "") // no session: the signature grants it
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/zip" ||
		!strings.Contains(w.Header().Get("Content-Disposition"), account.ArchiveName) {
		t.Fatalf("GET link = %d %v", w.Code, w.Header())
	}
	files := unzip(t, w.Body.Bytes())
	var doc profile.Document
	if err := json.Unmarshal(files["secondme-export.json"], &doc); err != nil {
		t.Fatalf("the archive's document: %v (files %v)", err, keysOf(files))
	}
	if doc.Profile.ID != j.ana || len(doc.Sessions) != 1 || len(doc.Sessions[0].Messages) != 120 || len(doc.Matches) != 1 {
		t.Errorf("document: profile %s, %d sessions, %d matches", doc.Profile.ID, len(doc.Sessions), len(doc.Matches))
	}
	if got := string(files["media/"+j.avatar[strings.LastIndex(j.avatar, "/")+1:]]); got != "PNG-of-ana" {
		t.Errorf("the archive's avatar = %q (files %v)", got, keysOf(files))
	}
	for _, leak := range []string{"SEALED", "lba_", "BEN-SESSION", "BEN-MESSAGE"} {
		if bytes.Contains(files["secondme-export.json"], []byte(leak)) {
			t.Errorf("archive holds %q", leak)
		}
	}

	for name, link := range map[string]string{
		"forged signature": strings.Replace(ex.URL, "sig=", "sig=x", 1),
		"another person":   strings.Replace(ex.URL, "user="+j.ana, "user="+j.ben, 1),
	} {
		if w := j.do("GET", link, ""); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, w.Code)
		}
	}
	j.later(account.LinkTTL + time.Second)
	if w := j.do("GET", ex.URL, ""); w.Code != http.StatusNotFound {
		t.Errorf("expired link: %d, want 404", w.Code)
	}
	fresh := j.export(t, j.ana, started.Job)
	if w := j.do("GET", fresh.URL, ""); fresh.Status != account.StatusDone || w.Code != http.StatusOK {
		t.Errorf("a fresh link after the first expired: %+v, %d", fresh, w.Code)
	}

	// A job that never completes is reported failed once ExportTimeout has passed.
	w = j.do("POST", "/api/user/export", j.ana)
	var lost account.Export
	_ = json.Unmarshal(w.Body.Bytes(), &lost)
	j.queue.take()
	j.later(account.ExportTimeout + time.Minute)
	if ex := j.export(t, j.ana, lost.Job); ex.Status != account.StatusFailed {
		t.Errorf("a lost job after the timeout: %+v, want failed", ex)
	}
	// The daily limit (3 here) and a queue that refuses the job.
	j.queue.failing.Store(true)
	if w := j.do("POST", "/api/user/export", j.ana); w.Code != http.StatusServiceUnavailable {
		t.Errorf("POST with the queue down: %d, want 503", w.Code)
	}
	j.queue.failing.Store(false)
	if w := j.do("POST", "/api/user/export", j.ana); w.Code != http.StatusTooManyRequests {
		t.Errorf("fourth export of the day: %d %s, want 429", w.Code, w.Body)
	} else if e := errorOf(t, w); e.Code != fault.CodeRateLimited {
		t.Errorf("fourth export of the day: %+v", e)
	}
	if w := j.do("GET", "/api/user/export/not-a-job", j.ana); w.Code != http.StatusBadRequest {
		t.Errorf("malformed job id: %d, want 400", w.Code)
	}
}

// TestEraseJob erases a person as the client does, on SQLite and on the DynamoDB test server: at once
// they are signed out and their profile and identities are gone; their chats, matches, avatar and
// archives go with the job, which dies part-way once and completes when the queue runs it again,
// leaving no trace in a dump of the store.
func TestEraseJob(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { eraseJob(t, newJobsEnv(t, newEnv(t))) })
	t.Run("dynalite", func(t *testing.T) { eraseJob(t, newJobsEnv(t, newEnvOn(t, dynamotest.New(t)))) })
}

func eraseJob(t *testing.T, j *jobsEnv) {
	ctx := context.Background()
	seedActivity(t, j.env)
	login := store.LoginSession{TokenHash: "hash-of-ana", UserID: j.ana, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := j.st.CreateLoginSession(ctx, login); err != nil {
		t.Fatal(err)
	}
	if w := j.do("POST", "/api/user/export", j.ana); w.Code != http.StatusAccepted {
		t.Fatalf("export: %d", w.Code)
	}
	j.run(t)

	j.queue.failing.Store(true)
	if w := j.do("DELETE", "/api/user", j.ana); w.Code != http.StatusServiceUnavailable {
		t.Errorf("erase with the queue down: %d, want 503", w.Code)
	}
	if _, err := j.st.GetUser(ctx, j.ana); err != nil {
		t.Fatalf("erase with the queue down touched the profile: %v", err)
	}
	j.queue.failing.Store(false)

	w := j.do("DELETE", "/api/user", j.ana)
	if w.Code != http.StatusNoContent || !strings.Contains(w.Header().Get("Set-Cookie"), "sm_session=;") {
		t.Fatalf("DELETE /api/user = %d %v", w.Code, w.Header())
	}
	if w := j.do("GET", "/api/user/info", j.ana); w.Code != http.StatusNotFound {
		t.Errorf("profile right after the erase: %d, want 404", w.Code)
	}
	if _, err := j.st.GetLoginSession(ctx, login.TokenHash); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("login session right after the erase: %v, want gone", err)
	}
	if _, err := j.st.GetIdentity(ctx, store.ProviderSecondMe, "sm-ana"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("identity right after the erase: %v, want gone", err)
	}

	j.media.crash.Store(true)
	if ran, failed := j.run(t); ran != 1 || failed != 1 {
		t.Fatalf("first run: %d ran, %d failed; want the job to die", ran, failed)
	}
	if ran, failed := j.run(t); ran != 1 || failed != 0 {
		t.Fatalf("retry: %d ran, %d failed; want it done", ran, failed)
	}
	var dump bytes.Buffer
	if err := j.st.Dump(ctx, &dump); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(dump.String(), "\n") {
		if strings.Contains(line, "BEN-SESSION") {
			continue // Ben's own conversation with Ana's twin is his record, not hers
		}
		if strings.Contains(line, j.ana) || strings.Contains(line, "sm-ana") || strings.Contains(line, "PRIVATE") {
			t.Errorf("left after the erase job: %s", line)
		}
	}
	if !strings.Contains(dump.String(), j.ben) {
		t.Error("Ben was erased too")
	}
	for _, folder := range []string{"avatars/" + j.ana + "/", "exports/" + j.ana + "/"} {
		if keys, err := j.objs.List(ctx, folder); err != nil || len(keys) != 0 {
			t.Errorf("left under %s: %v, %v", folder, keys, err)
		}
	}
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("archive: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
