package clickhouse

import (
	"context"
	"strings"
)

// Field returns one column of the event id as ClickHouse holds it (TSV unescaped).
func (db *DB) Field(ctx context.Context, id, column string) (string, error) {
	out, err := db.do(ctx, "SELECT "+column+" FROM "+db.table("events")+" WHERE id = "+Quote(id)+" LIMIT 1 FORMAT TSVRaw", nil)
	return strings.TrimSuffix(out, "\n"), err
}

// Exec runs a statement (tests: SYSTEM STOP MERGES).
func (db *DB) Exec(ctx context.Context, query string) error { return db.exec(ctx, query) }

// Query runs a read and returns the server's answer as is (tests).
func (db *DB) Query(ctx context.Context, query string) (string, error) { return db.do(ctx, query, nil) }
