// Package postgres is the cluster mode's projection store in PostgreSQL (issue 17): the
// state, counters and log positions a projector commits, in one transaction per write.
// It mirrors the SQLite store's write path (internal/store/sqlite, sink.go): resolve the
// batch's messages, derive.Prepare, raw events deduplicated on their dedupe and
// idempotency keys, load the state the batch touches by key, run the shared planner
// (internal/derive) and apply its plan, with batched statements (unnest arrays, COPY,
// ON CONFLICT … DO UPDATE) rather than one statement per row. It answers the Projection
// part of the store contract (internal/store/storetest): organizations and messages as
// far as the write path needs them, Write and WriteAt/Position, the campaign reads of a
// query.Reader view and the suppressions the rules decide; and the Operational part, the
// state a cluster's API nodes share: attribution lookups, messages and click targets,
// API keys, connections and suppressions written by hand (which take the writers' lock).
// docs/cluster.md says what it does not cover yet.
package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mailtrail/mailtrail/internal/storekit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Options configure a store. Zero values take the defaults.
type Options struct {
	// Schema is the PostgreSQL schema of the store's tables, created if missing; "" uses
	// the connection's own search_path (public by default). Tests give each store a
	// schema of its own.
	Schema string
	// MaxConns bounds the pool; default pgxpool's (the larger of 4 and the CPUs).
	MaxConns int32
	// Now is the clock of the times the store records itself (creation times); default
	// time.Now.
	Now func() time.Time
}

// DB is the PostgreSQL store. Its methods are safe for concurrent use, also by several
// processes on one database: writes of the projection serialize on a transaction-level
// advisory lock of the schema (see writeTx), or of their stream when they name one
// (WriteAt, streamTx).
type DB struct {
	pool   *pgxpool.Pool
	schema string
	now    func() time.Time
	// writeKey is the advisory lock every write transaction of the projection holds.
	writeKey int64
	// channel is the channel a projection write notifies at its commit (Listen).
	channel string
	// streamTag is the first key of the shared advisory locks that mark the transactions
	// inserting events (see markInsert, StreamEnd).
	streamTag int32

	cache lookupCache // the tracking endpoints' lookups (cache.go)

	mu        sync.Mutex
	orgs      map[string]int64 // public id → row id: organizations are never deleted
	orgPublic map[int64]string
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Open connects to the PostgreSQL server at dsn (a postgres:// URL or key=value pairs,
// as pgx takes them) and migrates the store's schema. Migrations run under a session
// advisory lock of the schema, so nodes started together migrate it once: the others
// wait, then find every migration applied. It returns an error when the DSN does not
// parse, the server does not answer, or a migration fails (nothing of that migration is
// kept).
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("postgres: the DSN does not parse") // never quote it: it may hold a password
	}
	if opts.Schema != "" {
		if !schemaName.MatchString(opts.Schema) {
			return nil, fmt.Errorf("postgres: schema %q: lower-case letters, digits and _ only", opts.Schema)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db := &DB{pool: pool, schema: opts.Schema, now: opts.Now, orgs: map[string]int64{}, orgPublic: map[int64]string{}}
	if db.now == nil {
		db.now = time.Now
	}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Close closes the pool's connections, waiting for those in use to be released.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Ping checks that the server answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// lockKey is the advisory lock key of what (migrate, write) in the schema.
func lockKey(what, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("mailtrail\x00" + what + "\x00" + schema))
	return int64(h.Sum64())
}

// migrate applies the embedded migrations not applied yet, in order, each in its own
// transaction with its row in schema_migrations, holding the schema's migration lock.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Release()
	schema := db.schema
	if schema == "" {
		if err := conn.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
			return fmt.Errorf("postgres: current schema: %w", err)
		}
	}
	db.writeKey = lockKey("write", schema)
	db.streamTag = int32(uint64(lockKey("stream", schema)) & 0x7fffffff)
	db.channel = fmt.Sprintf("mailtrail_%016x", uint64(lockKey("notify", schema)))
	key := lockKey("migrate", schema)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer func() {
		// A session lock outlives a failed statement; a connection whose unlock fails is
		// closed, which releases it.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if db.schema != "" {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{db.schema}.Sanitize()); err != nil {
			return fmt.Errorf("postgres: create schema: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrations table: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	for _, v := range vs {
		applied[int(v)] = true
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, path := range names {
		name := strings.TrimPrefix(path, "migrations/")
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("postgres: migration %s: no version number", name)
		}
		if applied[v] {
			continue
		}
		body, err := migrations.ReadFile(path)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, v, name, db.now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", name, err)
		}
	}
	return nil
}

// Migrations returns the versions of the migrations applied to the store's schema.
func (db *DB) Migrations(ctx context.Context) ([]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	out := make([]int, len(vs))
	for i, v := range vs {
		out[i] = int(v)
	}
	return out, nil
}

// writeTx runs fn in a write transaction of the projection that holds the schema's write
// lock (pg_advisory_xact_lock, released by COMMIT or ROLLBACK), so writers serialize as
// the SQLite store's single writer does: the planner's loads and the plan's deltas are
// then of one state, whatever the number of writers. It commits when fn returns nil.
func (db *DB) writeTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, db.writeKey); err != nil {
			return fmt.Errorf("postgres: write lock: %w", err)
		}
		return fn(tx)
	})
}

// streamTx runs fn in a write transaction of the projection for one stream (one
// partition of a log, as WriteAt names it): it holds the schema's write lock shared and
// the stream's own lock exclusive, so batches of different streams run at once, batches
// of one stream one at a time, and every writer of writeTx (erasure, manual suppressions,
// subscriptions) alone. What two streams' batches share they lock row by row (the
// addresses, lockAddresses) or only add to (counters, customers' latest activity).
func (db *DB) streamTx(ctx context.Context, stream string, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock_shared($1), pg_advisory_xact_lock($2)`, db.writeKey, lockKey("stream "+stream, db.schema)); err != nil {
			return fmt.Errorf("postgres: write lock: %w", err)
		}
		return fn(tx)
	})
}

// conflicted reports the errors of a transaction that lost a race with another stream's
// (a deadlock PostgreSQL broke, or a key both inserted): the same batch in a new
// transaction succeeds or sees the other's rows.
func conflicted(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001" || pe.Code == "23505")
}

func randomID(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func hashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// parseRef decodes a public message id (16 base64url characters) to its 12 bytes.
func parseRef(s string) ([12]byte, bool) {
	var r [12]byte
	if len(s) != 16 {
		return r, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 12 {
		return r, false
	}
	copy(r[:], b)
	return r, true
}

func refString(r []byte) string { return storekit.RefString(r) }

func fromMS(v int64) time.Time { return storekit.FromMS(v) }

// isUniqueViolation reports a unique constraint's refusal.
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Hold waits until this process holds the session lock of name in the schema (another
// process holding it: until that one releases it or its connection ends, as when it
// dies), on a connection of its own, and returns the function that releases it. A worker
// holds its partitions this way, one owner each at a time; should the connection be lost
// meanwhile, the lock is too, and the position each write compares and sets (WriteAt)
// keeps a second owner from applying anything twice. It returns ctx's error when ctx
// ends first.
func (db *DB) Hold(ctx context.Context, name string) (release func(), err error) {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey("hold "+name, db.schema)); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("postgres: hold %s: %w", name, err)
	}
	return closer(conn), nil
}
