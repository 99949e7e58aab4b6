package sqlite

import (
	"context"
	"database/sql"
	"fmt"
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
func (db *DB) begin(ctx context.Context) (*txc, error) {
	if _, err := db.wc.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	return &txc{ctx: ctx, db: db}, nil
}

// stmt returns the writer's prepared statement for q. The caller holds db.wmu.
func (t *txc) stmt(q string) (*sql.Stmt, error) {
	if s, ok := t.db.prepared[q]; ok {
		return s, nil
	}
	s, err := t.db.wc.PrepareContext(t.ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	t.db.prepared[q] = s
	return s, nil
}

func (t *txc) exec(q string, args ...any) (sql.Result, error) {
	s, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(t.ctx, args...)
}

// scan runs a one-row query and scans it; sql.ErrNoRows when there is none.
func (t *txc) scan(q string, args []any, dest ...any) error {
	s, err := t.stmt(q)
	if err != nil {
		return err
	}
	return s.QueryRowContext(t.ctx, args...).Scan(dest...)
}

func (t *txc) query(q string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(t.ctx, args...)
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
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	t.done = true
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
