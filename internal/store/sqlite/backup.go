package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// KnownMigrations returns the names of the migrations this build embeds, in the order
// they are applied (e.g. "migrations/001_init.sql").
func KnownMigrations() []string {
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	return names
}

// openPlain opens the database file at path with one connection, without migrating it.
// The file must exist: a missing one is an error, never created.
func openPlain(path string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	v := url.Values{}
	v.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+abs+"?"+v.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// AppliedMigrations returns the names of the migrations applied to the store file at
// path, sorted. It does not migrate the file.
func AppliedMigrations(ctx context.Context, path string) ([]string, error) {
	db, err := openPlain(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return appliedMigrations(ctx, db)
}

func appliedMigrations(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: not a mailtrail store (no schema_migrations): %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// UnknownMigrations returns the applied migrations this build does not know: a store
// written by a newer mailtrail.
func UnknownMigrations(applied []string) []string {
	known := KnownMigrations()
	var out []string
	for _, n := range applied {
		if !slices.Contains(known, n) {
			out = append(out, n)
		}
	}
	return out
}

// Snapshot writes a consistent copy of the store file at src to dst (which must not
// exist, or be empty) with VACUUM INTO: one read transaction, so the copy holds every
// transaction committed before it began and nothing of those after. It runs beside a
// process that writes the store (WAL readers do not block the writer) and never migrates
// or writes src. It returns the migrations applied in the copy.
func Snapshot(ctx context.Context, src, dst string) ([]string, error) {
	db, err := openPlain(src)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	defer conn.Close()
	if _, err := appliedMigrations(ctx, conn); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
		return nil, fmt.Errorf("sqlite: vacuum into %s: %w", dst, err)
	}
	return AppliedMigrations(ctx, dst)
}

// ForgetPositions clears the log positions recorded in the store file at path (the
// projection_positions of an --event-log store): a restored copy is applied from no log
// that exists beside it, so its events become the starting point of a new log, as a
// store that never had one. A file made before the table existed is left as it is.
func ForgetPositions(ctx context.Context, path string) error {
	db, err := openPlain(path)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'projection_positions'`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if n == 0 {
		return nil
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM projection_positions`); err != nil {
		return fmt.Errorf("sqlite: forget the log positions: %w", err)
	}
	return nil
}

// Check runs SQLite's integrity check on the store file at path; an error says what is
// wrong.
func Check(ctx context.Context, path string) error {
	db, err := openPlain(path)
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check(1)`).Scan(&res); err != nil {
		return fmt.Errorf("sqlite: integrity check: %w", err)
	}
	if !strings.EqualFold(res, "ok") {
		return fmt.Errorf("sqlite: integrity check: %s", res)
	}
	return nil
}
