package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/mailtrail/mailtrail"
)

// ErrStorageUnavailable is the domain error of a write that failed because the disk is
// full or failing (SQLITE_FULL, SQLITE_IOERR, ENOSPC). Nothing of the write was kept; the
// HTTP layer answers 503 with Retry-After. Write errors of that kind wrap it.
var ErrStorageUnavailable = mailtrail.Errorf(mailtrail.EUNAVAILABLE, "the store cannot write now (disk full or failing); nothing was stored, retry later")

// SQLite primary result codes (the low byte of an extended code).
const (
	sqliteIOErr = 10
	sqliteFull  = 13
)

// storageFailure reports whether err says the disk is full or failing rather than that the
// write itself was wrong.
func storageFailure(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		switch coded.Code() & 0xff {
		case sqliteIOErr, sqliteFull:
			return true
		}
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EDQUOT)
}

// werr classifies the error of a write: a full or failing disk becomes an error wrapping
// ErrStorageUnavailable (and the original), marks the store not writable and is reported
// to the OnWriteUnavailable hook once. Other errors, and nil, are returned unchanged.
func (db *DB) werr(err error) error {
	if err == nil || errors.Is(err, ErrStorageUnavailable) || !storageFailure(err) {
		return err
	}
	db.healthMu.Lock()
	db.writeFailure = err
	hook := db.onUnavailable
	db.healthMu.Unlock()
	if hook != nil {
		hook()
	}
	return fmt.Errorf("%w: %w", ErrStorageUnavailable, err)
}

// wrote records that a write committed: the store is writable again.
func (db *DB) wrote() {
	db.healthMu.Lock()
	db.writeFailure = nil
	db.healthMu.Unlock()
	db.noteWAL()
}

// autocommit classifies the outcome of a write statement run outside a transaction (it
// commits by itself): nil marks the store writable again.
func (db *DB) autocommit(err error) error {
	if err == nil {
		db.wrote()
		return nil
	}
	return db.werr(err)
}

// Writable returns nil, or the error of the last write that failed for a full or failing
// disk when no write has committed since (readiness: a node that cannot write is not
// ready; it becomes ready again with the first write that commits, or Ping's probe).
func (db *DB) Writable() error {
	db.healthMu.Lock()
	defer db.healthMu.Unlock()
	if db.writeFailure != nil {
		return fmt.Errorf("sqlite: writes failing: %w", db.writeFailure)
	}
	return nil
}

// probeSize is the room probeWrite asks of the disk: about what a batch needs.
const probeSize = 1 << 20

// probeWrite writes, syncs and removes a file of probeSize bytes beside the database:
// when that works the disk has room again and the store is marked writable (its next
// write that fails marks it again). A write to the database itself is no probe: the WAL
// may still hold room from the writes that failed.
func (db *DB) probeWrite(context.Context) {
	f, err := os.CreateTemp(filepath.Dir(db.path), ".space-probe-*")
	if err != nil {
		return
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, probeSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr == nil {
		db.wrote()
	}
}

// OnWriteUnavailable sets f, called once for every write that fails for a full or failing
// disk (a metric). Set it before the first write; f must not block.
func (db *DB) OnWriteUnavailable(f func()) {
	db.healthMu.Lock()
	db.onUnavailable = f
	db.healthMu.Unlock()
}
