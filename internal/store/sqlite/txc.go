package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// txc is a write transaction on the held writer connection. Its statements are prepared
// once per process on that connection and reused by every transaction: SQLite's parser
// would otherwise run for every row. The transaction is driven with BEGIN IMMEDIATE /
// COMMIT statements on the connection itself, because database/sql re-prepares a
// connection's statements inside every sql.Tx.
type txc struct {
	ctx  context.Context
	db   *DB
	done bool
}

// begin starts a write transaction. The caller holds db.wmu.
//
// A cancelled ctx stops the transaction from starting, but once it has begun its
// statements run to the end: interrupting a statement of the one held writer connection
// midway could leave that connection unusable for every later write (a request whose
// client went away, or a background job stopped at shutdown, must not take ingest down).
// Write transactions are bounded by their batch sizes.
func (db *DB) begin(ctx context.Context) (*txc, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	ctx = context.WithoutCancel(ctx)
	if _, err := db.wc.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", db.werr(err))
	}
	return &txc{ctx: ctx, db: db}, nil
}

// writeTx takes the writer lock and begins a write transaction; done rolls back what was
// not committed and releases the lock (defer it). Work after the commit that must not
// interleave with another writer goes between the commit and done.
func (db *DB) writeTx(ctx context.Context) (tx *txc, done func(), err error) {
	db.wmu.Lock()
	tx, err = db.begin(ctx)
	if err != nil {
		db.wmu.Unlock()
		return nil, nil, err
	}
	return tx, func() {
		tx.rollback()
		db.wmu.Unlock()
	}, nil
}

// projectionTx is writeTx for a projection's write (WriteAt): its commit does not wait
// for the disk. The event log holds what it writes, and its position commits with it:
// after a power loss the projector replays from the position the store kept. (In WAL
// mode the next FULL commit syncs the log file with every frame before it, so the store
// never holds a later write without an earlier one.) done restores the store's level.
func (db *DB) projectionTx(ctx context.Context) (tx *txc, done func(), err error) {
	db.wmu.Lock()
	relax := db.sync == "FULL" || db.sync == "EXTRA"
	if relax {
		if _, err := db.wc.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = NORMAL"); err != nil {
			db.wmu.Unlock()
			return nil, nil, fmt.Errorf("sqlite: synchronous: %w", db.werr(err))
		}
	}
	restore := func() {
		if relax {
			// An error leaves the connection at NORMAL: then the next writes would not
			// wait for the disk, so the writer is closed instead (the store answers errors
			// until it is reopened) rather than answering durable without being so.
			if _, err := db.wc.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous = "+db.sync); err != nil {
				db.wc.Close()
			}
		}
	}
	tx, err = db.begin(ctx)
	if err != nil {
		restore()
		db.wmu.Unlock()
		return nil, nil, err
	}
	return tx, func() {
		tx.rollback()
		restore()
		db.wmu.Unlock()
	}, nil
}

// stmt returns the writer's prepared statement for q. The caller holds db.wmu.
func (t *txc) stmt(q string) (*sql.Stmt, error) {
	if s, ok := t.db.prepared[q]; ok {
		return s, nil
	}
	s, err := t.db.wc.PrepareContext(t.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", t.db.werr(err))
	}
	t.db.prepared[q] = s
	return s, nil
}

func (t *txc) exec(q string, args ...any) (sql.Result, error) {
	s, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	res, err := s.ExecContext(t.ctx, args...)
	return res, t.db.werr(err)
}

// scan runs a one-row query and scans it; sql.ErrNoRows when there is none.
func (t *txc) scan(q string, args []any, dest ...any) error {
	s, err := t.stmt(q)
	if err != nil {
		return err
	}
	return t.db.werr(s.QueryRowContext(t.ctx, args...).Scan(dest...))
}

func (t *txc) query(q string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(t.ctx, args...)
	return rows, t.db.werr(err)
}

// rollback ends the transaction unless it was committed. Its context is not the
// caller's: a cancelled request must still leave the connection outside a transaction.
func (t *txc) rollback() {
	if !t.done {
		t.done = true
		t.db.wc.ExecContext(context.WithoutCancel(t.ctx), "ROLLBACK")
	}
}

func (t *txc) commit() error {
	if _, err := t.db.wc.ExecContext(context.WithoutCancel(t.ctx), "COMMIT"); err != nil {
		t.rollback()
		return fmt.Errorf("sqlite: commit: %w", t.db.werr(err))
	}
	t.done = true
	t.db.wrote()
	return nil
}

// rstmt returns the reader pool's prepared statement for q, preparing it once.
func (db *DB) rstmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := db.rprepared.Load(q); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	if prev, loaded := db.rprepared.LoadOrStore(q, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// rrow runs a one-row read query and scans it; sql.ErrNoRows when there is none.
func (db *DB) rrow(ctx context.Context, q string, args []any, dest ...any) error {
	s, err := db.rstmt(ctx, q)
	if err != nil {
		return err
	}
	return s.QueryRowContext(ctx, args...).Scan(dest...)
}

// rquery runs a read query through a prepared statement.
func (db *DB) rquery(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := db.rstmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// walLimit is the WAL size past which the writer forces a checkpoint that waits for
// readers. SQLite's automatic checkpoints are PASSIVE: with readers always active (webhook
// attribution, reports) they never complete, the WAL is never restarted and grows without
// bound, and every commit and read gets slower.
const walLimit = 64 << 20

// boundWAL checks the WAL's size every 32 commits and, past walLimit, runs a RESTART
// checkpoint on the writer connection. The caller holds db.wmu, outside a transaction.
func (db *DB) boundWAL(ctx context.Context) {
	db.commits++
	if db.commits%32 != 0 {
		return
	}
	fi, err := os.Stat(db.path + "-wal")
	if err != nil || fi.Size() < walLimit {
		return
	}
	var busy, frames, done int
	if err := db.wc.QueryRowContext(context.WithoutCancel(ctx), "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &frames, &done); err == nil && busy == 0 {
		db.walRestarts.Add(1)
	}
}
