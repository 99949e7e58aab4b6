package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/query"
)

var _ query.Reader = (*DB)(nil)

// View runs fn in one read transaction on a reader connection (a deferred BEGIN: the
// snapshot is taken by its first statement), so every read of the snapshot sees the same
// commits. The transaction always ends when fn returns (rolled back: it wrote nothing),
// and fn only reads: a read transaction left open would keep SQLite from checkpointing
// the WAL past its snapshot.
//
// Inside fn nothing takes a second connection from the reader pool: a statement not yet
// prepared on the pool is prepared on the transaction's own connection for this use (and
// on the pool in the background, for the next), so views that hold every reader
// connection at once cannot wait on each other.
func (db *DB) View(ctx context.Context, fn func(query.Snapshot) error) error {
	tx, err := db.r.BeginTx(ctx, nil) // BEGIN (deferred: the readers' DSN sets no _txlock)
	if err != nil {
		return fmt.Errorf("sqlite: view: %w", err)
	}
	defer tx.Rollback()
	err = fn(&snap{db: db, tx: tx})
	if errors.Is(err, sql.ErrTxDone) && ctx.Err() != nil {
		// database/sql rolled the transaction back when ctx ended: say why.
		return fmt.Errorf("sqlite: view: %w", ctx.Err())
	}
	return err
}

// snap is the snapshot of one View: its transaction and the campaigns it has looked up
// (a campaign is read once per answer, whatever the number of parts that need it).
type snap struct {
	db    *DB
	tx    *sql.Tx
	camps map[campKey]campRow
	stmts int // statements run, for tests
}

var _ query.Snapshot = (*snap)(nil)

type campKey struct{ org, name string }

// campRow is a campaign as a snapshot reads it.
type campRow struct {
	id             int64
	title, subject string
}

// stmt returns the reader pool's statement for q bound to the transaction, or, when the
// pool has not prepared q yet, q prepared on the transaction's connection.
func (s *snap) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.stmts++
	if st, ok := s.db.rprepared.Load(q); ok {
		return s.tx.StmtContext(ctx, st.(*sql.Stmt)), nil
	}
	// Preparing on the pool would wait for a free connection, which views holding every
	// connection would never give back.
	s.db.prepareInBackground(q)
	st, err := s.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	return st, nil
}

// row runs a one-row query of the snapshot and scans it; sql.ErrNoRows when there is none.
func (s *snap) row(ctx context.Context, q string, args []any, dest ...any) error {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return err
	}
	return st.QueryRowContext(ctx, args...).Scan(dest...)
}

// query runs a query of the snapshot.
func (s *snap) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// limitSQL is a LIMIT written into a statement's text. SQLite re-prepares a statement whose
// LIMIT is a bound parameter every time it is bound (the planner reads the value), so the
// report's statements, whose limits are constants, carry them as text instead: a few
// statements per limit the callers use, each prepared once.
func limitSQL(n int) string { return strconv.Itoa(n) } // negative: no limit, as SQLite reads LIMIT -1

// org maps a public organization id to its row id: the store's cache, else a read of the
// snapshot (organizations are never deleted, so the cache is true in every snapshot).
func (s *snap) org(ctx context.Context, public string) (int64, error) {
	s.db.mu.Lock()
	id, ok := s.db.cache.orgs[public]
	s.db.mu.Unlock()
	if ok {
		return id, nil
	}
	err := s.row(ctx, `SELECT id FROM orgs WHERE public_id = ?`, []any{public}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, mailtrail.Errorf(mailtrail.ENOTFOUND, "organization %q not found", public)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: org lookup: %w", err)
	}
	s.db.mu.Lock()
	s.db.cache.orgs[public] = id
	s.db.mu.Unlock()
	return id, nil
}

// campaignRow returns an organization's campaign (by row id of the organization), read
// once per snapshot; ENOTFOUND for a campaign it does not have.
func (s *snap) campaignRow(ctx context.Context, org int64, orgID, name string) (campRow, error) {
	k := campKey{orgID, name}
	if c, ok := s.camps[k]; ok {
		return c, nil
	}
	var c campRow
	err := s.row(ctx, `SELECT id, title, subject FROM campaigns WHERE org_id = ? AND name = ?`, []any{org, name}, &c.id, &c.title, &c.subject)
	if errors.Is(err, sql.ErrNoRows) {
		return campRow{}, mailtrail.Errorf(mailtrail.ENOTFOUND, "campaign %q not found", name)
	}
	if err != nil {
		return campRow{}, fmt.Errorf("sqlite: campaign: %w", err)
	}
	if s.camps == nil {
		s.camps = map[campKey]campRow{}
	}
	s.camps[k] = c
	return c, nil
}

// campaign returns the campaign of the organization with the public id; ENOTFOUND for an
// unknown organization or campaign.
func (s *snap) campaign(ctx context.Context, orgID, name string) (campRow, error) {
	org, err := s.org(ctx, orgID)
	if err != nil {
		return campRow{}, err
	}
	return s.campaignRow(ctx, org, orgID, name)
}

// prepareInBackground prepares q on the reader pool for the next View, unless it is being
// prepared already or the store is closing; Close cancels and waits for it.
func (db *DB) prepareInBackground(q string) {
	db.bgMu.Lock()
	defer db.bgMu.Unlock()
	if db.bgClosed {
		return
	}
	if _, busy := db.bgPreparing.LoadOrStore(q, struct{}{}); busy {
		return
	}
	db.bgWG.Add(1)
	go func() {
		defer db.bgWG.Done()
		defer db.bgPreparing.Delete(q)
		_, _ = db.rstmt(db.bgCtx, q)
	}()
}
