// Package sqlitestore implements store.Store on an SQLite file with modernc.org/sqlite (pure Go, no cgo).
//
// It is the store of the local stack. The database runs in WAL mode: one connection writes, a small
// pool of connections reads, so readers never wait for the writer, and the write-ahead log stays bounded
// (see checkpointLoop). Times are stored as UTC milliseconds; every listing is an indexed range query.
package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/secondme/twin/pkg/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite implementation of store.Store. It is safe for concurrent use.
type Store struct {
	w *pool // one connection: every write goes through it, in order
	r *pool // several connections for reads
	// ckpt is the connection that copies the write-ahead log into the database file in the background,
	// so that requests seldom wait for that (and its fsync); stop ends it.
	ckpt *sql.DB
	stop func()
}

// Bounds of the write-ahead log (docs/storage-sqlite.md).
const (
	// checkpointEvery is how often the background checkpoint looks at the log; a look that finds no
	// commit since the previous one counts as idle.
	checkpointEvery = 250 * time.Millisecond
	// restartFrames is how many frames the log may hold while writes go on before the background
	// checkpoint empties it on the writer connection (8 MB of 4 KB pages).
	restartFrames = 2048
	// autoCheckpointPages is the writer's wal_autocheckpoint, a backstop for when the background
	// checkpoint falls behind: past this many pages in the log, a commit copies the log itself.
	autoCheckpointPages = 4096
	// walSizeLimit is journal_size_limit: when the log starts again, a larger file is cut to this size.
	walSizeLimit = 16 << 20
	// busyTimeout is how long a connection waits for a lock held by another.
	busyTimeout = 10 * time.Second
	// truncateWait is how long emptying the log waits for readers of older snapshots before it gives up
	// until the next look; the writer is held meanwhile.
	truncateWait = 100 * time.Millisecond
)

var _ store.Store = (*Store)(nil)

// Open opens (creating it and its parent directory if needed) the database file at path and brings
// its schema up to date. The file is this process's alone while it is open (the unix-excl VFS: its
// connections lock the WAL index in memory instead of with fcntl on the -shm file); another process
// that opens it meanwhile gets "database is locked".
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("open sqlite store: invalid path %q", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open sqlite store: create directory: %w", err)
	}
	pragmas := fmt.Sprintf("?vfs=unix-excl&_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)", busyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", path+pragmas+"&_pragma=journal_mode(WAL)"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)", autoCheckpointPages, walSizeLimit)+
		"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	// The file is this process's alone (unix-excl), so a live claim on a chat turn was left by a
	// process that ended without finishing it (a crash): release it, so that a retry completes the turn
	// now rather than after the lease.
	if _, err := w.ExecContext(ctx, `UPDATE chat_messages SET claim = '', claimed_until = 0 WHERE claimed_until > ?`, ms(time.Now())); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite store %s: release the turns of an ended process: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	ckpt, err := sql.Open("sqlite", path+pragmas)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	ckpt.SetMaxOpenConns(1)
	s := &Store{w: newPool(w), r: newPool(r), ckpt: ckpt}
	s.stop = s.checkpointLoop()
	return s, nil
}

// checkpointLoop keeps the write-ahead log small until the returned stop is called. Every
// checkpointEvery it reads PRAGMA data_version, which changes when another connection committed:
//   - after commits (busy), a passive checkpoint on its own connection copies what it can of the log
//     into the database without blocking readers or the writer. It cannot empty the log: writes add
//     frames meanwhile, and a reader of an older snapshot keeps the log from starting again. So when
//     the log holds more than restartFrames, the log is started again on the writer connection
//     (emptyLog with RESTART: the file keeps its size, at most journal_size_limit);
//   - after a quiet look (idle) following commits, the log is emptied down to zero bytes (TRUNCATE).
func (s *Store) checkpointLoop() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(checkpointEvery)
		defer tick.Stop()
		var version int64
		dirty := true // a log may be left from before Open
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if err := s.checkpoint(ctx, &version, &dirty); err != nil && ctx.Err() == nil {
				slog.WarnContext(ctx, "sqlite checkpoint", "err", err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// checkpoint is one look of checkpointLoop; version is the data_version of the previous look and
// dirty whether the log may hold frames.
func (s *Store) checkpoint(ctx context.Context, version *int64, dirty *bool) error {
	var v int64
	if err := s.ckpt.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return err
	}
	busy := v != *version
	*version = v
	if busy {
		*dirty = true
		var blocked, frames, copied int
		if err := s.ckpt.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&blocked, &frames, &copied); err != nil {
			return err
		}
		if frames <= restartFrames {
			return nil
		}
	}
	if !*dirty {
		return nil
	}
	if busy { // start the log again but keep its file: frames written over old ones cost less than new ones
		_, err := s.emptyLog(ctx, "RESTART")
		return err
	}
	emptied, err := s.emptyLog(ctx, "TRUNCATE")
	*dirty = !emptied
	return err
}

// emptyLog runs wal_checkpoint(mode) on the writer connection, where no write can add frames meanwhile,
// with a busy timeout of truncateWait: it copies the rest of the log and waits for the readers of older
// snapshots (new readers then read the database file and do not hold the log), so that the next write
// starts the log again from its beginning. TRUNCATE also cuts the file to zero bytes; RESTART keeps it,
// so that the next frames overwrite blocks the file system has already allocated (on ext4 a frame that
// extends the file costs half again as much CPU as one that overwrites). It reports whether the log
// was emptied (false when readers kept it in use).
func (s *Store) emptyLog(ctx context.Context, mode string) (bool, error) {
	conn, err := s.w.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, truncateWait.Milliseconds())); err != nil {
		return false, err
	}
	var busy, logFrames, copied int
	err = conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &logFrames, &copied)
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, busyTimeout.Milliseconds())); rerr != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn }) // never reuse it with the short timeout
		return false, errors.Join(err, rerr)
	}
	return err == nil && busy == 0, err
}

// Close closes the database. SQLite checkpoints the log as the last connection closes.
func (s *Store) Close() error {
	s.stop()
	return errors.Join(s.ckpt.Close(), s.r.close(), s.w.close())
}

// migrate applies, in order and each in its own transaction, the embedded migrations newer than the
// version recorded in schema_version.
func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_version: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its number", base)
		}
		if v <= current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return fmt.Errorf("read migration %s: %w", base, err)
		}
		if err := inTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied_at) VALUES (?, ?)`,
				v, time.Now().UnixMilli())
			return err
		}); err != nil {
			return fmt.Errorf("apply migration %s: %w", base, err)
		}
	}
	return nil
}

// Dump writes every row of every table to w, one JSON object a line: {"table": name, "row": {column: value}}.
// Tests use it to prove that an erased person leaves no trace.
func (s *Store) Dump(ctx context.Context, w io.Writer) error {
	rows, err := s.r.db.QueryContext(ctx,
		`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return fmt.Errorf("dump: list tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("dump: list tables: %w", err)
		}
		tables = append(tables, name)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dump: list tables: %w", err)
	}
	enc := json.NewEncoder(w)
	for _, table := range tables {
		if err := dumpTable(ctx, s.r.db, table, enc); err != nil {
			return fmt.Errorf("dump %s: %w", table, err)
		}
	}
	return nil
}

func dumpTable(ctx context.Context, db *sql.DB, table string, enc *json.Encoder) error {
	rows, err := db.QueryContext(ctx, `SELECT * FROM "`+table+`"`)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		row := make(map[string]any, len(cols))
		for i, c := range cols {
			row[c] = vals[i]
		}
		if err := enc.Encode(struct {
			Table string         `json:"table"`
			Row   map[string]any `json:"row"`
		}{table, row}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// pool is a database handle with its prepared statements, prepared once on first use.
//
// mu guards only the map: nothing waits while holding it (for a connection, for a statement's running
// calls). A transaction looks statements up while it holds a connection, and the writer has just
// one, so a wait under mu for a connection, or for a call that waits for one, would deadlock every
// writer.
type pool struct {
	db    *sql.DB
	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newPool(db *sql.DB) *pool { return &pool{db: db, stmts: map[string]*sql.Stmt{}} }

// cached returns the prepared statement of query, if it was prepared before.
func (p *pool) cached(query string) (*sql.Stmt, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	st, ok := p.stmts[query]
	return st, ok
}

// stmt returns the prepared statement of query, preparing it on first use. Preparing needs a free
// connection, so it must not be called inside a transaction of the same pool, and it holds no lock
// meanwhile (transactions look up statements while they hold connections).
func (p *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.cached(query); ok {
		return st, nil
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	p.mu.Lock()
	old, ok := p.stmts[query]
	if !ok {
		p.stmts[query] = st
	}
	p.mu.Unlock()
	if ok { // prepared meanwhile by another call
		st.Close()
		return old, nil
	}
	return st, nil
}

func (p *pool) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (p *pool) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs a query for one row; a prepare failure surfaces from Scan.
func (p *pool) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return p.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// close closes the handle, then the statements. Closing the handle first ends the calls that wait
// for a connection (with an error); a statement's Close then waits only for calls running on one.
func (p *pool) close() error {
	err := p.db.Close()
	p.mu.Lock()
	stmts := p.stmts
	p.stmts = map[string]*sql.Stmt{}
	p.mu.Unlock()
	for _, st := range stmts {
		st.Close()
	}
	return err
}

// tx runs fn in a transaction with the pool's prepared statements. Statements not prepared yet are
// prepared on the transaction's own connection, then for the pool once the connection is free again.
func (p *pool) tx(ctx context.Context, fn func(t *txn) error) error {
	t := &txn{ctx: ctx, p: p}
	err := inTx(ctx, p.db, func(tx *sql.Tx) error {
		t.tx = tx
		return fn(t)
	})
	for _, q := range t.missing {
		// Only a cache: a statement that fails to prepare fails again, with its error, when it runs.
		p.stmt(ctx, q)
	}
	return err
}

// inTx runs fn in a transaction of db and commits it if fn returns nil. On every other way out (an
// error, a panic) the transaction is rolled back, so that its connection, the writer's only one,
// goes back to the pool.
func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() // after a Commit: ErrTxDone, nothing done
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// txn is a transaction that uses its pool's prepared statements.
type txn struct {
	ctx     context.Context
	tx      *sql.Tx
	p       *pool
	missing []string // queries the pool had not prepared yet
}

// stmt returns query prepared for the transaction.
func (t *txn) stmt(query string) (*sql.Stmt, error) {
	if st, ok := t.p.cached(query); ok {
		return t.tx.StmtContext(t.ctx, st), nil
	}
	t.missing = append(t.missing, query)
	return t.tx.PrepareContext(t.ctx, query)
}

func (t *txn) exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(t.ctx, args...)
}

func (t *txn) queryRow(query string, args ...any) *sql.Row {
	st, err := t.stmt(query)
	if err != nil {
		return t.tx.QueryRowContext(t.ctx, query, args...)
	}
	return st.QueryRowContext(t.ctx, args...)
}

func (t *txn) query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(t.ctx, args...)
}

// ms is how a time is stored: milliseconds since the Unix epoch (the zero time round-trips).
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS is the stored time back, in UTC.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// affected reports whether a write changed a row.
func affected(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	return n > 0, err
}

// clampLimit keeps a page size within 1..1000.
func clampLimit(limit int) int { return min(max(limit, 1), 1000) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
