// Package sqlite is mailtrail's embedded store: one SQLite file in WAL mode, migrations
// embedded. It persists events and the state the rules derive from them in one
// transaction per batch, and answers the readers of reports and event lists from that
// derived state and from indexes.
//
// There is one writer connection (SQLite has one writer anyway) and a pool of readers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailtrail/mailtrail/internal/storekit"
	_ "modernc.org/sqlite" // the pure-Go SQLite driver, registered as "sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure the store.
type Options struct {
	// Synchronous is the SQLite synchronous level: "FULL" (default: every commit is on disk
	// before it returns) or "NORMAL" (WAL: durable against a process crash, not power loss).
	Synchronous string
	CacheMiB    int // page cache of the writer; default 256 (each reader keeps up to 64)
	Readers     int // reader connections; default 4
	// Now is the store's clock (default time.Now): what it stamps and what a change of
	// retention reckons from. Tests set it.
	Now func() time.Time
}

// DB is the embedded store.
type DB struct {
	path string
	sync string    // Options.Synchronous, the level of every write but a projection's
	w    *sql.DB   // the one writer
	wc   *sql.Conn // its connection, held for the store's life: every write goes through it
	r    *sql.DB   // readers
	ck   *sql.DB   // the checkpointer's connection (checkpoint.go)

	mu        sync.Mutex // guards cache.orgs and cache.orgPublic
	wmu       sync.Mutex // serializes write transactions and guards the rest of cache
	cache     *writeCache
	prepared  map[string]*sql.Stmt // writer statements, guarded by wmu
	rprepared sync.Map             // reader statements by query
	// Reader statements a View prepares on the pool in the background (see snap.stmt): one
	// at a time per query, cancelled and waited for by Close.
	bgPreparing    sync.Map // query → struct{}
	bgMu           sync.Mutex
	bgClosed       bool
	bgWG           sync.WaitGroup
	bgCtx          context.Context
	bgCancel       context.CancelFunc
	urls           sync.Map // link_urls id → url (immutable), bounded by urlCount
	urlCount       atomic.Int64
	linkSets       sync.Map // message ref → linkSet, bounded by linkSetCount
	linkSetCount   atomic.Int64
	trackingHosts  sync.Map // Host → organization public id ("" none), see TrackingHostOrg
	trackingHostsN atomic.Int64
	commits        int64         // write transactions committed (guarded by wmu)
	walRestarts    atomic.Int64  // forced WAL restarts (see boundWAL)
	ckWake         chan struct{} // asks the checkpointer for a checkpoint (checkpoint.go)
	walPages       atomic.Int64  // pages the writer appended to the WAL since the last ask
	checkpoints    atomic.Int64  // checkpoints the checkpointer ran
	now            func() time.Time
	tail           *tailIndex // per customer, the events past the customer index's watermark

	healthMu      sync.Mutex // guards writeFailure and onUnavailable (see health.go)
	writeFailure  error      // the last write's disk failure, nil once a write commits
	onUnavailable func()
}

// readerMmap is how much of the database file the reader connections map (SQLite's
// build caps it near 2 GiB; the rest of a larger file is read as without it).
const readerMmap = 2 << 30

// Open opens (creating if needed) the database file at path and runs pending migrations.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	if opt.Synchronous == "" {
		opt.Synchronous = "FULL"
	}
	if opt.CacheMiB <= 0 {
		opt.CacheMiB = 256
	}
	if opt.Readers <= 0 {
		opt.Readers = 4
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	pragmas := []string{
		"journal_mode(WAL)",
		"synchronous(" + opt.Synchronous + ")",
		"busy_timeout(10000)",
		"foreign_keys(0)",
		"temp_store(MEMORY)",
	}
	dsn := func(extra string) string {
		v := url.Values{}
		for _, p := range pragmas {
			v.Add("_pragma", p)
		}
		return "file:" + abs + "?" + v.Encode() + extra
	}
	db := &DB{path: abs, sync: strings.ToUpper(opt.Synchronous), now: opt.Now, cache: newWriteCache(), prepared: map[string]*sql.Stmt{}, tail: newTailIndex()}
	if db.now == nil {
		db.now = time.Now
	}
	db.bgCtx, db.bgCancel = context.WithCancel(context.Background())
	// The writer's page cache holds the pages of the store's random-order indexes
	// (customers, idempotency keys) between its transactions: with a larger one the
	// projector reads fewer of them back (bench/backlog at 1.5 M events stored, with
	// transactions of 50,000 events: 12,600 events/s with 64 MiB, 20,200 with 512).
	// Readers map the file and keep a smaller cache each.
	if db.w, err = sql.Open("sqlite", dsn(fmt.Sprintf("&_txlock=immediate&_pragma=cache_size(-%d)", opt.CacheMiB*1024))); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	if err := db.migrate(ctx, ""); err != nil {
		db.w.Close()
		return nil, err
	}
	if err := db.loadTail(ctx); err != nil {
		db.w.Close()
		return nil, err
	}
	if db.wc, err = db.w.Conn(ctx); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: writer connection: %w", err)
	}
	if err := db.startCheckpointer(ctx, dsn("")); err != nil {
		db.bgCancel()
		db.bgWG.Wait()
		if db.ck != nil {
			db.ck.Close()
		}
		db.wc.Close()
		db.w.Close()
		return nil, err
	}
	// Readers map the file (up to readerMmap bytes): SQLite drops a connection's page
	// cache whenever another connection committed, so under a busy writer every read
	// would fetch its B-tree pages again with a read(2) and a fresh page each; mapped,
	// they are found in the OS page cache in place. Pages still in the WAL are read
	// from it as before. Writes do not use the map.
	if db.r, err = sql.Open("sqlite", dsn(fmt.Sprintf("&_pragma=mmap_size(%d)&_pragma=cache_size(-%d)", readerMmap, min(opt.CacheMiB, 64)*1024))); err != nil {
		db.bgCancel()
		db.bgWG.Wait()
		db.ck.Close()
		db.wc.Close()
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	db.r.SetMaxOpenConns(opt.Readers)
	db.r.SetMaxIdleConns(opt.Readers)
	return db, nil
}

// Close closes both pools.
func (db *DB) Close() error {
	db.bgMu.Lock()
	db.bgClosed = true
	db.bgMu.Unlock()
	db.bgCancel()
	db.bgWG.Wait() // no background prepare outlives the store
	db.wmu.Lock()
	for _, s := range db.prepared {
		s.Close()
	}
	db.prepared = map[string]*sql.Stmt{}
	db.wc.Close()
	db.wmu.Unlock()
	db.rprepared.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	db.ck.Close() // the checkpointer stopped with bgWG
	err1 := db.r.Close()
	err2 := db.w.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// Path returns the database file.
func (db *DB) Path() string { return db.path }

// Ping checks the store answers and can write (for /readyz): while writes fail for a
// full or failing disk it tries a write of its own (so readiness comes back once space is
// free, even when no client writes) and returns Writable's error if that fails too.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return err
	}
	if db.Writable() == nil {
		return nil
	}
	db.probeWrite(ctx)
	return db.Writable()
}

// migrate applies the pending migrations in order, up to and including the one whose
// name starts with until ("" = all of them; tests build an older schema with it).
func (db *DB) migrate(ctx context.Context, until string) error {
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	// A store written by a newer mailtrail is not opened: this build would run on a schema
	// it does not know. Going back a version is restoring the backup taken before the
	// upgrade (docs/operations.md).
	applied, err := appliedMigrations(ctx, db.w)
	if err != nil {
		return err
	}
	if newer := UnknownMigrations(applied); len(newer) > 0 {
		return fmt.Errorf("sqlite: %s was upgraded by a newer mailtrail (migrations %s unknown to this version): run that version, or restore the backup taken before the upgrade",
			db.path, strings.Join(newer, ", "))
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		var n int
		if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
		if n > 0 {
			continue
		}
		if until != "" && path.Base(name) > until && !strings.HasPrefix(path.Base(name), until) {
			break
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
		for _, stmt := range strings.Split(string(body), ";\n") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				tx.Rollback()
				return fmt.Errorf("sqlite: migration %s: %w", name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, time.Now().UnixMilli()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("sqlite: migration %s: %w", name, err)
		}
	}
	return nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time { return storekit.FromMS(v) }
