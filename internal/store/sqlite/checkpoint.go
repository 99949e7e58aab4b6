package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	msqlite "modernc.org/sqlite"
)

// checkpointPages is how many pages the writer appends to the WAL between two
// checkpoints: SQLite's own automatic checkpoint threshold (wal_autocheckpoint).
const checkpointPages = 1000

// The writer connection does not checkpoint the WAL itself (wal_autocheckpoint = 0).
// SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past its
// threshold, on the committing goroutine: it copies the WAL's pages into the database
// file between two fsyncs, and every write (the pipeline's batch, the projector's) waits
// for it. The checkpointer runs the same PASSIVE checkpoint on a connection of its own,
// after the writer has appended checkpointPages pages since the last one, while the
// writer goes on. A PASSIVE checkpoint never blocks the writer or the readers; what it
// cannot copy yet (pages a reader's snapshot still needs) the next one copies, as
// before. What is stored and when a commit is durable do not change: a commit is durable
// by its own WAL write (and fsync at synchronous=FULL), not by the checkpoint. boundWAL
// still forces a RESTART checkpoint on the writer when the WAL passes walLimit.

// startCheckpointer turns the writer's automatic checkpoints off and starts the
// checkpointer on a connection of its own (opened with dsn); Close stops it.
func (db *DB) startCheckpointer(ctx context.Context, dsn string) error {
	if _, err := db.wc.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		return fmt.Errorf("sqlite: wal_autocheckpoint: %w", err)
	}
	ck, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("sqlite: open the checkpointer: %w", err)
	}
	ck.SetMaxOpenConns(1)
	ck.SetMaxIdleConns(1)
	ck.SetConnMaxLifetime(0)
	ck.SetConnMaxIdleTime(0)
	db.ck = ck
	db.ckWake = make(chan struct{}, 1)
	db.bgWG.Add(1)
	go db.checkpointer()
	return nil
}

// checkpointer runs a PASSIVE checkpoint each time noteWAL asks for one, until Close.
// Its errors are dropped, as SQLite drops those of its automatic checkpoint: the commit
// that asked is durable already, and the next checkpoint tries again.
func (db *DB) checkpointer() {
	defer db.bgWG.Done()
	for {
		select {
		case <-db.bgCtx.Done():
			return
		case <-db.ckWake:
		}
		var busy, frames, done int
		if err := db.ck.QueryRowContext(db.bgCtx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &done); err == nil {
			db.checkpoints.Add(1)
		}
	}
}

// noteWAL counts the pages the writer connection appended to the WAL since it was last
// asked (SQLITE_DBSTATUS_CACHE_WRITE: in WAL mode, the pages written to the WAL, by any
// write of that connection) and wakes the checkpointer once they reach checkpointPages.
// The caller holds db.wmu or has just written through db.wc.
func (db *DB) noteWAL() {
	if db.ckWake == nil {
		return
	}
	pages := 0
	_ = db.wc.Raw(func(dc any) error {
		if s, ok := dc.(msqlite.DBStatus); ok {
			pages, _, _ = s.Status(msqlite.DBStatusCacheWrite, true)
		}
		return nil
	})
	if pages <= 0 {
		return
	}
	if n := db.walPages.Add(int64(pages)); n >= checkpointPages {
		db.walPages.Add(-n)
		select {
		case db.ckWake <- struct{}{}:
		default: // a checkpoint is asked for already
		}
	}
}
