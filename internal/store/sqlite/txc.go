package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// txc is a write transaction whose statements are prepared once per process on the
// writer connection and reused by every transaction: SQLite's parser would otherwise run
// for every row (it was a quarter of the write path's time).
type txc struct {
	ctx   context.Context
	tx    *sql.Tx
	db    *DB
	stmts map[string]*sql.Stmt
}

// begin starts a write transaction. The caller holds db.wmu.
func (db *DB) begin(ctx context.Context) (*txc, error) {
	tx, err := db.wc.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: begin: %w", err)
	}
	return &txc{ctx: ctx, tx: tx, db: db, stmts: map[string]*sql.Stmt{}}, nil
}

func (t *txc) stmt(q string) (*sql.Stmt, error) {
	if s, ok := t.stmts[q]; ok {
		return s, nil
	}
	base, ok := t.db.prepared[q]
	if !ok {
		var err error
		if base, err = t.db.wc.PrepareContext(t.ctx, q); err != nil {
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
		t.db.prepared[q] = base
	}
	s := t.tx.StmtContext(t.ctx, base)
	t.stmts[q] = s
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

func (t *txc) rollback() { t.tx.Rollback() }

func (t *txc) commit() error {
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
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
